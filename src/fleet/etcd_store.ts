/**
 * A {@link KeyStore} for etcd v3 through its JSON gateway (`POST /v3/kv/range`, `/v3/kv/txn`,
 * `/v3/kv/deleterange`, `/v3/lease/grant`, `/v3/watch`) with `fetch` only: the paths of etcd
 * 3.4 and later. Keys and values travel base64-encoded; int64 fields are decimal strings.
 *
 * - Several endpoints (the members of one cluster): a request goes to the endpoint that last
 *   answered and moves on to the next one on a network error, a timeout or an "unavailable"
 *   answer (no leader, request timed out); when every endpoint failed it rejects with
 *   {@link KeyStoreUnavailableError}.
 * - `createIfAbsent` is one transaction: `compare CREATE(key) == 0` then `put`, so exactly one
 *   of any number of racing writers wins. With a TTL the put carries a lease granted first.
 * - `watch` holds a streaming `/v3/watch` request, checks the member behind it every
 *   `watchCheckIntervalMs` with a linearizable read (a member cut off from the quorum stops
 *   delivering events without closing the stream), and on any failure reconnects to the next
 *   endpoint with exponential backoff, calling `onChange` once reconnected.
 * - Answers are untrusted input. A body is read up to `maxResponseBytes` (4 MiB; for a watch,
 *   per message) and the stream is cancelled past it; every field used is checked for its type
 *   (`kvs` an array of objects with base64 `key`/`value` and a decimal `mod_revision`,
 *   `header.revision`, `succeeded` a boolean, a lease `ID`, watch `result`s and `events`)
 *   before use. An answer etcd never gives (not JSON, a wrong shape, bad base64, a key outside
 *   the range asked for, too large) means the endpoint is not a working etcd member (a wrong
 *   service, a broken proxy, tampering): it counts as a failure of that endpoint, like a
 *   network error, so the request moves on to the next one, and when no endpoint gives a usable
 *   answer the call rejects with {@link KeyStoreUnavailableError}, whose one-line message names
 *   each endpoint's reason. A watch stream that carries such a message is dropped and
 *   reconnected with growing backoff. An etcd refusal (a JSON error with a non-retryable gRPC
 *   code, or HTTP 4xx) is a {@link KeyStoreError}. Messages quote at most a short, one-line
 *   excerpt of an etcd error's `message`, never a body or a value.
 *
 * @module
 */

import { sameBytes } from "../ticket/bytes.ts";
import {
  type KeyStore,
  KeyStoreError,
  KeyStoreUnavailableError,
  type StoredRecord,
} from "./key_store.ts";
import {
  AnswerTooLarge,
  checkTtl,
  checkValue,
  keyBytes,
  kindOf,
  MAX_ANSWER_BYTES,
  oneLine,
  prefixBytes,
  readCapped,
  readLines,
  safeCall,
  sleep,
} from "./_store_checks.ts";

/** Options for {@link EtcdKeyStore}. */
export interface EtcdKeyStoreOptions {
  /** Client URLs of the cluster's members, e.g. `"http://127.0.0.1:2379"` (at least one). */
  endpoints: string[];
  /** Time limit of one request to one endpoint, in ms (default 2000). */
  requestTimeoutMs?: number;
  /** First delay before a watch reconnects, in ms; doubles per failure (default 100). */
  reconnectDelayMs?: number;
  /** Largest delay between watch reconnects, in ms (default 2000). */
  maxReconnectDelayMs?: number;
  /** How often a watch checks that its member still has a quorum, in ms (default 2000). */
  watchCheckIntervalMs?: number;
  /** Largest answer accepted, in bytes: a whole response body, or one watch message (default 4 MiB). */
  maxResponseBytes?: number;
}

/** Unavailable on this endpoint: try another. `maybeApplied`: the request may have run. */
class EndpointFailure extends Error {
  constructor(message: string, readonly maybeApplied: boolean) {
    super(message);
  }
}

/** An answer of a shape etcd never gives; the message says which field and what it held. */
class MalformedAnswer extends Error {}

/** Turns one answer (a JSON object) into what the caller needs; throws MalformedAnswer. */
type Parse<T> = (answer: Record<string, unknown>) => T;

const decoder = new TextDecoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** gRPC codes that mean "try another member": CANCELLED, UNKNOWN, DEADLINE_EXCEEDED,
 * RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE. */
const RETRYABLE_CODES = new Set([1, 2, 4, 8, 10, 13, 14]);

