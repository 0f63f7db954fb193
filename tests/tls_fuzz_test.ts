// A fuzz test of the TLS 1.3 server: at least 100,000 mutated ClientHellos and records are sent
// to live in-memory connections (`acceptTls` over tests/_memory_transport.ts), and every one must
// end in a completed step or in a TlsAlert with a known RFC 8446 alert number (which the server
// also wrote as its last record) or a TlsConnectionError: never another exception, never an
// internal_error wrapping one, never a hang, never an unhandled rejection.
//
// Seeds are real messages made by tests/_tls13_client.ts against the same server: ClientHellos
// (plain, rich, P-384, share-less for a HelloRetryRequest, with a valid PSK from one of the
// engine's tickets, with two identities), second ClientHellos after a HelloRetryRequest, and, on
// a deterministic server (fixed random, fixed ephemeral keys, an Ed25519 certificate, so the
// whole transcript repeats), the client Finished and post-handshake records (application data,
// KeyUpdate, alerts, handshake messages), mutated as plaintext and re-sealed or mutated as
// ciphertext. Mutations: bit flips, interesting bytes, truncation, extension, insertion,
// deletion, duplication, length-field edits (structure-aware for ClientHellos), extension-list
// edits, splices between seeds, and record-framing changes (fragmentation, ChangeCipherSpec,
// header edits, trailing data).
//
// Every case has its own PRNG seeded from (FUZZ_SEED, case index), and the server is
// deterministic (fixed certificate, ticket keys, clock, random and ephemeral keys; the seeds use
// fixed client randoms and keys), so a failure reproduces with
// `FUZZ_SEED=<seed> FUZZ_ONLY=<index> deno test -A tests/tls_fuzz_test.ts` (same mutations; only
// the IV inside the PSK seeds' ticket differs between runs) and exactly with
// `FUZZ_REPLAY=<input hex>` (the hex printed with the failure). FUZZ_CASES sets the number of
// cases (default 100,000).
import assert from "node:assert/strict";
import { TlsAlert } from "../src/server/alert.ts";
import { SslContext } from "../src/server/ssl_context.ts";
import { ServerCredentials } from "../src/tls/certificate.ts";
import { acceptTls, type TlsConnectionOptions } from "../src/tls/connection.ts";
import { TlsConnectionError } from "../src/tls/errors.ts";
import { trafficKey } from "../src/tls/key_schedule.ts";
import {
  type ExtensionEntry,
  handshakeMessage,
  HELLO_RETRY_REQUEST_RANDOM,
} from "../src/tls/messages.ts";
import { memoryTransportPair } from "./_memory_transport.ts";
import {
  type ClientHelloOptions,
  extensionBlock,
  Group,
  record,
  ticketIdentity,
  Tls13Client,
  uint,
} from "./_tls13_client.ts";

