// Shared pieces of the TLS fuzz tests (tests/tls_fuzz_test.ts for TLS 1.3,
// tests/tls12_fuzz_test.ts for TLS 1.2): a fixed Ed25519 certificate, fixed ECDHE key pairs, a
// deterministic random source, a seeded PRNG and the mutators (generic, structure-aware for
// ClientHellos, record framing) and the campaign loop with its report.
import assert from "node:assert/strict";
import { type ExtensionEntry, handshakeMessage } from "../src/tls/messages.ts";
import { concatBytes } from "../src/ticket/bytes.ts";
import { extensionBlock, Group, record, uint } from "./_tls13_client.ts";

/** A fixed Ed25519 certificate and key (openssl req -x509 -newkey ed25519 -days 36500). */
export const CERT_PEM = `-----BEGIN CERTIFICATE-----
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
export const KEY_PEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIIhQ/1uM4bHdiz/2urUljSH/08GHf+OtMN0P8d88uCE4
-----END PRIVATE KEY-----
`;

/** PKCS#8 prefixes (without the optional public key) of x25519, P-256 and P-384 keys. */
export const PKCS8_PREFIX: Record<number, [string, EcKeyImportParams | Algorithm, number]> = {
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
export async function fixedPair(group: number, fill: number): Promise<CryptoKeyPair> {
  const [prefix, params, n] = PKCS8_PREFIX[group];
  const pkcs8 = new Uint8Array([...Uint8Array.fromHex(prefix), ...new Uint8Array(n).fill(fill)]);
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, params, true, ["deriveBits"]);
  const { d: _d, key_ops: _k, ...pub } = await crypto.subtle.exportKey("jwk", privateKey);
  const publicKey = await crypto.subtle.importKey("jwk", pub, params, true, []);
  return { privateKey, publicKey };
}

/** A deterministic byte source for the engine (session ids, ticket_age_add). */
export function counterRandom(): (bytes: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer> {
  let n = 0;
  return (bytes) => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = (n++ * 151 + 7) & 0xff;
    return bytes;
  };
}

// PRNG (mulberry32) and mutators

export class Rng {
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
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export const INTERESTING = [0, 1, 2, 0x0f, 0x10, 0x1d, 0x17, 0x3f, 0x40, 0x7f, 0x80, 0xfe, 0xff];

export function bitFlip(r: Rng, b: Uint8Array): Uint8Array {
  if (b.length === 0) return b;
  const out = b.slice();
  for (let n = 1 + r.int(4); n > 0; n--) out[r.int(out.length)] ^= 1 << r.int(8);
  return out;
}

export function byteSet(r: Rng, b: Uint8Array): Uint8Array {
  if (b.length === 0) return b;
  const out = b.slice();
  for (let n = 1 + r.int(3); n > 0; n--) {
    out[r.int(out.length)] = r.int(3) === 0 ? r.int(256) : r.pick(INTERESTING);
  }
  return out;
}

export const truncate = (r: Rng, b: Uint8Array) => b.slice(0, r.int(b.length + 1));
export const extend = (r: Rng, b: Uint8Array) => concatBytes([b, r.bytes(1 + r.int(64))]);

export function insert(r: Rng, b: Uint8Array): Uint8Array {
  const at = r.int(b.length + 1);
  const what = r.int(2) === 0 ? r.bytes(1 + r.int(16)) : new Uint8Array(1 + r.int(16));
  return concatBytes([b.subarray(0, at), what, b.subarray(at)]);
}

export function deleteRange(r: Rng, b: Uint8Array): Uint8Array {
  if (b.length === 0) return b;
  const at = r.int(b.length), n = 1 + r.int(Math.min(32, b.length - at));
  return concatBytes([b.subarray(0, at), b.subarray(at + n)]);
}

export function duplicateRange(r: Rng, b: Uint8Array): Uint8Array {
  if (b.length === 0) return b;
  const at = r.int(b.length), n = 1 + r.int(Math.min(64, b.length - at));
  return concatBytes([b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n)]);
}

export function splice(r: Rng, b: Uint8Array, donors: readonly Uint8Array[]): Uint8Array {
  const d = r.pick(donors);
  const from = r.int(d.length), n = 1 + r.int(Math.min(96, d.length - from));
  const at = r.int(b.length + 1);
  const replace = r.int(2) === 0 ? Math.min(n, b.length - at) : 0;
  return concatBytes([b.subarray(0, at), d.subarray(from, from + n), b.subarray(at + replace)]);
}

