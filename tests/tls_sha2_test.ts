// Tests for the synchronous SHA-256 / SHA-384 and HMAC of src/tls/_sha2.ts: the NIST examples
// of FIPS 180-4 (empty, "abc", the 448- and 896-bit messages, one million 'a'), the seven HMAC
// test cases of RFC 4231 §4, and differential runs against node:crypto createHash / createHmac
// (about 2000 random inputs of 0..300 bytes, split into random incremental updates, cloned and
// read at random points) and against Web Crypto digest / HMAC sign.
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { HmacKey, Sha2, sha2, type Sha2Name } from "../src/crypto/sha2.ts";

const text = (s: string) => new TextEncoder().encode(s);
const NODE: Record<Sha2Name, string> = { "SHA-256": "sha256", "SHA-384": "sha384" };
const nodeHash = (name: Sha2Name, data: Uint8Array) =>
  createHash(NODE[name]).update(data).digest("hex");
const nodeHmac = (name: Sha2Name, key: Uint8Array, data: Uint8Array) =>
  createHmac(NODE[name], key).update(data).digest("hex");

/** A small deterministic PRNG (xorshift32) so a failure can be replayed from its seed. */
function prng(seed: number) {
  let s = seed | 0 || 1;
  const next = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  return {
    int: (n: number) => next() % n,
    bytes: (n: number) => Uint8Array.from({ length: n }, () => next() & 0xff),
  };
}

// FIPS 180-4 / NIST "Examples with Intermediate Values" (SHA256.pdf, SHA384.pdf) and the
// one-million-'a' message of the NIST SHA test suite.
const M448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
const M896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn" +
  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
const NIST: Array<[string, Sha2Name, string]> = [
  ["", "SHA-256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  ["abc", "SHA-256", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  [M448, "SHA-256", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"],
  [M896, "SHA-256", "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"],
  [
    "",
    "SHA-384",
    "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
  ],
  [
    "abc",
    "SHA-384",
    "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
  ],
  [
    M448,
    "SHA-384",
    "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b",
  ],
  [
    M896,
    "SHA-384",
    "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039",
  ],
];

Deno.test('FIPS 180-4 examples: empty, "abc", 448-bit and 896-bit messages', () => {
  for (const [message, name, expected] of NIST) {
    assert.equal(sha2(name, text(message)).toHex(), expected, `${name}("${message}")`);
    // Byte by byte gives the same result.
    const h = new Sha2(name);
    for (const b of text(message)) h.update(new Uint8Array([b]));
    assert.equal(h.digest().toHex(), expected, `${name}("${message}") byte by byte`);
  }
});