/** A fixed Ed25519 certificate and key (openssl req -x509 -newkey ed25519 -days 36500). */
const CERT_PEM = `-----BEGIN CERTIFICATE-----
MIIBVTCCAQegAwIBAgIUXSFdCyf6YLtPYeV/kaNDtFejJkIwBQYDK2VwMBQxEjAQ
BgNVBAMMCWxvY2FsaG9zdDAgFw0yNjEyMDEwMjU1MDlaGA8yMTI2MTEwNzAyNTUw
OVowFDESMBAGA1UEAwwJbG9jYWxob3N0MCowBQYDK2VwAyEATJo2gDo0LMXDH2Oa
xwqVApZ8vB4lKS3b2cVpTyC2DrGjaTBnMB0GA1UdDgQWBBQo0V/EGOG9u+Yq83BX
OWZArGt56zAfBgNVHSMEGDAWgBQo0V/EGOG9u+Yq83BXOWZArGt56zAPBgNVHRMB
Af8EBTADAQH/MBQGA1UdEQQNMAuCCWxvY2FsaG9zdDAFBgMrZXADQQDN5Fj2JeiF
AFpU81o6lT2nonqdTFpEu/BJyAp64BBO/2Ge9ntsJ3KaMKiZnoWVjHDCyZSCob9o
lOO7LJ21viUO
-----END CERTIFICATE-----
`;
const KEY_PEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIIhQ/1uM4bHdiz/2urUljSH/08GHf+OtMN0P8d88uCE4
-----END PRIVATE KEY-----
`;

/** PKCS#8 prefixes (without the optional public key) of x25519, P-256 and P-384 keys. */
const PKCS8_PREFIX: Record<number, [string, EcKeyImportParams | Algorithm, number]> = {
  [Group.X25519]: ["302e020100300506032b656e04220420", { name: "X25519" }, 32],
  [Group.P256]: [
    "304102010030130607" + "2a8648ce3d0201" + "0608" + "2a8648ce3d030107" + "042730250201010420",
    { name: "ECDH", namedCurve: "P-256" } as EcKeyImportParams,
    32,
  ],
  [Group.P384]: [
    "304e020100301006072a8648ce3d020106052b81040022043730350201010430",
    { name: "ECDH", namedCurve: "P-384" } as EcKeyImportParams,
    48,
  ],
};

/** A key pair of `group` from a fixed private scalar (every byte `fill`). */
async function fixedPair(group: number, fill: number): Promise<CryptoKeyPair> {
  const [prefix, params, n] = PKCS8_PREFIX[group];
  const pkcs8 = new Uint8Array([...Uint8Array.fromHex(prefix), ...new Uint8Array(n).fill(fill)]);
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, params, true, ["deriveBits"]);
  const { d: _d, key_ops: _k, ...pub } = await crypto.subtle.exportKey("jwk", privateKey);
  const publicKey = await crypto.subtle.importKey("jwk", pub, params, true, []);
  return { privateKey, publicKey };
}

/** A deterministic byte source for the engine (session ids, ticket_age_add). */
function counterRandom(): (bytes: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer> {
  let n = 0;
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = (n++ * 151 + 7) & 0xff;
    return bytes;
  };
}

const env = (name: string) => {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
};
const SEED = Number(env("FUZZ_SEED") ?? 0x8446);
const CASES = Number(env("FUZZ_CASES") ?? 100_000);
const ONLY = env("FUZZ_ONLY") === undefined ? null : Number(env("FUZZ_ONLY"));
const REPLAY = env("FUZZ_REPLAY");
const CONCURRENCY = 24;
const CASE_TIMEOUT_MS = 5_000;
/** Alerts a TLS 1.3 server may send for malformed input (RFC 8446 §6.2). */
const KNOWN_ALERTS = new Set([10, 20, 22, 40, 47, 50, 51, 70, 109, 112, 120]);

// ---------------------------------------------------------------------------------------------
// PRNG (mulberry32) and mutators

class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** The per-case seed: a hash of the run's seed and the case index. */
function caseSeed(index: number): number {
  let h = (SEED ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let n = 0;
  for (const p of parts) out.set(p, (n += p.length) - p.length);
  return out;
};

const INTERESTING = [0, 1, 2, 0x0f, 0x10, 0x1d, 0x17, 0x3f, 0x40, 0x7f, 0x80, 0xfe, 0xff];

function bitFlip(r: Rng, b: Uint8Array): Uint8Array {
  if (b.length === 0) return b;
  const out = b.slice();
  for (let n = 1 + r.int(4); n > 0; n--) out[r.int(out.length)] ^= 1 << r.int(8);
  return out;
}

function byteSet(r: Rng, b: Uint8Array): Uint8Array {
  if (b.length === 0) return b;
  const out = b.slice();
  for (let n = 1 + r.int(3); n > 0; n--) {
    out[r.int(out.length)] = r.int(3) === 0 ? r.int(256) : r.pick(INTERESTING);
  }
  return out;
}

const truncate = (r: Rng, b: Uint8Array) => b.slice(0, r.int(b.length + 1));
const extend = (r: Rng, b: Uint8Array) => cat(b, r.bytes(1 + r.int(64)));

function insert(r: Rng, b: Uint8Array): Uint8Array {
  const at = r.int(b.length + 1);
  const what = r.int(2) === 0 ? r.bytes(1 + r.int(16)) : new Uint8Array(1 + r.int(16));
  return cat(b.subarray(0, at), what, b.subarray(at));
}

function deleteRange(r: Rng, b: Uint8Array): Uint8Array {
  if (b.length === 0) return b;
  const at = r.int(b.length), n = 1 + r.int(Math.min(32, b.length - at));
  return cat(b.subarray(0, at), b.subarray(at + n));
}

function duplicateRange(r: Rng, b: Uint8Array): Uint8Array {
  if (b.length === 0) return b;
  const at = r.int(b.length), n = 1 + r.int(Math.min(64, b.length - at));
  return cat(b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n));
}

function splice(r: Rng, b: Uint8Array, donors: readonly Uint8Array[]): Uint8Array {
  const d = r.pick(donors);
  const from = r.int(d.length), n = 1 + r.int(Math.min(96, d.length - from));
  const at = r.int(b.length + 1);
  const replace = r.int(2) === 0 ? Math.min(n, b.length - at) : 0;
  return cat(b.subarray(0, at), d.subarray(from, from + n), b.subarray(at + replace));
}

/** Adds a small delta to (or sets an extreme value in) a big-endian length field. */
function editField(r: Rng, b: Uint8Array, at: number, size: number): Uint8Array {
  if (at + size > b.length) return bitFlip(r, b);
  const out = b.slice();
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + out[at + i];
  const max = 2 ** (8 * size) - 1;
  const choice = r.int(6);
  v = choice === 0
    ? 0
    : choice === 1
    ? max
    : choice === 2
    ? r.int(max + 1)
    : v + r.pick([-2, -1, 1, 2, 3]);
  v = Math.max(0, Math.min(max, v));
  out.set(uint(v, size), at);
  return out;
}

/** Offsets and sizes of the length fields of a (possibly already mutated) ClientHello. */
function helloLengthFields(m: Uint8Array): [number, number][] {
  const f: [number, number][] = [[1, 3]];
  const u16 = (p: number) => (m[p] << 8) | m[p + 1];
  let p = 38;
  if (p >= m.length) return f;
  f.push([p, 1]);
  p += 1 + m[p];
  if (p + 2 > m.length) return f;
  f.push([p, 2]);
  p += 2 + u16(p);
  if (p >= m.length) return f;
  f.push([p, 1]);
  p += 1 + m[p];
  if (p + 2 > m.length) return f;
  f.push([p, 2]);
  const end = Math.min(m.length, p + 2 + u16(p));
  p += 2;
  while (p + 4 <= end) {
    const type = u16(p), len = u16(p + 2), body = p + 4;
    f.push([p + 2, 2]);
    const bend = Math.min(end, body + len);
    if (len >= 1 && m[body] === len - 1) f.push([body, 1]);
    if (len >= 2 && u16(body) === len - 2) f.push([body, 2]);
    if (type === 51 && len >= 2) {
      for (let q = body + 2; q + 4 <= bend; q += 4 + u16(q + 2)) f.push([q + 2, 2]);
    } else if (type === 41 && len >= 2) {
      let q = body + 2;
      const ids = Math.min(bend, q + u16(body));
      for (; q + 2 <= ids; q += 2 + u16(q) + 4) f.push([q, 2]);
      if (q + 2 <= bend) {
        f.push([q, 2]);
        for (q += 2; q < bend; q += 1 + m[q]) f.push([q, 1]);
      }
    } else if ((type === 0 || type === 16) && len >= 3) {
      f.push(type === 0 ? [body + 3, 2] : [body + 2, 1]);
    }
    p = body + len;
  }
  return f;
}

/** Splits a ClientHello into its fixed part and extension list, or null if it does not parse. */
function helloExtensions(m: Uint8Array): { fixed: Uint8Array; exts: ExtensionEntry[] } | null {
  const u16 = (p: number) => (m[p] << 8) | m[p + 1];
  let p = 38;
  if (p >= m.length) return null;
  p += 1 + m[p];
  if (p + 2 > m.length) return null;
  p += 2 + u16(p);
  if (p >= m.length) return null;
  p += 1 + m[p];
  if (p + 2 > m.length) return null;
  const fixed = m.slice(4, p);
  const end = p + 2 + u16(p);
  if (end !== m.length) return null;
  const exts: ExtensionEntry[] = [];
  for (p += 2; p + 4 <= end; p += 4 + u16(p + 2)) {
    if (p + 4 + u16(p + 2) > end) return null;
    exts.push([u16(p), m.slice(p + 4, p + 4 + u16(p + 2))]);
  }
  return { fixed, exts };
}

const EXTENSION_TYPES = [0, 10, 13, 16, 21, 41, 42, 43, 44, 45, 51, 0xfafa];

/** Edits the extension list and re-encodes the ClientHello with consistent lengths. */
function extensionEdit(r: Rng, m: Uint8Array): Uint8Array {
  const parsed = helloExtensions(m);
  if (parsed === null || parsed.exts.length === 0) return bitFlip(r, m);
  const exts = parsed.exts;
  const i = r.int(exts.length);
  switch (r.int(9)) {
    case 0:
      exts.splice(i, 1);
      break;
    case 1:
      exts.splice(r.int(exts.length + 1), 0, exts[i]);
      break;
    case 2: {
      const j = r.int(exts.length);
      [exts[i], exts[j]] = [exts[j], exts[i]];
      break;
    }
    case 3:
      exts[i] = [exts[i][0], r.bytes(r.int(40))];
      break;
    case 4:
      exts[i] = [exts[i][0], truncate(r, exts[i][1])];
      break;
    case 5:
      exts[i] = [exts[i][0], bitFlip(r, exts[i][1])];
      break;
    case 6:
      exts.splice(r.int(exts.length + 1), 0, [r.pick(EXTENSION_TYPES), r.bytes(r.int(12))]);
      break;
    case 7:
      exts[i] = [r.pick(EXTENSION_TYPES), exts[i][1]];
      break;
    default:
      exts.splice(i, 1);
      exts.splice(r.int(exts.length + 1), 0, parsed.exts[i] ?? [21, new Uint8Array(4)]);
  }
  return handshakeMessage(1, cat(parsed.fixed, extensionBlock(exts)));
}

/** 1 to 3 stacked mutations of a ClientHello. */
function mutateHello(r: Rng, msg: Uint8Array, donors: readonly Uint8Array[]): Uint8Array {
  let m = msg;
  for (let n = 1 + r.int(3); n > 0; n--) {
    const op = r.int(100);
    if (op < 18) m = bitFlip(r, m);
    else if (op < 30) m = byteSet(r, m);
    else if (op < 50) {
      const fields = helloLengthFields(m);
      const [at, size] = r.pick(fields);
      m = editField(r, m, at, size);
    } else if (op < 72) m = extensionEdit(r, m);
    else if (op < 77) m = truncate(r, m);
    else if (op < 82) m = extend(r, m);
    else if (op < 88) m = splice(r, m, donors);
    else if (op < 92) m = insert(r, m);
    else if (op < 96) m = deleteRange(r, m);
    else m = duplicateRange(r, m);
  }
  // Mostly keep the handshake header consistent, so the mutation reaches the parser instead of
  // ending as "data after the ClientHello" or a message the server waits for.
  if (m.length >= 4 && r.int(100) < 85) {
    m = m.slice();
    m.set(uint(m.length - 4, 3), 1);
    // And half the time the extension block's length too.
    const block = helloLengthFields(m)[4];
    if (block !== undefined && block[0] + 2 <= m.length && r.int(2) === 0) {
      m.set(uint(m.length - block[0] - 2, 2), block[0]);
    }
  }
  return m;
}

/** 1 to 3 generic mutations (records, inner plaintexts). */
function mutateBytes(r: Rng, b: Uint8Array, donors: readonly Uint8Array[]): Uint8Array {
  let m = b;
  for (let n = 1 + r.int(3); n > 0; n--) {
    const op = r.int(100);
    if (op < 30) m = bitFlip(r, m);
    else if (op < 50) m = byteSet(r, m);
    else if (op < 60) m = truncate(r, m);
    else if (op < 68) m = extend(r, m);
    else if (op < 76) m = insert(r, m);
    else if (op < 84) m = deleteRange(r, m);
    else if (op < 90) m = duplicateRange(r, m);
    else if (op < 96) m = splice(r, m, donors);
    else if (m.length >= 4) {
      m = editField(r, m, 1 + r.int(Math.min(3, m.length - 3)), r.pick([1, 2, 3]));
    }
  }
  return m;
}

/** Frames a handshake message in records, usually properly, sometimes not. */
function frame(r: Rng, msg: Uint8Array, version: number): Uint8Array {
  const op = r.int(100);
  if (op < 80 || msg.length > 16384) return record(22, msg, version);
  if (op < 87) {
    const parts: Uint8Array[] = [];
    let rest = msg;
    for (let k = 1 + r.int(4); k > 0 && rest.length > 1; k--) {
      const at = 1 + r.int(rest.length - 1);
      parts.push(record(22, rest.subarray(0, at), version));
      rest = rest.subarray(at);
    }
    parts.push(record(22, rest, version));
    return cat(...parts);
  }
  if (op < 90) {
    const ccs = r.int(4) === 0 ? r.bytes(r.int(3)) : new Uint8Array([1]);
    return cat(record(20, ccs), record(22, msg, version));
  }
  if (op < 94) {
    const rec = record(22, msg, version);
    if (r.int(2) === 0) return cat(bitFlip(r, rec.subarray(0, 5)), rec.subarray(5));
    return editField(r, rec, 3, 2);
  }
  if (op < 98) {
    const tail = r.int(2) === 0
      ? r.bytes(1 + r.int(20))
      : record(r.pick([20, 21, 22, 23]), r.bytes(r.int(40)));
    return cat(record(22, msg, version), tail);
  }
  return msg; // no record framing at all
}

// ---------------------------------------------------------------------------------------------
// Running one case

interface Outcome {
  /** The bucket for the distribution. */
  key: string;
  /** Set when the case broke a rule. */
  failure?: string;
}

/** Records in `out` (best effort): type and body. */
function records(out: Uint8Array): { type: number; body: Uint8Array }[] {
  const list: { type: number; body: Uint8Array }[] = [];
  for (let p = 0; p + 5 <= out.length;) {
    const len = (out[p + 3] << 8) | out[p + 4];
    list.push({ type: out[p], body: out.subarray(p + 5, p + 5 + len) });
    p += 5 + len;
  }
  return list;
}

function stage(out: Uint8Array): string {
  const recs = records(out);
  if (recs.some((x) => x.type === 23)) return "after ServerHello";
  const hs = recs.find((x) => x.type === 22);
  if (hs === undefined) return "before any reply";
  const random = hs.body.subarray(6, 38);
  return random.every((v, i) => v === HELLO_RETRY_REQUEST_RANDOM[i])
    ? "after HelloRetryRequest"
    : "after ServerHello";
}

function classify(result: unknown, output: Uint8Array, handshakeOk: boolean): Outcome {
  if (result === "ok" || result === "done") {
    return {
      key: handshakeOk
        ? `handshake completed (${result === "done" ? "close_notify" : "eof"})`
        : "?",
    };
  }
  if (result instanceof TlsAlert) {
    const recs = records(output);
    const last = recs[recs.length - 1];
    const protectedPhase = recs.some((x) => x.type === 23);
    if (!KNOWN_ALERTS.has(result.alert)) {
      return { key: `alert ${result.alert}`, failure: `unexpected alert: ${result.message}` };
    }
    if (last === undefined) {
      return { key: `alert ${result.alert}`, failure: "no alert record written" };
    }
    if (
      !protectedPhase && (last.type !== 21 || last.body[0] !== 2 || last.body[1] !== result.alert)
    ) {
      return { key: `alert ${result.alert}`, failure: "the last record is not the alert raised" };
    }
    if (protectedPhase && last.type !== 23) {
      return {
        key: `alert ${result.alert}`,
        failure: "the alert after the ServerHello is not protected",
      };
    }
    return { key: `alert ${result.alert}` };
  }
  if (result instanceof TlsConnectionError) {
    if (result.kind === "timeout") return { key: "timeout", failure: result.message };
    const what = result.kind; // (the number of a peer-alert is whatever the mutation made)
    return { key: handshakeOk ? `${what} (after the handshake)` : `${what} (${stage(output)})` };
  }
  const e = result as Error;
  return { key: "exception", failure: `${e?.name}: ${e?.message}\n${e?.stack}` };
}

/** Feeds `input` to a fresh connection, then ends the stream; reads application data if any. */
async function runCase(input: Uint8Array, options: TlsConnectionOptions): Promise<Outcome> {
  const [c, s] = memoryTransportPair({ capacity: 1 << 17 });
  const conn = acceptTls(s, options);
  const writing = c.writeAll(input).then(() => c.closeWrite(), () => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<"hang">((
    resolve,
  ) => (timer = setTimeout(() => resolve("hang"), CASE_TIMEOUT_MS)));
  const work = (async () => {
    let handshakeOk = false;
    try {
      await conn.handshake();
      handshakeOk = true;
      const reader = conn.readable.getReader();
      for (;;) if ((await reader.read()).done) return { result: "done" as unknown, handshakeOk };
    } catch (e) {
      return { result: e, handshakeOk };
    }
  })();
  const done = await Promise.race([work, hang]);
  clearTimeout(timer);
  if (done === "hang") {
    c.close();
    await Promise.race([work, new Promise((r) => setTimeout(r, 100))]);
    return { key: "hang", failure: `no outcome within ${CASE_TIMEOUT_MS} ms` };
  }
  await writing;
  const output = c.takeAvailable();
  c.close();
  return classify(done.result, output, done.handshakeOk);
}

// ---------------------------------------------------------------------------------------------
// Seeds

interface Seeds {
  options: TlsConnectionOptions;
  /** Whole first ClientHello messages. */
  hellos: { name: string; message: Uint8Array }[];
  /** ClientHello1 records (unmutated prefix) and the second ClientHello after the HRR. */
  retries: { name: string; prefix: Uint8Array; message: Uint8Array }[];
  /** The deterministic handshake: ClientHello record, sealers and messages. */
  det: {
    chRecord: Uint8Array;
    finished: Uint8Array;
    finRecord: Uint8Array;
    sealHs: (inner: Uint8Array) => Promise<Uint8Array>;
    sealApp: (inner: Uint8Array) => Promise<Uint8Array>;
    inners: { name: string; inner: Uint8Array }[];
    appRecords: Uint8Array[];
  };
  donors: Uint8Array[];
}

async function aesSealer(hash: "SHA-256" | "SHA-384", secret: Uint8Array, keyLength: 16 | 32) {
  const { key, iv } = trafficKey(hash, secret, keyLength);
  const k = await crypto.subtle.importKey("raw", new Uint8Array(key), "AES-GCM", false, [
    "encrypt",
  ]);
  return async (inner: Uint8Array) => {
    const len = inner.length + 16;
    const header = new Uint8Array([23, 3, 3, (len >> 8) & 0xff, len & 0xff]);
    const body = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: new Uint8Array(iv), additionalData: header },
      k,
      new Uint8Array(inner),
    );
    return cat(header, new Uint8Array(body));
  };
}

async function makeSeeds(): Promise<Seeds> {
  const credentials = await ServerCredentials.fromPem(CERT_PEM, KEY_PEM);
  const context = await SslContext.create({
    ticketKeys: new Uint8Array(80).map((_, i) => i * 7 + 1),
    now: () => Date.UTC(2026, 11, 1),
    random: counterRandom(),
  });
  const pairs = new Map<number, CryptoKeyPair>();
  const clientPairs = new Map<number, CryptoKeyPair>();
  for (const g of [Group.X25519, Group.P256, Group.P384]) {
    pairs.set(g, await fixedPair(g, 0x51));
    clientPairs.set(g, await fixedPair(g, 0xc1));
  }
  const serverRandom = new Uint8Array(32).fill(0x5e);
  const options: TlsConnectionOptions = {
    credentials,
    context,
    alpnProtocols: ["h2", "http/1.1"],
    serverNames: { localhost: context },
    handshakeTimeoutMs: 60_000,
    random: () => serverRandom.slice(),
    ephemeralKeys: (g) => Promise.resolve(pairs.get(g)!),
  };

  /** Runs a real handshake with `script`, checks it completes, returns what the script returns. */
  async function live<T>(script: (c: Tls13Client) => Promise<T>): Promise<T> {
    const [c, s] = memoryTransportPair();
    const conn = acceptTls(s, options);
    try {
      const client = new Tls13Client(c);
      for (const [g, pair] of clientPairs) client.setKeyPair(g, pair);
      const out = await script(client);
      await conn.handshake();
      return out;
    } finally {
      c.close();
      await conn.handshake().catch(() => {});
    }
  }

  const ticket = await live(async (c) => {
    await c.handshake();
    return (await c.readTickets(1))[0];
  });
  const sid = new Uint8Array(32).fill(0x33);
  const psk = { ...ticketIdentity(ticket), obfuscatedTicketAge: (ticket.ageAdd + 1000) % 2 ** 32 };
  const random = (n: number) => new Uint8Array(32).fill(n);
  const helloOptions: Record<string, ClientHelloOptions> = {
    plain: {},
    rich: {
      serverName: "localhost",
      alpn: ["h2", "http/1.1"],
      legacySessionId: sid,
      keyShares: [Group.P256, Group.X25519],
      earlyData: true,
      extraExtensions: [[0xfafa, new Uint8Array(0)], [21, new Uint8Array(32)]] as ExtensionEntry[],
    },
    p384: { suites: [0x1302], groups: [Group.P384], keyShares: [Group.P384] },
    psk: { psk: [psk], serverName: "localhost" },
    pskTwo: {
      psk: [
        { identity: new Uint8Array(48).fill(7), obfuscatedTicketAge: 1 },
        ticketIdentity(ticket),
      ],
    },
  };
  const hellos: Seeds["hellos"] = [];
  for (const [i, [name, o]] of Object.entries(helloOptions).entries()) {
    const message = await live(async (c) => {
      const m = await c.sendClientHello({ random: random(i + 1), ...o });
      await c.readServerHello();
      await c.readServerFlight();
      await c.sendFinished();
      return m;
    });
    hellos.push({ name, message });
  }
  const retries: Seeds["retries"] = [];
  for (
    const [name, o] of Object.entries({
      hrr: { groups: [Group.P256, Group.X25519], keyShares: [] },
      hrrPsk: { keyShares: [], psk: [psk] },
      hrrCompat: { keyShares: [], legacySessionId: sid, alpn: ["http/1.1"] },
    })
  ) {
    const [ch1, ch2] = await live(async (c) => {
      const m1 = await c.sendClientHello({ random: random(0x40 + retries.length), ...o });
      assert.equal((await c.readServerHello()).helloRetryRequest, true);
      const m2 = await c.sendSecondClientHello();
      await c.readServerHello();
      await c.readServerFlight();
      await c.sendFinished();
      return [m1, m2];
    });
    hellos.push({ name: `${name}-first`, message: ch1 });
    retries.push({ name, prefix: record(22, ch1, 0x0301), message: ch2 });
  }

  // The deterministic handshake (everything above is fixed, so the transcript repeats).
  const det = await live(async (c) => {
    const ch = await c.sendClientHello({ random: new Uint8Array(32).fill(0xc1) });
    await c.readServerHello();
    await c.readServerFlight();
    const finished = c.finishedMessage();
    const hsSecret = c.handshakeSecrets!.client;
    await c.sendFinished(finished);
    return {
      ch,
      finished,
      hsSecret,
      appSecret: c.applicationSecrets!.client.slice(),
      hash: c.hash,
      keyLength: c.keyLength,
    };
  });
  const sealHs = await aesSealer(det.hash, det.hsSecret, det.keyLength);
  const sealApp = await aesSealer(det.hash, det.appSecret, det.keyLength);
  const chRecord = record(22, det.ch, 0x0301);
  const finRecord = await sealHs(cat(det.finished, new Uint8Array([22])));
  const enc = new TextEncoder();
  const inners = [
    {
      name: "data",
      inner: cat(enc.encode("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"), new Uint8Array([23])),
    },
    { name: "empty-data", inner: new Uint8Array([23]) },
    {
      name: "key-update",
      inner: cat(handshakeMessage(24, new Uint8Array([0])), new Uint8Array([22])),
    },
    {
      name: "key-update-req",
      inner: cat(handshakeMessage(24, new Uint8Array([1])), new Uint8Array([22])),
    },
    { name: "close-notify", inner: new Uint8Array([1, 0, 21]) },
    { name: "fatal-alert", inner: new Uint8Array([2, 40, 21]) },
    { name: "nst", inner: cat(handshakeMessage(4, new Uint8Array(16)), new Uint8Array([22])) },
    {
      name: "padded-data",
      inner: cat(enc.encode("pad"), new Uint8Array([23]), new Uint8Array(40)),
    },
  ];
  const appRecords = await Promise.all(inners.map((x) => sealApp(x.inner)));
  const donors = [
    ...hellos.map((h) => h.message),
    ...retries.map((x) => x.message),
    det.finished,
    ...inners.map((x) => x.inner),
  ];
  return {
    options,
    hellos,
    retries,
    det: { chRecord, finished: det.finished, finRecord, sealHs, sealApp, inners, appRecords },
    donors,
  };
}

/** The input of case `index` and its kind. */
async function buildCase(
  index: number,
  seeds: Seeds,
): Promise<{ kind: string; input: Uint8Array }> {
  const r = new Rng(caseSeed(index));
  const roll = r.int(100);
  if (roll < 68) {
    const seed = r.pick(seeds.hellos);
    const m = mutateHello(r, seed.message, seeds.donors);
    return { kind: `hello/${seed.name}`, input: frame(r, m, r.int(8) === 0 ? 0x0303 : 0x0301) };
  }
  if (roll < 86) {
    const seed = r.pick(seeds.retries);
    const m = mutateHello(r, seed.message, seeds.donors);
    return { kind: `second-hello/${seed.name}`, input: cat(seed.prefix, frame(r, m, 0x0303)) };
  }
  const d = seeds.det;
  const sub = r.int(100);
  if (sub < 25) {
    const inner = mutateBytes(r, cat(d.finished, new Uint8Array([22])), seeds.donors);
    return { kind: "finished/plaintext", input: cat(d.chRecord, await d.sealHs(inner)) };
  }
  if (sub < 40) {
    return {
      kind: "finished/record",
      input: cat(d.chRecord, mutateBytes(r, d.finRecord, seeds.donors)),
    };
  }
  const i = r.int(d.inners.length);
  if (sub < 80) {
    const inner = mutateBytes(r, d.inners[i].inner, seeds.donors);
    return {
      kind: `post/plaintext/${d.inners[i].name}`,
      input: cat(d.chRecord, d.finRecord, await d.sealApp(inner)),
    };
  }
  return {
    kind: `post/record/${d.inners[i].name}`,
    input: cat(d.chRecord, d.finRecord, mutateBytes(r, d.appRecords[i], seeds.donors)),
  };
}

// ---------------------------------------------------------------------------------------------

Deno.test({
  name:
    `fuzz: ${CASES} mutated ClientHellos and records to live connections end only in known alerts or connection errors`,
  // Timers of the server connections are all cleared when each case settles.
  async fn() {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: PromiseRejectionEvent) => {
      e.preventDefault();
      unhandled.push(e.reason);
    };
    globalThis.addEventListener("unhandledrejection", onUnhandled);
    try {
      const seeds = await makeSeeds();
      // The unmutated deterministic inputs behave as expected.
      const sanity = [
        [cat(seeds.det.chRecord, seeds.det.finRecord), "closed (after the handshake)"],
        [
          cat(seeds.det.chRecord, seeds.det.finRecord, seeds.det.appRecords[4]),
          "handshake completed (close_notify)",
        ],
        [
          cat(seeds.det.chRecord, seeds.det.finRecord, seeds.det.appRecords[3]),
          "closed (after the handshake)",
        ],
        [seeds.retries[0].prefix, "closed (after HelloRetryRequest)"],
      ] as const;
      for (const [input, key] of sanity) {
        assert.deepEqual(await runCase(input, seeds.options), { key });
      }

      if (REPLAY !== undefined) {
        const out = await runCase(Uint8Array.fromHex(REPLAY), seeds.options);
        console.log(`replay -> ${out.key}${out.failure ? `: ${out.failure}` : ""}`);
        assert.equal(out.failure, undefined);
        return;
      }
      const distribution = new Map<string, number>();
      const kinds = new Map<string, number>();
      const failures: string[] = [];
      const indices = ONLY === null ? CASES : 1;
      let next = 0;
      const start = performance.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        for (;;) {
          const n = next++;
          if (n >= indices) return;
          const index = ONLY ?? n;
          const { kind, input } = await buildCase(index, seeds);
          const out = await runCase(input, seeds.options);
          distribution.set(out.key, (distribution.get(out.key) ?? 0) + 1);
          const group = kind.split("/").slice(0, 2).join("/");
          kinds.set(group, (kinds.get(group) ?? 0) + 1);
          if (out.failure !== undefined || ONLY !== null) {
            const line = `FUZZ_SEED=${SEED} FUZZ_ONLY=${index} (${kind}) -> ${out.key}` +
              (out.failure ? `: ${out.failure}` : "") + `\n  input: ${input.toHex()}`;
            if (out.failure !== undefined) failures.push(line);
            else console.log(line);
          }
        }
      }));
      const seconds = (performance.now() - start) / 1000;
      const sorted = [...distribution].sort((a, b) => b[1] - a[1]);
      console.log(
        `fuzz: ${indices} cases in ${seconds.toFixed(1)} s (seed ${SEED})\n` +
          sorted.map(([k, v]) => `  ${String(v).padStart(6)}  ${k}`).join("\n") + "\n  inputs: " +
          [...kinds].sort().map(([k, v]) => `${k} ${v}`).join(", "),
      );
      assert.equal(
        failures.length,
        0,
        `${failures.length} failing cases:\n${failures.slice(0, 10).join("\n")}`,
      );
      assert.deepEqual(unhandled, []);
      assert.equal([...distribution.values()].reduce((a, b) => a + b, 0), indices);
    } finally {
      globalThis.removeEventListener("unhandledrejection", onUnhandled);
    }
  },
});
