// The byte helpers every layer shares (src/ticket/bytes.ts): sameBytes for bytes that are not
// secret, constantTimeEqual for MACs, key names, Finished verify_data and binders, asBufferBytes
// for Web Crypto inputs, concatBytes for messages built from parts.
import assert from "node:assert/strict";
import { asBufferBytes, concatBytes, constantTimeEqual, sameBytes } from "../src/ticket/bytes.ts";

const EMPTY = new Uint8Array(0);

for (
  const [name, equal] of [
    ["sameBytes", sameBytes],
    // ssl/t1_lib.c:tls_decrypt_ticket compares the MAC with CRYPTO_memcmp: no early exit.
    ["constantTimeEqual", constantTimeEqual],
  ] as const
) {
  Deno.test(`${name}: equal, one differing byte anywhere, different lengths, views by content`, () => {
    const a = crypto.getRandomValues(new Uint8Array(48));
    assert.ok(equal(a, a.slice()));
    assert.ok(equal(EMPTY, new Uint8Array(0)));
    for (let i = 0; i < a.length; i++) {
      const b = a.slice();
      b[i] ^= 0x80;
      assert.ok(!equal(a, b), `byte ${i}`);
    }
    assert.ok(!equal(a, a.subarray(0, 47)));
    assert.ok(!equal(a.subarray(0, 0), a));
    // A MAC at the end of a ticket, a key name at its start.
    assert.ok(equal(a.subarray(16), a.slice(16)));
    assert.ok(equal(a.subarray(0, 16), a.slice(0, 16)));
  });
}

Deno.test("asBufferBytes: the same view on an ArrayBuffer, an equal copy off a SharedArrayBuffer", () => {
  const a = crypto.getRandomValues(new Uint8Array(32));
  const view = a.subarray(4, 20);
  assert.equal(asBufferBytes(view), view);
  const shared = new Uint8Array(new SharedArrayBuffer(16));
  shared.set(view);
  const copy = asBufferBytes(shared);
  assert.notEqual(copy, shared);
  assert.ok(copy.buffer instanceof ArrayBuffer);
  assert.deepEqual(Array.from(copy), Array.from(view));
});

Deno.test("constantTimeEqual: anything but Uint8Arrays is a TypeError, never a vacuous true", () => {
  const a = new Uint8Array([1, 2]);
  const notBytes = [[1, 2], new ArrayBuffer(2), "ab", undefined] as unknown as Uint8Array[];
  for (const x of notBytes) {
    assert.throws(() => constantTimeEqual(a, x), TypeError);
    assert.throws(() => constantTimeEqual(x, a), TypeError);
  }
  assert.throws(
    () =>
      constantTimeEqual(
        new ArrayBuffer(2) as unknown as Uint8Array,
        new ArrayBuffer(2) as unknown as Uint8Array,
      ),
    TypeError,
  );
});

Deno.test("concatBytes: the parts in order in one new ArrayBuffer-backed array; no parts is empty", () => {
  const a = new Uint8Array([1, 2, 3]);
  const shared = new Uint8Array(new SharedArrayBuffer(2));
  shared.set([4, 5]);
  const out = concatBytes([a.subarray(1), EMPTY, shared, a.subarray(0, 1)]);
  assert.deepEqual(Array.from(out), [2, 3, 4, 5, 1]);
  assert.ok(out.buffer instanceof ArrayBuffer);
  out[0] = 9;
  assert.equal(a[1], 2); // a copy, not a view
  assert.equal(concatBytes([]).length, 0);
});
