/**
 * Synchronous SHA-256 and SHA-384 (FIPS 180-4) and HMAC (RFC 2104), under the HKDF of
 * `src/server/hkdf.ts` that the ticket engine and the TLS layer share. Written from the standard:
 * SHA-256 on 32-bit words (§6.2), SHA-384 as the SHA-512 compression (§6.4) with the SHA-384
 * initial value (§5.3.4) and a 48-byte output, its 64-bit words held as (high, low) pairs of
 * 32-bit integers. The round constants and initial values below are the fractional parts of the
 * cube / square roots of the first primes (§4.2.2, §4.2.3, §5.3); `tests/tls_sha2_test.ts` checks
 * them against the NIST examples and node:crypto.
 *
 * Why not Web Crypto: a TLS 1.3 handshake derives about thirty small values (HKDF steps of one
 * or two HMAC blocks each), and the transcript hash must be read at several points while it keeps
 * growing. `crypto.subtle` is asynchronous and has no incremental digest; a promise round trip
 * per HMAC costs more than the hash itself. Everything here is synchronous, so the message
 * schedule and padding buffers are module-level scratch arrays shared by all instances.
 *
 * Private to `src/tls/`: the public surface is `key_schedule.ts`.
 *
 * @module
 */

/** The two hashes of the TLS 1.3 cipher suites. */
export type Sha2Name = "SHA-256" | "SHA-384";