Deno.test("FIPS 180-4 / NIST: one million 'a' (SHA-256 and SHA-384)", () => {
  const million = new Uint8Array(1_000_000).fill(0x61);
  assert.equal(
    sha2("SHA-256", million).toHex(),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
  assert.equal(
    sha2("SHA-384", million).toHex(),
    "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985",
  );
  // In uneven chunks (1000 × 1000 bytes would align with neither block size anyway).
  const h = new Sha2("SHA-256");
  for (let off = 0; off < million.length; off += 777) h.update(million.subarray(off, off + 777));
  assert.equal(h.byteLength, 1_000_000);
  assert.equal(
    h.digest().toHex(),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

// RFC 4231 §4: the seven test cases (case 5 is truncated to 128 bits in the RFC).
const RFC4231: Array<
  { name: string; key: Uint8Array; data: Uint8Array; sha256: string; sha384: string }
> = [
  {
    name: "4.2 (test case 1)",
    key: new Uint8Array(20).fill(0x0b),
    data: text("Hi There"),
    sha256: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    sha384:
      "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
  },
  {
    name: "4.3 (test case 2, key shorter than the output)",
    key: text("Jefe"),
    data: text("what do ya want for nothing?"),
    sha256: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    sha384:
      "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
  },
  {
    name: "4.4 (test case 3)",
    key: new Uint8Array(20).fill(0xaa),
    data: new Uint8Array(50).fill(0xdd),
    sha256: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    sha384:
      "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b2a5ab39dc13814b94e3ab6e101a34f27",
  },
  {
    name: "4.5 (test case 4)",
    key: Uint8Array.from({ length: 25 }, (_, i) => i + 1),
    data: new Uint8Array(50).fill(0xcd),
    sha256: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    sha384:
      "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb",
  },
  {
    name: "4.6 (test case 5, truncated to 128 bits)",
    key: new Uint8Array(20).fill(0x0c),
    data: text("Test With Truncation"),
    sha256: "a3b6167473100ee06e0c796c2955552b",
    sha384: "3abf34c3503b2a23a46efc619baef897",
  },
  {
    name: "4.7 (test case 6, 131-byte key)",
    key: new Uint8Array(131).fill(0xaa),
    data: text("Test Using Larger Than Block-Size Key - Hash Key First"),
    sha256: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    sha384:
      "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
  },
  {
    name: "4.8 (test case 7, 131-byte key and data)",
    key: new Uint8Array(131).fill(0xaa),
    data: text(
      "This is a test using a larger than block-size key and a larger than block-size data." +
        " The key needs to be hashed before being used by the HMAC algorithm.",
    ),
    sha256: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    sha384:
      "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e",
  },
];

Deno.test("RFC 4231 §4: HMAC-SHA-256 and HMAC-SHA-384 test cases 1-7", () => {
  for (const c of RFC4231) {
    for (const name of ["SHA-256", "SHA-384"] as const) {
      const expected = name === "SHA-256" ? c.sha256 : c.sha384;
      const tag = new HmacKey(name, c.key).sign(c.data).toHex();
      assert.equal(tag.slice(0, expected.length), expected, `${c.name} ${name}`);
    }
  }
});

Deno.test("RFC 2104: one HmacKey signs many messages; signInto writes at an offset", () => {
  const key = new HmacKey("SHA-384", text("Jefe"));
  const rnd = prng(7);
  for (let i = 0; i < 50; i++) {
    const data = rnd.bytes(rnd.int(400));
    assert.equal(key.sign(data).toHex(), nodeHmac("SHA-384", text("Jefe"), data));
  }
  const out = new Uint8Array(60).fill(0xee);
  key.signInto(text("abc"), out, 5);
  assert.equal(out.subarray(5, 53).toHex(), nodeHmac("SHA-384", text("Jefe"), text("abc")));
  assert.deepEqual([...out.subarray(0, 5), ...out.subarray(53)], new Array(12).fill(0xee));
  // Keys of exactly one block are used as they are; one byte longer, hashed first.
  for (const len of [63, 64, 65, 127, 128, 129]) {
    const k = new Uint8Array(len).fill(0x5a);
    for (const name of ["SHA-256", "SHA-384"] as const) {
      assert.equal(new HmacKey(name, k).sign(text("m")).toHex(), nodeHmac(name, k, text("m")));
    }
  }
});

Deno.test("FIPS 180-4 vs node:crypto: 2000 random inputs, random splits, clone and digest midway", () => {
  const seed = 0x5eed1234;
  const rnd = prng(seed);
  for (let i = 0; i < 2000; i++) {
    const name: Sha2Name = i % 2 ? "SHA-384" : "SHA-256";
    const data = rnd.bytes(rnd.int(301));
    const where = `seed ${seed} iteration ${i} (${name}, ${data.length} bytes)`;
    // One shot.
    assert.equal(sha2(name, data).toHex(), nodeHash(name, data), where);
    // Random split points; read the digest (which must not disturb the state) after some
    // pieces, and fork a clone at a random point that then hashes the rest on its own.
    const h = new Sha2(name);
    const forkAt = rnd.int(data.length + 1);
    let fork: Sha2 | undefined;
    let off = 0;
    while (off < data.length) {
      if (fork === undefined && off >= forkAt) fork = h.clone();
      const n = Math.min(data.length - off, 1 + rnd.int(150));
      h.update(data.subarray(off, off + n));
      off += n;
      if (rnd.int(3) === 0) {
        assert.equal(h.digest().toHex(), nodeHash(name, data.subarray(0, off)), where);
      }
    }
    fork ??= h.clone();
    assert.equal(h.digest().toHex(), nodeHash(name, data), where);
    // The clone holds the bytes hashed when it was taken, and carries on independently.
    const forked = fork.byteLength;
    assert.ok(forked >= Math.min(forkAt, data.length), where);
    assert.equal(fork.digest().toHex(), nodeHash(name, data.subarray(0, forked)), where);
    fork.update(data.subarray(forked));
    assert.equal(fork.digest().toHex(), nodeHash(name, data), where);
  }
});

Deno.test("RFC 2104 vs node:crypto: 2000 random keys (0..300 bytes) and messages", () => {
  const seed = 0x0bad5eed;
  const rnd = prng(seed);
  for (let i = 0; i < 2000; i++) {
    const name: Sha2Name = i % 2 ? "SHA-384" : "SHA-256";
    const key = rnd.bytes(rnd.int(301)), data = rnd.bytes(rnd.int(301));
    assert.equal(
      new HmacKey(name, key).sign(data).toHex(),
      nodeHmac(name, key, data),
      `seed ${seed} iteration ${i} (${name}, key ${key.length}, data ${data.length})`,
    );
  }
});

Deno.test("FIPS 180-4 / RFC 2104 vs Web Crypto: digest and HMAC sign on random inputs", async () => {
  const rnd = prng(99);
  for (let i = 0; i < 200; i++) {
    const name: Sha2Name = i % 2 ? "SHA-384" : "SHA-256";
    const data = rnd.bytes(rnd.int(400)), key = rnd.bytes(1 + rnd.int(200));
    const digest = new Uint8Array(await crypto.subtle.digest(name, data));
    assert.equal(sha2(name, data).toHex(), digest.toHex());
    const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: name }, false, [
      "sign",
    ]);
    const tag = new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
    assert.equal(new HmacKey(name, key).sign(data).toHex(), tag.toHex());
  }
});

Deno.test("Sha2: digest keeps the state, reset starts over, copyFrom and the block boundary", () => {
  const h = new Sha2("SHA-256").update(text("ab"));
  const first = h.digest().toHex();
  assert.equal(h.digest().toHex(), first);
  h.update(text("c"));
  assert.equal(h.digest().toHex(), NIST[1][2]);
  h.reset();
  assert.equal(h.byteLength, 0);
  assert.equal(h.digest().toHex(), NIST[0][2]);
  // Padding edge cases: lengths around the point where the length field no longer fits.
  for (const name of ["SHA-256", "SHA-384"] as const) {
    const bl = name === "SHA-256" ? 64 : 128, lenField = name === "SHA-256" ? 8 : 16;
    for (
      const n of [bl - lenField - 2, bl - lenField - 1, bl - lenField, bl - 1, bl, bl + 1, 2 * bl]
    ) {
      const data = new Uint8Array(n).fill(n);
      assert.equal(sha2(name, data).toHex(), nodeHash(name, data), `${name} ${n} bytes`);
    }
  }
  const a = new Sha2("SHA-384").update(text(M896));
  const b = new Sha2("SHA-384").copyFrom(a);
  assert.equal(b.digest().toHex(), NIST[7][2]);
  assert.throws(() => new Sha2("SHA-256").copyFrom(a), TypeError);
  assert.throws(() => new Sha2("SHA-512" as Sha2Name), TypeError);
  assert.throws(() => new HmacKey("MD5" as Sha2Name, text("k")), TypeError);
  assert.throws(() => h.digestInto(new Uint8Array(31)), RangeError);
});