/**
 * {@link KeyStore} on an etcd v3 cluster, over HTTP with `fetch` (no client library).
 *
 * @example
 * ```ts ignore
 * import { EtcdKeyStore } from "@seed/session-tickets/fleet";
 * const store = new EtcdKeyStore({
 *   endpoints: ["http://127.0.0.1:2379", "http://127.0.0.1:22379", "http://127.0.0.1:32379"],
 * });
 * console.log(await store.createIfAbsent("prod/keys/1", new Uint8Array([1]), { ttlSeconds: 60 }));
 * const stop = new AbortController();
 * store.watch("prod/keys/", () => console.log("changed"), stop.signal);
 * stop.abort();
 * await store.close();
 * ```
 */
export class EtcdKeyStore implements KeyStore {
  readonly #endpoints: string[];
  readonly #timeoutMs: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #checkMs: number;
  readonly #maxBytes: number;
  readonly #closing = new AbortController();
  readonly #loops = new Set<Promise<void>>();
  #current = 0;
  #closed = false;
  #serverDate: { date: number; at: number } | null = null;

  /**
   * Creates a client; no connection is made until the first call.
   *
   * @param options Endpoints and timings.
   * @throws {KeyStoreError} for no endpoints, a URL that is not http(s), or a bad timing.
   *
   * @example
   * ```ts
   * import { EtcdKeyStore } from "@seed/session-tickets/fleet";
   * const store = new EtcdKeyStore({ endpoints: ["http://127.0.0.1:2379"] });
   * await store.close();
   * ```
   */
  constructor(options: EtcdKeyStoreOptions) {
    const endpoints = options?.endpoints;
    if (!Array.isArray(endpoints) || endpoints.length === 0) {
      throw new KeyStoreError("etcd: at least one endpoint is required");
    }
    this.#endpoints = endpoints.map((e) => {
      let url: URL;
      try {
        url = new URL(String(e));
      } catch {
        throw new KeyStoreError(`etcd: endpoint is not a URL: ${String(e)}`);
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new KeyStoreError(`etcd: endpoint must be http(s): ${url.origin}`);
      }
      return url.origin + url.pathname.replace(/\/+$/, "");
    });
    this.#timeoutMs = positive(options.requestTimeoutMs ?? 2000, "requestTimeoutMs");
    this.#backoffMs = positive(options.reconnectDelayMs ?? 100, "reconnectDelayMs");
    this.#maxBackoffMs = positive(options.maxReconnectDelayMs ?? 2000, "maxReconnectDelayMs");
    this.#checkMs = positive(options.watchCheckIntervalMs ?? 2000, "watchCheckIntervalMs");
    const max = options.maxResponseBytes ?? MAX_ANSWER_BYTES;
    if (!Number.isSafeInteger(max) || max < 1024) {
      throw new KeyStoreError("etcd: maxResponseBytes must be an integer >= 1024");
    }
    this.#maxBytes = max;
  }

  /** {@inheritDoc KeyStore.list} */
  async list(prefix: string): Promise<StoredRecord[]> {
    const p = prefixBytes(prefix);
    const out = await this.#call("kv/range", rangeOf(p), (res) => {
      const records = recordsOf(res, "kvs", (k) => startsWith(k, p));
      checkHeader(res);
      return records;
    });
    return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  }

  /** {@inheritDoc KeyStore.get} */
  async get(key: string): Promise<StoredRecord | null> {
    const k = keyBytes(key);
    return await this.#call("kv/range", { key: b64(k) }, (res) => {
      const records = recordsOf(res, "kvs", (got) => sameBytes(got, k));
      if (records.length > 1) throw new MalformedAnswer(`kvs holds ${records.length} records`);
      checkHeader(res);
      return records[0] ?? null;
    });
  }

  /**
   * {@inheritDoc KeyStore.createIfAbsent}
   *
   * If a transaction times out on one member and is retried on another, it may in fact have
   * been applied by the first; the retry then finds the record and counts it as this call's own
   * when its bytes equal `value`. Values that racing writers could share byte for byte (unlike
   * freshly wrapped keys) can then make two calls report true.
   */
  async createIfAbsent(
    key: string,
    value: Uint8Array,
    options: { ttlSeconds?: number } = {},
  ): Promise<boolean> {
    const k = keyBytes(key);
    return await this.#putIf(k, value, options, {
      key: b64(k),
      target: "CREATE",
      result: "EQUAL",
      create_revision: "0",
    });
  }

  /**
   * One transaction: `compare` then put `value` (under a new lease when a TTL is given). A
   * retry after a lost answer may find this very put already committed: it counts as this
   * call's own when the bytes equal `value`.
   */
  async #putIf(
    k: Uint8Array,
    value: Uint8Array,
    options: { ttlSeconds?: number },
    compare: Record<string, string>,
  ): Promise<boolean> {
    checkValue(value);
    const ttl = checkTtl(options?.ttlSeconds);
    const put: Record<string, string> = { key: b64(k), value: b64(value) };
    if (ttl !== undefined) {
      put.lease = await this.#call("lease/grant", { TTL: String(ttl) }, leaseOf);
    }
    const body = {
      compare: [compare],
      success: [{ request_put: put }],
      failure: [{ request_range: { key: b64(k) } }],
    };
    let ambiguous = false;
    const res = await this.#call("kv/txn", body, (res) => txnOf(res, k), (maybeApplied) => {
      ambiguous ||= maybeApplied;
    });
    if (res.succeeded) return true;
    if (!ambiguous) return false;
    return res.existing !== null && sameBytes(res.existing.value, value);
  }

  /**
   * {@inheritDoc KeyStore.replaceIf}
   *
   * One transaction: `compare MOD(key) == version` then `put`. A retry after a lost answer
   * finds the record at a new revision; it counts as this call's own when its bytes equal
   * `value`.
   */
  async replaceIf(
    key: string,
    version: string,
    value: Uint8Array,
    options: { ttlSeconds?: number } = {},
  ): Promise<boolean> {
    const k = keyBytes(key);
    if (typeof version !== "string" || !/^[1-9][0-9]{0,18}$/.test(version)) {
      throw new KeyStoreError(`etcd: a record version is a positive decimal revision`);
    }
    return await this.#putIf(k, value, options, {
      key: b64(k),
      target: "MOD",
      result: "EQUAL",
      mod_revision: version,
    });
  }

  /** {@inheritDoc KeyStore.delete} */
  async delete(key: string): Promise<void> {
    await this.#call("kv/deleterange", { key: b64(keyBytes(key)) }, checkHeader);
  }

  /** {@inheritDoc KeyStore.watch} */
  watch(prefix: string, onChange: () => void, signal: AbortSignal): void {
    const p = prefixBytes(prefix);
    if (signal.aborted || this.#closed) return;
    const stop = AbortSignal.any([signal, this.#closing.signal]);
    const loop = this.#watchLoop(p, onChange, stop);
    this.#loops.add(loop);
    loop.finally(() => this.#loops.delete(loop));
  }

  /**
   * {@inheritDoc KeyStore.time}
   *
   * From the `Date` header of etcd's last answer (whole seconds, so the middle of that second),
   * advanced by the time since it arrived.
   *
   * @example
   * ```ts
   * import { EtcdKeyStore } from "@seed/session-tickets/fleet";
   * const store = new EtcdKeyStore({ endpoints: ["http://127.0.0.1:1"] });
   * console.log(store.time()); // null (no answer yet)
   * await store.close();
   * ```
   */
  time(): number | null {
    const d = this.#serverDate;
    return d === null ? null : d.date + 500 + (Date.now() - d.at);
  }

  /** {@inheritDoc KeyStore.close} */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    await Promise.allSettled([...this.#loops]);
  }

  /**
   * One request, tried on each endpoint in turn starting with the last one that answered.
   * `onFailure` hears about every failed attempt (and whether it may have been applied).
   */
  async #call<T>(
    path: string,
    body: unknown,
    parse: Parse<T>,
    onFailure?: (maybeApplied: boolean) => void,
  ): Promise<T> {
    if (this.#closed) throw new KeyStoreUnavailableError(`etcd: ${path} after close()`);
    const n = this.#endpoints.length;
    const start = this.#current;
    const reasons: string[] = [];
    for (let i = 0; i < n; i++) {
      const index = (start + i) % n;
      const endpoint = this.#endpoints[index];
      try {
        const res = await this.#post(endpoint, path, body, parse, this.#closing.signal);
        this.#current = index;
        return res;
      } catch (e) {
        if (!(e instanceof EndpointFailure)) throw e;
        onFailure?.(e.maybeApplied);
        reasons.push(`${endpoint}: ${e.message}`);
        if (this.#closed) break;
      }
    }
    this.#current = (start + 1) % n;
    throw new KeyStoreUnavailableError(
      `etcd: ${path} failed on every endpoint (${reasons.join("; ")})`,
    );
  }

  /**
   * One request to one endpoint with the time limit (which covers reading the answer), its
   * answer read up to the size cap and checked by `parse`. Throws EndpointFailure (this
   * endpoint failed: unreachable, unavailable, or an answer etcd never gives) or KeyStoreError
   * (etcd refused the request).
   */
  async #post<T>(
    endpoint: string,
    path: string,
    body: unknown,
    parse: Parse<T>,
    stop: AbortSignal,
  ): Promise<T> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#timeoutMs);
    // Aborted when this attempt ends, so an answer left unread never holds the connection.
    const done = new AbortController();
    let sent = false;
    try {
      const res = await fetch(`${endpoint}/v3/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: AbortSignal.any([timeout.signal, stop, done.signal]),
      });
      sent = true;
      const date = Date.parse(res.headers.get("date") ?? "");
      if (Number.isFinite(date)) this.#serverDate = { date, at: Date.now() };
      const bytes = await readCapped(res.body, this.#maxBytes, res.headers.get("content-length"));
      const json = parseJson(bytes);
      if (res.ok) {
        if (json === undefined) {
          throw new EndpointFailure(`answer is not JSON (HTTP ${res.status})`, true);
        }
        return parse(object(json, "answer"));
      }
      const error = json !== null && typeof json === "object" && !Array.isArray(json)
        ? json as Record<string, unknown>
        : {};
      const code = typeof error.code === "number" ? error.code : -1;
      const said = typeof error.message === "string"
        ? error.message
        : typeof error.error === "string"
        ? error.error
        : "";
      const detail = said !== ""
        ? `${oneLine(said, 120)} (HTTP ${res.status})`
        : `HTTP ${res.status}${json === undefined && bytes.length > 0 ? ", body is not JSON" : ""}`;
      if (res.status >= 500 || RETRYABLE_CODES.has(code)) throw new EndpointFailure(detail, true);
      throw new KeyStoreError(`etcd: ${path} refused: ${detail}`);
    } catch (e) {
      if (e instanceof EndpointFailure || e instanceof KeyStoreError) throw e;
      if (e instanceof MalformedAnswer) {
        throw new EndpointFailure(`malformed answer: ${e.message}`, true);
      }
      if (e instanceof AnswerTooLarge) {
        throw new EndpointFailure(`${e.message} (maxResponseBytes)`, true);
      }
      if (timeout.signal.aborted) {
        throw new EndpointFailure(`no answer in ${this.#timeoutMs} ms`, true);
      }
      if (stop.aborted) throw new EndpointFailure("closed", false);
      // Deno's fetch says "fetch failed" and puts the reason in `cause`.
      const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : "";
      const message = cause || (e instanceof Error ? e.message : String(e));
      // A failed connect cannot have delivered the request; anything else might have.
      const connectFailed = !sent &&
        /client error \(Connect\)|connection refused|os error 111|dns error/i.test(message);
      throw new EndpointFailure(shortReason(message), !connectFailed);
    } finally {
      clearTimeout(timer);
      done.abort();
    }
  }

  async #watchLoop(prefix: Uint8Array, onChange: () => void, stop: AbortSignal): Promise<void> {
    let delay = this.#backoffMs;
    let index = this.#current;
    while (!stop.aborted) {
      const healthy = await this.#watchOnce(this.#endpoints[index], prefix, onChange, stop);
      if (stop.aborted) break;
      if (healthy) delay = this.#backoffMs;
      index = (index + 1) % this.#endpoints.length;
      await sleep(delay, stop);
      delay = Math.min(delay * 2, this.#maxBackoffMs);
    }
  }

  /**
   * One watch stream on one endpoint until it ends. True if it was established and ended
   * without a malformed or oversized message (so the reconnect backoff starts over).
   */
  async #watchOnce(
    endpoint: string,
    prefix: Uint8Array,
    onChange: () => void,
    stop: AbortSignal,
  ): Promise<boolean> {
    const conn = new AbortController();
    const abortConn = () => conn.abort();
    stop.addEventListener("abort", abortConn, { once: true });
    // Until the watch is created, the request time limit applies.
    let timer: ReturnType<typeof setTimeout> | undefined = setTimeout(abortConn, this.#timeoutMs);
    let checker: ReturnType<typeof setInterval> | undefined;
    let checking = false;
    let established = false;
    let malformed = false;
    try {
      const res = await fetch(`${endpoint}/v3/watch`, {
        method: "POST",
        // Ask etcd to cancel the watch if the member loses its leader.
        headers: { "content-type": "application/json", "grpc-metadata-hasleader": "true" },
        body: JSON.stringify({
          create_request: rangeOf(prefix),
        }),
        signal: conn.signal,
      });
      if (!res.ok || res.body === null) {
        await res.body?.cancel();
        return false;
      }
      for await (const line of readLines(res.body, this.#maxBytes)) {
        const json = parseJson(line);
        if (json === undefined) throw new MalformedAnswer("watch message is not JSON");
        const msg = watchMessageOf(json);
        if (msg.ended) break;
        if (!established) {
          // The first message of a stream must be the one that creates the watch.
          if (!msg.created) throw new MalformedAnswer("watch stream did not start with created");
          // A member cut off from the quorum accepts watches but delivers nothing: count the
          // watch as established only once this member serves a linearizable read.
          const probe = () =>
            this.#post(
              endpoint,
              "kv/range",
              { key: "AA==", count_only: true },
              checkHeader,
              conn.signal,
            );
          await probe();
          established = true;
          clearTimeout(timer);
          timer = undefined;
          this.#current = this.#endpoints.indexOf(endpoint);
          checker = setInterval(() => {
            if (checking) return;
            checking = true;
            probe().catch(() => conn.abort()).finally(() => checking = false);
          }, this.#checkMs);
          safeCall(onChange);
        } else if (msg.events > 0) {
          safeCall(onChange);
        }
      }
    } catch (e) {
      // Network error, member gone, aborted: reconnect (or stop). A malformed or oversized
      // message: the same, but the backoff keeps growing.
      malformed = e instanceof MalformedAnswer || e instanceof AnswerTooLarge;
    } finally {
      clearTimeout(timer);
      clearInterval(checker);
      stop.removeEventListener("abort", abortConn);
      conn.abort();
    }
    return established && !malformed;
  }
}

/** The informative tail of a fetch error ("tcp connect error: Connection refused ..."). */
function shortReason(message: string): string {
  const line = message.split("\n")[0];
  const at = line.indexOf("): ", line.indexOf("client error ("));
  const tail = line.includes("client error (") && at >= 0 ? line.slice(at + 3) : line;
  return tail.slice(0, 160);
}

// ---------------------------------------------------------------------------------------------
// The shapes of etcd's answers. Each check throws MalformedAnswer naming the field and the kind
// of value found there (never the value).

/** `what` held `v` where it should have held `expected`: "kvs is an object, not an array". */
function malformed(what: string, v: unknown, expected: string): MalformedAnswer {
  return new MalformedAnswer(
    v === undefined ? `${what} is missing` : `${what} is ${kindOf(v)}, not ${expected}`,
  );
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw malformed(what, v, "an object");
  }
  return v as Record<string, unknown>;
}

/** An array, or [] when absent (etcd's JSON leaves out empty fields). */
function optionalArray(v: unknown, what: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw malformed(what, v, "an array");
  return v;
}

/** A boolean, or false when absent. */
function optionalBoolean(v: unknown, what: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw malformed(what, v, "a boolean");
  return v;
}

const INT64_MAX = 2n ** 63n - 1n;

/** A positive int64 as etcd writes it: a decimal string. */
function revision(v: unknown, what: string): string {
  if (typeof v !== "string") throw malformed(what, v, "a decimal string");
  if (!/^[1-9][0-9]{0,18}$/.test(v) || BigInt(v) > INT64_MAX) {
    throw new MalformedAnswer(`${what} is not a positive decimal int64`);
  }
  return v;
}

function base64(v: unknown, what: string): Uint8Array {
  if (typeof v !== "string") throw malformed(what, v, "a base64 string");
  try {
    return Uint8Array.fromBase64(v);
  } catch {
    throw new MalformedAnswer(`${what} is not base64`);
  }
}

/** Every etcd answer carries `header.revision`. */
function checkHeader(res: Record<string, unknown>): void {
  revision(object(res.header, "header").revision, "header.revision");
}

/**
 * The records of a range answer's `kvs`: objects with a base64 `key` that `wanted` accepts (in
 * the range asked for), an optional base64 `value` and a `mod_revision`; no key twice.
 */
function recordsOf(
  res: Record<string, unknown>,
  what: string,
  wanted: (key: Uint8Array) => boolean,
): StoredRecord[] {
  const seen = new Set<string>();
  return optionalArray(res.kvs, what).map((item, i) => {
    const kv = object(item, `${what}[${i}]`);
    const key = base64(kv.key, `${what}[${i}].key`);
    if (key.length === 0 || !wanted(key)) {
      throw new MalformedAnswer(`${what}[${i}].key is outside the range asked for`);
    }
    if (seen.has(kv.key as string)) throw new MalformedAnswer(`${what}[${i}].key is repeated`);
    seen.add(kv.key as string);
    // An empty value is left out of the JSON.
    const value = kv.value === undefined
      ? new Uint8Array(0)
      : base64(kv.value, `${what}[${i}].value`);
    const version = revision(kv.mod_revision, `${what}[${i}].mod_revision`);
    return { key: decoder.decode(key), value, version };
  });
}

/** A txn answer: `succeeded` (false when left out), and on failure the record found. */
function txnOf(
  res: Record<string, unknown>,
  key: Uint8Array,
): { succeeded: boolean; existing: StoredRecord | null } {
  const succeeded = optionalBoolean(res.succeeded, "succeeded");
  const responses = optionalArray(res.responses, "responses");
  let existing: StoredRecord | null = null;
  if (!succeeded) {
    // The failure branch is one range of the key.
    if (responses.length !== 1) {
      throw new MalformedAnswer(`responses holds ${responses.length} entries, not 1`);
    }
    const first = object(responses[0], "responses[0]");
    const range = object(first.response_range, "responses[0].response_range");
    const what = "responses[0].response_range.kvs";
    const records = recordsOf(range, what, (got) => sameBytes(got, key));
    if (records.length > 1) throw new MalformedAnswer(`${what} holds ${records.length} records`);
    existing = records[0] ?? null;
  }
  checkHeader(res);
  return { succeeded, existing };
}

/** A lease grant's ID; an `error` in the answer is etcd refusing the grant. */
function leaseOf(res: Record<string, unknown>): string {
  if (typeof res.error === "string" && res.error !== "") {
    throw new KeyStoreError(`etcd: lease/grant refused: ${oneLine(res.error, 120)}`);
  }
  const id = revision(res.ID, "ID");
  checkHeader(res);
  return id;
}

/**
 * One watch stream message: `{ result: { header, created?, canceled?, events? } }`, or
 * `{ error }` (the gateway ending the stream). `ended`: the stream is over.
 */
function watchMessageOf(json: unknown): { ended: boolean; created: boolean; events: number } {
  const msg = object(json, "watch message");
  if (msg.error !== undefined) return { ended: true, created: false, events: 0 };
  const result = object(msg.result, "result");
  const created = optionalBoolean(result.created, "result.created");
  const canceled = optionalBoolean(result.canceled, "result.canceled");
  const events = optionalArray(result.events, "result.events");
  events.forEach((item, i) => {
    const event = object(item, `result.events[${i}]`);
    if (event.type !== undefined && event.type !== "PUT" && event.type !== "DELETE") {
      throw new MalformedAnswer(`result.events[${i}].type is not PUT or DELETE`);
    }
    const kv = object(event.kv, `result.events[${i}].kv`);
    base64(kv.key, `result.events[${i}].kv.key`);
  });
  revision(object(result.header, "result.header").revision, "result.header.revision");
  return { ended: canceled, created, events: events.length };
}

/** etcd's key range for "every key starting with prefix": [prefix, prefix + 1); the whole
 * keyspace ["\0", "\0") for an empty prefix (etcd refuses an empty key). */
function rangeOf(prefix: Uint8Array): { key: string; range_end: string } {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return { key: b64(prefix), range_end: b64(end.subarray(0, i + 1)) };
    }
  }
  // Empty, or all 0xff bytes (not valid UTF-8, so never a prefix here): everything from it on.
  return { key: prefix.length === 0 ? "AA==" : b64(prefix), range_end: "AA==" };
}

function b64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/** The JSON in `bytes` (UTF-8), or undefined when they are not JSON. */
function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(strictDecoder.decode(bytes));
  } catch {
    return undefined;
  }
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((x, i) => x === bytes[i]);
}

function positive(n: number, name: string): number {
  if (!Number.isFinite(n) || n <= 0) throw new KeyStoreError(`etcd: ${name} must be > 0`);
  return n;
}