// FIPS 180-4 §4.2.2: SHA-256 round constants.
const K256 = Int32Array.from([
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
]);
// FIPS 180-4 §5.3.3: SHA-256 initial hash value.
const IV256 = Int32Array.from([
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
]);
// FIPS 180-4 §4.2.3: SHA-512 round constants as (high, low) word pairs.
const K512 = Int32Array.from([
  0x428a2f98,
  0xd728ae22,
  0x71374491,
  0x23ef65cd,
  0xb5c0fbcf,
  0xec4d3b2f,
  0xe9b5dba5,
  0x8189dbbc,
  0x3956c25b,
  0xf348b538,
  0x59f111f1,
  0xb605d019,
  0x923f82a4,
  0xaf194f9b,
  0xab1c5ed5,
  0xda6d8118,
  0xd807aa98,
  0xa3030242,
  0x12835b01,
  0x45706fbe,
  0x243185be,
  0x4ee4b28c,
  0x550c7dc3,
  0xd5ffb4e2,
  0x72be5d74,
  0xf27b896f,
  0x80deb1fe,
  0x3b1696b1,
  0x9bdc06a7,
  0x25c71235,
  0xc19bf174,
  0xcf692694,
  0xe49b69c1,
  0x9ef14ad2,
  0xefbe4786,
  0x384f25e3,
  0x0fc19dc6,
  0x8b8cd5b5,
  0x240ca1cc,
  0x77ac9c65,
  0x2de92c6f,
  0x592b0275,
  0x4a7484aa,
  0x6ea6e483,
  0x5cb0a9dc,
  0xbd41fbd4,
  0x76f988da,
  0x831153b5,
  0x983e5152,
  0xee66dfab,
  0xa831c66d,
  0x2db43210,
  0xb00327c8,
  0x98fb213f,
  0xbf597fc7,
  0xbeef0ee4,
  0xc6e00bf3,
  0x3da88fc2,
  0xd5a79147,
  0x930aa725,
  0x06ca6351,
  0xe003826f,
  0x14292967,
  0x0a0e6e70,
  0x27b70a85,
  0x46d22ffc,
  0x2e1b2138,
  0x5c26c926,
  0x4d2c6dfc,
  0x5ac42aed,
  0x53380d13,
  0x9d95b3df,
  0x650a7354,
  0x8baf63de,
  0x766a0abb,
  0x3c77b2a8,
  0x81c2c92e,
  0x47edaee6,
  0x92722c85,
  0x1482353b,
  0xa2bfe8a1,
  0x4cf10364,
  0xa81a664b,
  0xbc423001,
  0xc24b8b70,
  0xd0f89791,
  0xc76c51a3,
  0x0654be30,
  0xd192e819,
  0xd6ef5218,
  0xd6990624,
  0x5565a910,
  0xf40e3585,
  0x5771202a,
  0x106aa070,
  0x32bbd1b8,
  0x19a4c116,
  0xb8d2d0c8,
  0x1e376c08,
  0x5141ab53,
  0x2748774c,
  0xdf8eeb99,
  0x34b0bcb5,
  0xe19b48a8,
  0x391c0cb3,
  0xc5c95a63,
  0x4ed8aa4a,
  0xe3418acb,
  0x5b9cca4f,
  0x7763e373,
  0x682e6ff3,
  0xd6b2b8a3,
  0x748f82ee,
  0x5defb2fc,
  0x78a5636f,
  0x43172f60,
  0x84c87814,
  0xa1f0ab72,
  0x8cc70208,
  0x1a6439ec,
  0x90befffa,
  0x23631e28,
  0xa4506ceb,
  0xde82bde9,
  0xbef9a3f7,
  0xb2c67915,
  0xc67178f2,
  0xe372532b,
  0xca273ece,
  0xea26619c,
  0xd186b8c7,
  0x21c0c207,
  0xeada7dd6,
  0xcde0eb1e,
  0xf57d4f7f,
  0xee6ed178,
  0x06f067aa,
  0x72176fba,
  0x0a637dc5,
  0xa2c898a6,
  0x113f9804,
  0xbef90dae,
  0x1b710b35,
  0x131c471b,
  0x28db77f5,
  0x23047d84,
  0x32caab7b,
  0x40c72493,
  0x3c9ebe0a,
  0x15c9bebc,
  0x431d67c4,
  0x9c100d4c,
  0x4cc5d4be,
  0xcb3e42b6,
  0x597f299c,
  0xfc657e2a,
  0x5fcb6fab,
  0x3ad6faec,
  0x6c44198c,
  0x4a475817,
]);
// FIPS 180-4 §5.3.4: SHA-384 initial hash value as (high, low) word pairs.
const IV384 = Int32Array.from([
  0xcbbb9d5d,
  0xc1059ed8,
  0x629a292a,
  0x367cd507,
  0x9159015a,
  0x3070dd17,
  0x152fecd8,
  0xf70e5939,
  0x67332667,
  0xffc00b31,
  0x8eb44a87,
  0x68581511,
  0xdb0c2e0d,
  0x64f98fa7,
  0x47b5481d,
  0xbefa4fa4,
]);

// The same constants split into high and low words (one index per round in the hot loop).
const K512H = K512.filter((_, i) => i % 2 === 0);
const K512L = K512.filter((_, i) => i % 2 === 1);

// Scratch shared by every hasher: the code is synchronous, so no two uses overlap.
const W = new Int32Array(64); // SHA-256 message schedule
const WH = new Int32Array(80); // SHA-512 message schedule, high words
const WL = new Int32Array(80); // SHA-512 message schedule, low words
const PAD = new Uint8Array(256); // final block(s) while digesting
const FINAL = new Int32Array(16); // chaining value while digesting (digest keeps the state)
const TWO32 = 0x100000000;

