// The byte comparisons every layer shares (src/ticket/bytes.ts): sameBytes for bytes that are not
// secret, constantTimeEqual for MACs, key names, Finished verify_data and binders.
import assert from "node:assert/strict";
import { constantTimeEqual, sameBytes } from "../src/ticket/bytes.ts";

const EMPTY = new Uint8Array(0);

Deno.test("sameBytes: equal, one differing byte anywhere, different lengths, views", () => {
  const a = crypto.getRandomValues(new Uint8Array(48));
  assert.ok(sameBytes(a, a.slice()));
  assert.ok(sameBytes(EMPTY, new Uint8Array(0)));
  for (let i = 0; i < a.length; i++) {
    const b = a.slice();
    b[i] ^= 0x80;
    assert.ok(!sameBytes(a, b), `byte ${i}`);
  }
  assert.ok(!sameBytes(a, a.subarray(0, 47)));
  assert.ok(!sameBytes(a.subarray(0, 0), a));
  assert.ok(sameBytes(a.subarray(8, 24), a.slice(8, 24)));
});

Deno.test("constantTimeEqual: equal, one differing byte anywhere, different lengths", () => {
  const a = crypto.getRandomValues(new Uint8Array(48));
  assert.ok(constantTimeEqual(a, a.slice()));
  assert.ok(constantTimeEqual(EMPTY, new Uint8Array(0)));
  for (let i = 0; i < a.length; i++) {
    const b = a.slice();
    b[i] ^= 0x80;
    assert.ok(!constantTimeEqual(a, b), `byte ${i}`);
  }
  assert.ok(!constantTimeEqual(a, a.subarray(0, 47)));
  assert.ok(!constantTimeEqual(a.subarray(0, 0), a));
  // Views compare by content: a MAC at the end of a ticket, a key name at its start.
  const ticket = crypto.getRandomValues(new Uint8Array(80));
  assert.ok(constantTimeEqual(ticket.subarray(48), ticket.slice(48)));
  assert.ok(constantTimeEqual(ticket.subarray(0, 16), ticket.slice(0, 16)));
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
