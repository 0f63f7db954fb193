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
 *
 * @module
 */

import {
  type KeyStore,
  KeyStoreError,
  KeyStoreUnavailableError,
  type StoredRecord,
} from "./key_store.ts";
import { checkTtl, checkValue, keyBytes, prefixBytes, safeCall, sleep } from "./_store_checks.ts";

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
}

interface EtcdKv {
  key?: string;
  value?: string;
  mod_revision?: string;
}

/** Unavailable on this endpoint: try another. `maybeApplied`: the request may have run. */
class EndpointFailure extends Error {
  constructor(message: string, readonly maybeApplied: boolean) {
    super(message);
  }
}

const decoder = new TextDecoder();

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
  readonly #closing = new AbortController();
  readonly #loops = new Set<Promise<void>>();
  #current = 0;
  #closed = false;

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
  }

  /** {@inheritDoc KeyStore.list} */
  async list(prefix: string): Promise<StoredRecord[]> {
    const p = prefixBytes(prefix);
    const res = await this.#call("kv/range", rangeOf(p));
    const out = ((res.kvs ?? []) as EtcdKv[]).map(toRecord);
    return out.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  }

  /** {@inheritDoc KeyStore.get} */
  async get(key: string): Promise<StoredRecord | null> {
    const k = keyBytes(key);
    const res = await this.#call("kv/range", { key: b64(k) });
    const kvs = (res.kvs ?? []) as EtcdKv[];
    return kvs.length === 0 ? null : toRecord(kvs[0]);
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
    checkValue(value);
    const ttl = checkTtl(options?.ttlSeconds);
    const put: Record<string, string> = { key: b64(k), value: b64(value) };
    if (ttl !== undefined) {
      const lease = await this.#call("lease/grant", { TTL: String(ttl) });
      if (typeof lease.ID !== "string") throw new KeyStoreError("etcd: lease/grant gave no ID");
      put.lease = lease.ID;
    }
    const body = {
      compare: [{ key: b64(k), target: "CREATE", result: "EQUAL", create_revision: "0" }],
      success: [{ request_put: put }],
      failure: [{ request_range: { key: b64(k) } }],
    };
    let ambiguous = false;
    const res = await this.#call("kv/txn", body, (maybeApplied) => {
      ambiguous ||= maybeApplied;
    });
    if (res.succeeded === true) return true;
    if (!ambiguous) return false;
    // An earlier attempt may have committed this very put before its answer was lost.
    const responses = (res.responses ?? []) as { response_range?: { kvs?: EtcdKv[] } }[];
    const found = responses[0]?.response_range?.kvs?.[0];
    return found !== undefined && equalBytes(unb64(found.value ?? ""), value);
  }

  /** {@inheritDoc KeyStore.delete} */
  async delete(key: string): Promise<void> {
    await this.#call("kv/deleterange", { key: b64(keyBytes(key)) });
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
  async #call(
    path: string,
    body: unknown,
    onFailure?: (maybeApplied: boolean) => void,
  ): Promise<Record<string, unknown>> {
    if (this.#closed) throw new KeyStoreUnavailableError(`etcd: ${path} after close()`);
    const n = this.#endpoints.length;
    const start = this.#current;
    const reasons: string[] = [];
    for (let i = 0; i < n; i++) {
      const index = (start + i) % n;
      const endpoint = this.#endpoints[index];
      try {
        const res = await this.#post(endpoint, path, body, this.#closing.signal);
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

  /** One request to one endpoint with the time limit; throws EndpointFailure or KeyStoreError. */
  async #post(
    endpoint: string,
    path: string,
    body: unknown,
    stop: AbortSignal,
    headers: Record<string, string> = {},
  ): Promise<Record<string, unknown>> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#timeoutMs);
    let sent = false;
    try {
      const res = await fetch(`${endpoint}/v3/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(body),
        signal: AbortSignal.any([timeout.signal, stop]),
      });
      sent = true;
      const text = await res.text();
      const json = parseJson(text);
      if (res.ok && json !== null) return json;
      const code = typeof json?.code === "number" ? json.code : -1;
      const message = typeof json?.message === "string"
        ? json.message
        : typeof json?.error === "string"
        ? json.error
        : `HTTP ${res.status}`;
      if (res.status >= 500 || RETRYABLE_CODES.has(code)) {
        throw new EndpointFailure(`${message} (HTTP ${res.status})`, true);
      }
      throw new KeyStoreError(`etcd: ${path} refused: ${message} (HTTP ${res.status})`);
    } catch (e) {
      if (e instanceof EndpointFailure || e instanceof KeyStoreError) throw e;
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
    }
  }

  async #watchLoop(prefix: Uint8Array, onChange: () => void, stop: AbortSignal): Promise<void> {
    let delay = this.#backoffMs;
    let index = this.#current;
    while (!stop.aborted) {
      const established = await this.#watchOnce(this.#endpoints[index], prefix, onChange, stop);
      if (stop.aborted) break;
      if (established) delay = this.#backoffMs;
      index = (index + 1) % this.#endpoints.length;
      await sleep(delay, stop);
      delay = Math.min(delay * 2, this.#maxBackoffMs);
    }
  }

  /** One watch stream on one endpoint until it fails; true if it was established. */
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
      const lines = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(splitLines());
      for await (const line of lines) {
        const msg = parseJson(line);
        const result = msg?.result as Record<string, unknown> | undefined;
        if (result === undefined || msg?.error !== undefined) break;
        if (result.canceled === true) break;
        if (result.created === true && !established) {
          // A member cut off from the quorum accepts watches but delivers nothing: count the
          // watch as established only once this member serves a linearizable read.
          const probe = () =>
            this.#post(
              endpoint,
              "kv/range",
              { key: "AA==", count_only: true },
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
        } else if (Array.isArray(result.events) && result.events.length > 0) {
          safeCall(onChange);
        }
      }
    } catch {
      // network error, member gone, aborted: reconnect (or stop)
    } finally {
      clearTimeout(timer);
      clearInterval(checker);
      stop.removeEventListener("abort", abortConn);
      conn.abort();
    }
    return established;
  }
}

/** The informative tail of a fetch error ("tcp connect error: Connection refused ..."). */
function shortReason(message: string): string {
  const line = message.split("\n")[0];
  const at = line.indexOf("): ", line.indexOf("client error ("));
  const tail = line.includes("client error (") && at >= 0 ? line.slice(at + 3) : line;
  return tail.slice(0, 160);
}

function toRecord(kv: EtcdKv): StoredRecord {
  return {
    key: decoder.decode(unb64(kv.key ?? "")),
    value: unb64(kv.value ?? ""),
    version: kv.mod_revision ?? "0",
  };
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

function unb64(text: string): Uint8Array {
  try {
    return Uint8Array.fromBase64(text);
  } catch {
    throw new KeyStoreError("etcd: answer holds malformed base64");
  }
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function positive(n: number, name: string): number {
  if (!Number.isFinite(n) || n <= 0) throw new KeyStoreError(`etcd: ${name} must be > 0`);
  return n;
}

function splitLines(): TransformStream<string, string> {
  let buffered = "";
  return new TransformStream({
    transform(chunk, controller) {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line.length > 0) controller.enqueue(line);
      }
    },
    flush(controller) {
      if (buffered.trim().length > 0) controller.enqueue(buffered.trim());
    },
  });
}