/** SHA-256 compression (FIPS 180-4 §6.2.2) of the 64-byte block at `m[off]` into `H`. */
function compress256(H: Int32Array, m: Uint8Array, off: number): void {
  for (let t = 0; t < 16; t++, off += 4) {
    W[t] = (m[off] << 24) | (m[off + 1] << 16) | (m[off + 2] << 8) | m[off + 3];
  }
  for (let t = 16; t < 64; t++) {
    const x = W[t - 15];
    const y = W[t - 2];
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    W[t] = (s1 + W[t - 7] + s0 + W[t - 16]) | 0;
  }
  let a = H[0], b = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
  for (let t = 0; t < 64; t++) {
    const sum1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + sum1 + ((e & f) ^ (~e & g)) + K256[t] + W[t]) | 0;
    const sum0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (sum0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0] + a) | 0;
  H[1] = (H[1] + b) | 0;
  H[2] = (H[2] + c) | 0;
  H[3] = (H[3] + d) | 0;
  H[4] = (H[4] + e) | 0;
  H[5] = (H[5] + f) | 0;
  H[6] = (H[6] + g) | 0;
  H[7] = (H[7] + h) | 0;
}

/**
 * SHA-512 compression (FIPS 180-4 §6.4.2) of the 128-byte block at `m[off]` into `H`, which holds
 * the eight 64-bit words as (high, low) pairs. A 64-bit rotation right by n < 32 moves the low n
 * bits of each half into the top of the other half; by 32 + n it swaps the halves first. Sums add
 * the low halves as unsigned numbers (exact below 2^53) and carry the overflow into the high half.
 */