/** Adds a small delta to (or sets an extreme value in) a big-endian length field. */
export function editField(r: Rng, b: Uint8Array, at: number, size: number): Uint8Array {
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
export function helloLengthFields(m: Uint8Array): [number, number][] {
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
export function helloExtensions(
  m: Uint8Array,
): { fixed: Uint8Array; exts: ExtensionEntry[] } | null {
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

export const EXTENSION_TYPES = [
  0,
  10,
  11,
  13,
  16,
  21,
  23,
  35,
  41,
  42,
  43,
  44,
  45,
  51,
  0xff01,
  0xfafa,
];

/** Edits the extension list and re-encodes the ClientHello with consistent lengths. */
export function extensionEdit(r: Rng, m: Uint8Array): Uint8Array {
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
  return handshakeMessage(1, concatBytes([parsed.fixed, extensionBlock(exts)]));
}

/** 1 to 3 stacked mutations of a ClientHello. */
export function mutateHello(r: Rng, msg: Uint8Array, donors: readonly Uint8Array[]): Uint8Array {
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
export function mutateBytes(r: Rng, b: Uint8Array, donors: readonly Uint8Array[]): Uint8Array {
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
export function frame(r: Rng, msg: Uint8Array, version: number): Uint8Array {
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
    return concatBytes(parts);
  }
  if (op < 90) {
    const ccs = r.int(4) === 0 ? r.bytes(r.int(3)) : new Uint8Array([1]);
    return concatBytes([record(20, ccs), record(22, msg, version)]);
  }
  if (op < 94) {
    const rec = record(22, msg, version);
    if (r.int(2) === 0) return concatBytes([bitFlip(r, rec.subarray(0, 5)), rec.subarray(5)]);
    return editField(r, rec, 3, 2);
  }
  if (op < 98) {
    const tail = r.int(2) === 0
      ? r.bytes(1 + r.int(20))
      : record(r.pick([20, 21, 22, 23]), r.bytes(r.int(40)));
    return concatBytes([record(22, msg, version), tail]);
  }
  return msg; // no record framing at all
}

/** Records in `out` (best effort): type and body. */
export function records(out: Uint8Array): { type: number; body: Uint8Array }[] {
  const list: { type: number; body: Uint8Array }[] = [];
  for (let p = 0; p + 5 <= out.length;) {
    const len = (out[p + 3] << 8) | out[p + 4];
    list.push({ type: out[p], body: out.subarray(p + 5, p + 5 + len) });
    p += 5 + len;
  }
  return list;
}

// ---------------------------------------------------------------------------------------------
// The campaign: settings from the environment, the concurrent loop, the report.

/** A fuzz run's settings: `FUZZ_SEED`, `FUZZ_CASES`, `FUZZ_ONLY` and `FUZZ_REPLAY`. */
export interface FuzzSettings {
  /** The seed every case's PRNG is derived from (with the case index). */
  seed: number;
  /** How many cases (default 100,000). */
  cases: number;
  /** Run only this case index, and print its outcome. */
  only: number | null;
  /** Run only this input (hex), as printed with a failure. */
  replay: string | undefined;
}

const env = (name: string) => {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
};

/**
 * Reads the settings of a fuzz test from the environment.
 *
 * @example
 * ```ts
 * import { fuzzSettings } from "./_fuzz.ts";
 * console.log(fuzzSettings(0x8446).cases > 0); // true
 * ```
 */
export function fuzzSettings(defaultSeed: number): FuzzSettings {
  const only = env("FUZZ_ONLY");
  return {
    seed: Number(env("FUZZ_SEED") ?? defaultSeed),
    cases: Number(env("FUZZ_CASES") ?? 100_000),
    only: only === undefined ? null : Number(only),
    replay: env("FUZZ_REPLAY"),
  };
}

/** What one case ended in: a key for the distribution, and why it failed, if it did. */
export interface FuzzOutcome {
  key: string;
  failure?: string;
}

/** One fuzz campaign: how to build a case and how to run an input. */
export interface FuzzCampaign {
  /** Shown in the report, e.g. "TLS 1.2". */
  label: string;
  settings: FuzzSettings;
  /** Cases in flight at once. */
  concurrency: number;
  /** The input of case `index` and what kind of mutation made it. */
  build(index: number): Promise<{ kind: string; input: Uint8Array }>;
  /** Runs an input against a fresh server. */
  run(input: Uint8Array): Promise<FuzzOutcome>;
}

/**
 * Runs a campaign (or only the replayed input or the one case the settings name), prints the
 * distribution of outcomes, and asserts that no case failed and every case ran.
 *
 * @returns The outcome counts by key, or `null` after a replay.
 *
 * @example
 * ```ts ignore
 * const d = await runFuzzCampaign({ label: "TLS 1.3", settings, concurrency: 24, build, run });
 * ```
 */
export async function runFuzzCampaign(c: FuzzCampaign): Promise<Map<string, number> | null> {
  const { seed, cases, only, replay } = c.settings;
  if (replay !== undefined) {
    const out = await c.run(Uint8Array.fromHex(replay));
    console.log(`replay -> ${out.key}${out.failure ? `: ${out.failure}` : ""}`);
    assert.equal(out.failure, undefined);
    return null;
  }
  const distribution = new Map<string, number>();
  const kinds = new Map<string, number>();
  const failures: string[] = [];
  const total = only === null ? cases : 1;
  let next = 0;
  const start = performance.now();
  await Promise.all(Array.from({ length: c.concurrency }, async () => {
    for (;;) {
      const n = next++;
      if (n >= total) return;
      const index = only ?? n;
      const { kind, input } = await c.build(index);
      const out = await c.run(input);
      distribution.set(out.key, (distribution.get(out.key) ?? 0) + 1);
      const group = kind.split("/").slice(0, 2).join("/");
      kinds.set(group, (kinds.get(group) ?? 0) + 1);
      if (out.failure !== undefined || only !== null) {
        const line = `FUZZ_SEED=${seed} FUZZ_ONLY=${index} (${kind}) -> ${out.key}` +
          (out.failure ? `: ${out.failure}` : "") + `\n  input: ${input.toHex()}`;
        if (out.failure !== undefined) failures.push(line);
        else console.log(line);
      }
    }
  }));
  const seconds = (performance.now() - start) / 1000;
  const sorted = [...distribution].sort((a, b) => b[1] - a[1]);
  console.log(
    `fuzz ${c.label}: ${total} cases in ${seconds.toFixed(1)} s (seed ${seed})\n` +
      sorted.map(([k, v]) => `  ${String(v).padStart(6)}  ${k}`).join("\n") + "\n  inputs: " +
      [...kinds].sort().map(([k, v]) => `${k} ${v}`).join(", "),
  );
  assert.equal(
    failures.length,
    0,
    `${failures.length} failing cases:\n${failures.slice(0, 10).join("\n")}`,
  );
  assert.equal([...distribution.values()].reduce((a, b) => a + b, 0), total);
  return distribution;
}
