/**
 * Private: the argument checks and small async helpers every `KeyStore` shares, so the three
 * stores refuse the same inputs with the same `KeyStoreError` messages.
 *
 * @module
 */

import { KeyStoreError, MAX_STORE_KEY_BYTES, MAX_STORE_VALUE_BYTES } from "./key_store.ts";
import { concatBytes } from "../ticket/bytes.ts";

const encoder = new TextEncoder();

/** The UTF-8 bytes of a prefix (possibly empty) of at most `MAX_STORE_KEY_BYTES`. */
export function prefixBytes(prefix: string): Uint8Array {
  const bytes = typeof prefix === "string" ? encoder.encode(prefix) : null;
  if (bytes === null || bytes.length > MAX_STORE_KEY_BYTES) {
    throw new KeyStoreError(`prefix must be a string of at most ${MAX_STORE_KEY_BYTES} bytes`);
  }
  return bytes;
}

/** The UTF-8 bytes of a record key of 1 to `MAX_STORE_KEY_BYTES` bytes. */
export function keyBytes(key: string): Uint8Array {
  const bytes = typeof key === "string" ? encoder.encode(key) : null;
  if (bytes === null || bytes.length === 0 || bytes.length > MAX_STORE_KEY_BYTES) {
    throw new KeyStoreError(`key must be a string of 1..${MAX_STORE_KEY_BYTES} UTF-8 bytes`);
  }
  return bytes;
}

/** Refuses anything but a `Uint8Array` of at most `MAX_STORE_VALUE_BYTES`. */
export function checkValue(value: Uint8Array): void {
  if (!(value instanceof Uint8Array) || value.length > MAX_STORE_VALUE_BYTES) {
    throw new KeyStoreError(`value must be a Uint8Array of at most ${MAX_STORE_VALUE_BYTES} bytes`);
  }
}

/** A TTL in seconds: absent, or a positive integer. */
export function checkTtl(ttl: number | undefined): number | undefined {
  if (ttl === undefined) return undefined;
  if (!Number.isSafeInteger(ttl) || ttl < 1) {
    throw new KeyStoreError("ttlSeconds must be a positive integer");
  }
  return ttl;
}

/** Calls a watch listener; a throwing one must not end the watch, so its error is rethrown later. */
export function safeCall(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

// ---------------------------------------------------------------------------------------------
// Store answers are untrusted input: bounded reads, one-line messages, type names for messages.

/**
 * The default cap on one answer from a store, in bytes: a whole etcd response body, one etcd
 * watch message, or the records of one Deno KV `list` (4 MiB; a fleet's records take a few KiB).
 */
export const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** An answer grew past its cap; whatever was read so far is dropped and the stream cancelled. */
export class AnswerTooLarge extends Error {
  /** @param limit The cap that was exceeded, in bytes. */
  constructor(readonly limit: number) {
    super(`answer is larger than ${limit} bytes`);
  }
}

/**
 * `text` as one line of at most `max` characters, for quoting a server's words in an error
 * message: control characters (newlines included) become spaces, runs of spaces one, and a
 * longer text is cut with "…".
 */
export function oneLine(text: string, max = 160): string {
  // deno-lint-ignore no-control-regex
  const controls = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g;
  const flat = text.replace(controls, " ").replace(/ {2,}/g, " ").trim();
  if (flat.length <= max) return flat;
  // Cut between characters, not inside a surrogate pair.
  const end = /[\ud800-\udbff]/.test(flat[max - 2]) ? max - 2 : max - 1;
  return `${flat.slice(0, end)}…`;
}

/** What kind of value `v` is, for a message ("a string", "an array", "null"): never the value. */
export function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "missing";
  if (Array.isArray(v)) return "an array";
  if (v instanceof Uint8Array) return "a Uint8Array";
  const t = typeof v;
  if (t === "object") {
    const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name !== "Object" && /^[A-Za-z0-9_$]{1,40}$/.test(name)
      ? `a ${name}`
      : "an object";
  }
  return `a ${t}`;
}

/**
 * Reads a whole body of at most `limit` bytes. Past the limit (or when `declared`, a
 * Content-Length, already says so) it cancels the stream and throws {@link AnswerTooLarge}, so
 * no more than `limit` bytes (plus one chunk) are ever held.
 */
export async function readCapped(
  body: ReadableStream<Uint8Array> | null,
  limit: number,
  declared: string | null = null,
): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > limit) {
    body.cancel().catch(() => {});
    throw new AnswerTooLarge(limit);
  }
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit) throw new AnswerTooLarge(limit);
      chunks.push(value);
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  }
  return concatBytes(chunks);
}

/**
 * The newline-separated messages of a stream (newline excluded, empty lines skipped), each at
 * most `limit` bytes: a longer one throws {@link AnswerTooLarge} before it is held whole. The
 * stream is cancelled when the reading stops, however it stops.
 */
export async function* readLines(
  body: ReadableStream<Uint8Array>,
  limit: number,
): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let parts: Uint8Array[] = [];
  let size = 0;
  const take = (piece: Uint8Array): void => {
    size += piece.length;
    if (size > limit) throw new AnswerTooLarge(limit);
    if (piece.length > 0) parts.push(piece);
  };
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      let start = 0;
      for (let nl = value.indexOf(10); nl >= 0; nl = value.indexOf(10, start)) {
        take(value.subarray(start, nl));
        start = nl + 1;
        const line = concatBytes(parts);
        parts = [];
        size = 0;
        if (line.length > 0) yield line;
      }
      take(value.subarray(start));
    }
    if (size > 0) yield concatBytes(parts);
  } finally {
    reader.cancel().catch(() => {});
  }
}
