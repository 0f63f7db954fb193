// Fuzzing decodeSession (ssl/ssl_asn1.c:d2i_SSL_SESSION): every mutated input must give a
// session or a DerError, nothing else; accepted sessions must re-encode and decode stably.
// A sample is also checked against libssl itself through `openssl sess_id -inform DER`.
import assert from "node:assert/strict";
import { DerError } from "../src/der/errors.ts";
import { decodeSession, encodeSession } from "../src/session/codec.ts";
import { TLS12_DER, TLS13_DER } from "./_vectors.ts";

/** A small deterministic PRNG (mulberry32), so failures reproduce. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Offsets of every length byte in a DER input (walking the element tree). */
function lengthOffsets(der: Uint8Array): number[] {
  const out: number[] = [];
  const walk = (p: number, end: number) => {
    while (p < end) {
      const tag = der[p];
      out.push(p + 1);
      let len = der[p + 1];
      let hdr = 2;
      if (len & 0x80) {
        const n = len & 0x7f;
        len = 0;
        for (let i = 0; i < n; i++) len = len * 256 + der[p + 2 + i];
        hdr += n;
      }
      if (tag & 0x20) walk(p + hdr, p + hdr + len);
      p += hdr + len;
    }
  };
  walk(0, der.length);
  return out;
}

/** The mutated inputs: truncations, single-bit flips, length corruptions, random mutations. */
export function* variants(total: number, seed = 1): Generator<Uint8Array> {
  const rand = prng(seed);
  let n = 0;
  const seeds = [TLS12_DER, TLS13_DER];
  for (const v of seeds) {
    for (let i = 0; i < v.length; i++, n++) yield v.slice(0, i);
    for (let bit = 0; bit < v.length * 8; bit++, n++) {
      const c = v.slice();
      c[bit >> 3] ^= 1 << (bit & 7);
      yield c;
    }
    for (const off of lengthOffsets(v)) {
      for (const val of [0, 1, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x88, 0xff, v[off] - 1, v[off] + 1]) {
        const c = v.slice();
        c[off] = val & 0xff;
        n++;
        yield c;
      }
    }
  }
  while (n < total) {
    const v = seeds[n & 1];
    const c = v.slice(0, v.length - Math.floor(rand() * 4) * (rand() < 0.2 ? 1 : 0));
    const edits = 1 + Math.floor(rand() * 4);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rand() * c.length);
      const r = rand();
      if (r < 0.4) c[at] ^= 1 << Math.floor(rand() * 8);
      else if (r < 0.7) c[at] = Math.floor(rand() * 256);
      else c[at] = [0x00, 0x80, 0x81, 0x82, 0xff, 0x30, 0x04, 0x02, 0xa0][Math.floor(rand() * 9)];
    }
    n++;
    yield c;
  }
}

const TOTAL = 100_000;

Deno.test("decodeSession fuzz: 100,000 truncated, bit-flipped and length-corrupted inputs", () => {
  let sessions = 0, derErrors = 0, other = 0, count = 0;
  const failures: string[] = [];
  for (const input of variants(TOTAL)) {
    count++;
    try {
      const s = decodeSession(input, { now: 1_000_000 });
      sessions++;
      // An accepted session re-encodes, and that encoding decodes to the same session.
      const again = encodeSession(s);
      assert.deepEqual(
        decodeSession(again).toJSON({ showSecrets: true }),
        s.toJSON({ showSecrets: true }),
      );
    } catch (e) {
      if (e instanceof DerError) derErrors++;
      else {
        other++;
        if (failures.length < 5) failures.push(`${input.toHex()}: ${e}`);
      }
    }
  }
  assert.deepEqual(failures, []);
  assert.equal(other, 0);
  assert.ok(count >= TOTAL, `ran ${count}`);
  assert.equal(sessions + derErrors, count);
  assert.ok(sessions > 1000 && derErrors > 10_000, `${sessions} sessions, ${derErrors} errors`);
});

const openssl = (() => {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null" }).outputSync().success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: "decodeSession agrees with libssl's d2i_SSL_SESSION (openssl sess_id) on 1,000 variants",
  ignore: !openssl,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      let compared = 0, agreeAccept = 0, agreeReject = 0;
      const disagreements: string[] = [];
      let i = 0;
      for (const input of variants(20_000, 7)) {
        if (i++ % 20 !== 0) continue;
        let ours: boolean;
        try {
          const s = decodeSession(input);
          // libssl parses [3] as X.509; this module keeps it raw.
          if (s.peerCertificate) continue;
          ours = true;
        } catch (e) {
          // BIO reading ignores trailing bytes; integers past 2^53 are a documented limit.
          if (/trailing|2\^53/.test((e as Error).message)) continue;
          ours = false;
        }
        const file = `${dir}/s.der`;
        await Deno.writeFile(file, input);
        const out = await new Deno.Command("openssl", {
          args: ["sess_id", "-inform", "DER", "-in", file, "-noout"],
          stdout: "null",
          stderr: "null",
        }).output();
        compared++;
        if (out.success !== ours) disagreements.push(`${input.toHex()} ours=${ours}`);
        else if (ours) agreeAccept++;
        else agreeReject++;
      }
      assert.deepEqual(disagreements, []);
      assert.ok(compared >= 900, `compared ${compared}`);
      assert.ok(agreeAccept > 10 && agreeReject > 10, `${agreeAccept} / ${agreeReject}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