function compress512(H: Int32Array, m: Uint8Array, off: number): void {
  for (let t = 0; t < 16; t++, off += 8) {
    WH[t] = (m[off] << 24) | (m[off + 1] << 16) | (m[off + 2] << 8) | m[off + 3];
    WL[t] = (m[off + 4] << 24) | (m[off + 5] << 16) | (m[off + 6] << 8) | m[off + 7];
  }
  for (let t = 16; t < 80; t++) {
    // σ0(x) = ROTR1 ^ ROTR8 ^ SHR7
    const xh = WH[t - 15], xl = WL[t - 15];
    const s0h = ((xh >>> 1) | (xl << 31)) ^ ((xh >>> 8) | (xl << 24)) ^ (xh >>> 7);
    const s0l = ((xl >>> 1) | (xh << 31)) ^ ((xl >>> 8) | (xh << 24)) ^ ((xl >>> 7) | (xh << 25));
    // σ1(y) = ROTR19 ^ ROTR61 ^ SHR6
    const yh = WH[t - 2], yl = WL[t - 2];
    const s1h = ((yh >>> 19) | (yl << 13)) ^ ((yl >>> 29) | (yh << 3)) ^ (yh >>> 6);
    const s1l = ((yl >>> 19) | (yh << 13)) ^ ((yh >>> 29) | (yl << 3)) ^ ((yl >>> 6) | (yh << 26));
    const lo = (s1l >>> 0) + (WL[t - 7] >>> 0) + (s0l >>> 0) + (WL[t - 16] >>> 0);
    WH[t] = (s1h + WH[t - 7] + s0h + WH[t - 16] + ((lo / TWO32) | 0)) | 0;
    WL[t] = lo | 0;
  }
  let ah = H[0], al = H[1], bh = H[2], bl = H[3], ch = H[4], cl = H[5], dh = H[6], dl = H[7];
  let eh = H[8], el = H[9], fh = H[10], fl = H[11], gh = H[12], gl = H[13], hh = H[14], hl = H[15];
  for (let t = 0; t < 80; t++) {
    // Σ1(e) = ROTR14 ^ ROTR18 ^ ROTR41
    const S1h = ((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^ ((el >>> 9) | (eh << 23));
    const S1l = ((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^ ((eh >>> 9) | (el << 23));
    const chh = (eh & fh) ^ (~eh & gh);
    const chl = (el & fl) ^ (~el & gl);
    // T1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t]
    const t1lo = (hl >>> 0) + (S1l >>> 0) + (chl >>> 0) + (K512L[t] >>> 0) + (WL[t] >>> 0);
    const t1h = (hh + S1h + chh + K512H[t] + WH[t] + ((t1lo / TWO32) | 0)) | 0;
    const t1l = t1lo | 0;
    // Σ0(a) = ROTR28 ^ ROTR34 ^ ROTR39
    const S0h = ((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25));
    const S0l = ((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25));
    const majh = (ah & bh) ^ (ah & ch) ^ (bh & ch);
    const majl = (al & bl) ^ (al & cl) ^ (bl & cl);
    // T2 = Σ0(a) + Maj(a, b, c)
    const t2lo = (S0l >>> 0) + (majl >>> 0);
    const t2h = (S0h + majh + ((t2lo / TWO32) | 0)) | 0;
    const t2l = t2lo | 0;
    hh = gh;
    hl = gl;
    gh = fh;
    gl = fl;
    fh = eh;
    fl = el;
    const elo = (dl >>> 0) + (t1l >>> 0);
    eh = (dh + t1h + ((elo / TWO32) | 0)) | 0;
    el = elo | 0;
    dh = ch;
    dl = cl;
    ch = bh;
    cl = bl;
    bh = ah;
    bl = al;
    const alo = (t1l >>> 0) + (t2l >>> 0);
    ah = (t1h + t2h + ((alo / TWO32) | 0)) | 0;
    al = alo | 0;
  }
  add64(H, 0, ah, al);
  add64(H, 2, bh, bl);
  add64(H, 4, ch, cl);
  add64(H, 6, dh, dl);
  add64(H, 8, eh, el);
  add64(H, 10, fh, fl);
  add64(H, 12, gh, gl);
  add64(H, 14, hh, hl);
}

function add64(H: Int32Array, i: number, h: number, l: number): void {
  const lo = (H[i + 1] >>> 0) + (l >>> 0);
  H[i] = (H[i] + h + ((lo / TWO32) | 0)) | 0;
  H[i + 1] = lo | 0;
}

/**
 * An incremental SHA-256 or SHA-384. {@link Sha2.digest} does not end the computation: the
 * transcript can be read, then extended, then read again. {@link Sha2.clone} forks it.
 *
 * @example
 * ```ts
 * import { Sha2 } from "./sha2.ts";
 * const h = new Sha2("SHA-256").update(new TextEncoder().encode("ab"));
 * const early = h.digest(); // the hash of "ab"; h goes on
 * h.update(new TextEncoder().encode("c"));
 * console.log(early.length, h.digest().toHex().slice(0, 8)); // 32 "ba7816bf" (SHA-256 of "abc")
 * ```
 */
export class Sha2 {
  /** `"SHA-256"` or `"SHA-384"`. */
  readonly name: Sha2Name;
  /** Digest length in bytes: 32 or 48. */
  readonly outputLength: 32 | 48;
  /** Block length in bytes: 64 or 128 (the HMAC pad length). */
  readonly blockLength: 64 | 128;
  #state: Int32Array;
  #block: Uint8Array;
  #used = 0; // bytes waiting in #block
  #total = 0; // bytes hashed so far
  #compress: (H: Int32Array, m: Uint8Array, off: number) => void;

  /**
   * Starts a new hash.
   *
   * @param name `"SHA-256"` or `"SHA-384"`.
   * @throws {TypeError} for any other name.
   */
  constructor(name: Sha2Name) {
    if (name === "SHA-256") {
      this.outputLength = 32;
      this.blockLength = 64;
      this.#state = IV256.slice();
      this.#compress = compress256;
    } else if (name === "SHA-384") {
      this.outputLength = 48;
      this.blockLength = 128;
      this.#state = IV384.slice();
      this.#compress = compress512;
    } else {
      throw new TypeError(`unsupported hash ${String(name)}`);
    }
    this.name = name;
    this.#block = new Uint8Array(this.blockLength);
  }

  /** Number of bytes hashed so far. */
  get byteLength(): number {
    return this.#total;
  }

  /** Back to the initial state, as if new. */
  reset(): this {
    this.#state.set(this.name === "SHA-256" ? IV256 : IV384);
    this.#used = 0;
    this.#total = 0;
    return this;
  }

  /** Appends `data`. */
  update(data: Uint8Array): this {
    const bl = this.blockLength, block = this.#block, n = data.length;
    let pos = 0;
    this.#total += n;
    if (this.#used > 0) {
      let used = this.#used;
      const end = Math.min(n, bl - used);
      while (pos < end) block[used++] = data[pos++];
      if (used < bl) {
        this.#used = used;
        return this;
      }
      this.#compress(this.#state, block, 0);
      this.#used = 0;
    }
    for (; n - pos >= bl; pos += bl) this.#compress(this.#state, data, pos);
    let used = 0;
    while (pos < n) block[used++] = data[pos++];
    this.#used = used;
    return this;
  }

  /** The digest of everything so far; the state is kept, so `update` may continue. */
  digest(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.outputLength);
    this.digestInto(out, 0);
    return out;
  }

  /**
   * Writes the digest of everything so far to `out[offset..offset + outputLength]`; the state
   * is kept.
   */
  digestInto(out: Uint8Array, offset = 0): void {
    const bl = this.blockLength, used = this.#used;
    if (!(offset >= 0 && offset + this.outputLength <= out.length)) {
      throw new RangeError("digest does not fit in the output");
    }
    const H = FINAL;
    const state = this.#state, block = this.#block;
    for (let i = 0; i < state.length; i++) H[i] = state[i];
    // FIPS 180-4 §5.1: 0x80, zeros, then the message length in bits (64- or 128-bit big endian).
    for (let i = 0; i < used; i++) PAD[i] = block[i];
    PAD[used] = 0x80;
    const end = used + 1 + (bl === 64 ? 8 : 16) <= bl ? bl : 2 * bl;
    for (let i = used + 1; i < end - 8; i++) PAD[i] = 0;
    const total = this.#total;
    const hi = Math.floor(total / 0x20000000), lo = (total << 3) >>> 0;
    PAD[end - 8] = hi >>> 24;
    PAD[end - 7] = hi >>> 16;
    PAD[end - 6] = hi >>> 8;
    PAD[end - 5] = hi;
    PAD[end - 4] = lo >>> 24;
    PAD[end - 3] = lo >>> 16;
    PAD[end - 2] = lo >>> 8;
    PAD[end - 1] = lo;
    for (let off = 0; off < end; off += bl) this.#compress(H, PAD, off);
    for (let i = 0, o = offset; i < this.outputLength >> 2; i++, o += 4) {
      const w = H[i];
      out[o] = w >>> 24;
      out[o + 1] = w >>> 16;
      out[o + 2] = w >>> 8;
      out[o + 3] = w;
    }
  }

  /** An independent copy of this hash in its current state. */
  clone(): Sha2 {
    return new Sha2(this.name).copyFrom(this);
  }

  /** Takes over the state of `other` (same algorithm). */
  copyFrom(other: Sha2): this {
    if (other.name !== this.name) {
      throw new TypeError(`cannot copy ${other.name} into ${this.name}`);
    }
    this.#state.set(other.#state);
    this.#used = other.#used;
    this.#total = other.#total;
    if (this.#used > 0) this.#block.set(other.#block.subarray(0, this.#used));
    return this;
  }

  /**
   * Saves the chaining value into `into[at..]` (8 or 16 words). Only valid on a block boundary
   * (HMAC pads): the partial block is not saved.
   */
  saveState(into: number[], at: number): void {
    if (this.#used !== 0) throw new TypeError("state is not on a block boundary");
    const state = this.#state;
    for (let i = 0; i < state.length; i++) into[at + i] = state[i];
  }

  /** Loads a chaining value saved by {@link Sha2.saveState} after `byteLength` bytes. */
  loadState(from: readonly number[], at: number, byteLength: number): this {
    const n = this.#state.length;
    for (let i = 0; i < n; i++) this.#state[i] = from[at + i];
    this.#used = 0;
    this.#total = byteLength;
    return this;
  }
}

const WORK: Record<Sha2Name, Sha2> = {
  "SHA-256": new Sha2("SHA-256"),
  "SHA-384": new Sha2("SHA-384"),
};
// Inner HMAC digests and key pads, one per hash so that no view is made per call.
const INNER: Record<Sha2Name, Uint8Array> = {
  "SHA-256": new Uint8Array(32),
  "SHA-384": new Uint8Array(48),
};
const KEY_PAD: Record<Sha2Name, Uint8Array> = {
  "SHA-256": new Uint8Array(64),
  "SHA-384": new Uint8Array(128),
};

/**
 * The digest of `data` in one call.
 *
 * @example
 * ```ts
 * import { sha2 } from "./sha2.ts";
 * console.log(sha2("SHA-384", new Uint8Array(0)).toHex().slice(0, 8)); // "38b060a7"
 * ```
 */
export function sha2(name: Sha2Name, data: Uint8Array): Uint8Array<ArrayBuffer> {
  return WORK[name].reset().update(data).digest();
}

/**
 * An HMAC key (RFC 2104) with its two padded blocks already hashed, so each MAC costs only the
 * message blocks plus two finalisations. The key bytes themselves are not kept.
 *
 * @example
 * ```ts
 * import { HmacKey } from "./sha2.ts";
 * const key = new HmacKey("SHA-256", new TextEncoder().encode("key"));
 * const mac = key.sign(new TextEncoder().encode("The quick brown fox jumps over the lazy dog"));
 * console.log(mac.toHex().slice(0, 8)); // "f7bc83f4"
 * ```
 */
export class HmacKey {
  /** The hash function. */
  readonly hash: Sha2Name;
  /** MAC length in bytes: 32 or 48. */
  readonly outputLength: 32 | 48;
  // The chaining values after (K ^ ipad) and after (K ^ opad), as 32-bit words. A plain array:
  // on Deno every typed array gets its own backing store, which costs more than the words.
  #pads: number[];
  #block: number;

  /**
   * Prepares `key`. Keys longer than a block are hashed first (RFC 2104 §2).
   *
   * @param hash `"SHA-256"` or `"SHA-384"`.
   * @param key The key, any length.
   */
  constructor(hash: Sha2Name, key: Uint8Array) {
    const work = WORK[hash];
    if (work === undefined) throw new TypeError(`unsupported hash ${String(hash)}`);
    if (!(key instanceof Uint8Array)) throw new TypeError("HMAC key must be a Uint8Array");
    this.hash = hash;
    this.outputLength = work.outputLength;
    const bl = this.#block = work.blockLength;
    const words = bl === 64 ? 8 : 16;
    const k = key.length > bl ? sha2(hash, key) : key;
    const pad = KEY_PAD[hash];
    for (let i = 0; i < bl; i++) pad[i] = (i < k.length ? k[i] : 0) ^ 0x36;
    this.#pads = new Array<number>(2 * words).fill(0);
    work.reset().update(pad).saveState(this.#pads, 0);
    for (let i = 0; i < bl; i++) pad[i] ^= 0x36 ^ 0x5c;
    work.reset().update(pad).saveState(this.#pads, words);
    pad.fill(0);
  }

  /** HMAC(key, data). */
  sign(data: Uint8Array): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(this.outputLength);
    this.signInto(data, out, 0);
    return out;
  }

  /** Writes HMAC(key, data) to `out[offset..offset + outputLength]`. */
  signInto(data: Uint8Array, out: Uint8Array, offset = 0): void {
    const work = WORK[this.hash], bl = this.#block, words = bl === 64 ? 8 : 16;
    const inner = INNER[this.hash];
    work.loadState(this.#pads, 0, bl).update(data).digestInto(inner, 0);
    work.loadState(this.#pads, words, bl).update(inner).digestInto(out, offset);
  }
}
