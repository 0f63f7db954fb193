// DerWriter (src/der/writer.ts) on its own: minimal DER lengths (X.690 §10.1), minimal two's
// complement INTEGERs (X.690 §8.3.2, as i2c_ibuf writes them), EXPLICIT wrappers, and that
// everything it writes reads back through DerReader to the same values.

import assert from "node:assert/strict";
import { DerReader } from "../src/der/reader.ts";
import { DerWriter } from "../src/der/writer.ts";

const int = (v: number | bigint) => {
  const w = new DerWriter(4);
  w.writeInteger(v);
  return w.toBytes().toHex();
};

Deno.test("X.690 §8.3.2 / i2c_ibuf: INTEGERs are minimal two's complement", () => {
  assert.equal(int(0), "020100");
  assert.equal(int(127), "02017f");
  assert.equal(int(128), "02020080");
  assert.equal(int(255), "020200ff");
  assert.equal(int(256), "02020100");
  assert.equal(int(-1), "0201ff");
  assert.equal(int(-128), "020180");
  assert.equal(int(-129), "0202ff7f");
  assert.equal(int(0x9a3c0102), "0205009a3c0102"); // an age_add with its top bit set
  assert.equal(int(2n ** 63n - 1n), "02087fffffffffffffff");
  assert.equal(int(2n ** 64n - 1n), "020900ffffffffffffffff");
});

Deno.test("X.690 §10.1: lengths use the short form below 128 and the minimal long form above", () => {
  for (
    const [n, header] of [[0, "0400"], [127, "047f"], [128, "048180"], [255, "0481ff"], [
      256,
      "04820100",
    ], [70000, "0483011170"]] as const
  ) {
    const w = new DerWriter();
    w.writeOctetString(new Uint8Array(n));
    const out = w.toBytes();
    assert.equal(out.subarray(0, header.length / 2).toHex(), header, `length ${n}`);
    assert.equal(out.length, header.length / 2 + n);
  }
});

Deno.test("DerWriter: prepends, so a SEQUENCE is written last-field-first and wrapped with its mark", () => {
  const w = new DerWriter(16);
  const mark = w.length;
  w.writeExplicitOctetString(18, new TextEncoder().encode("HelloWorld"));
  w.writeExplicitInteger(2, 7200);
  w.writeInteger(1);
  w.wrap(0x30, mark);
  assert.equal(
    w.toBytes().toHex(),
    "3017" + "020101" + "a20402021c20" + "b20c040a48656c6c6f576f726c64",
  );
  w.reset();
  assert.equal(w.length, 0);
  w.writeByte(5);
  assert.equal(w.toBytes().toHex(), "05");
});

Deno.test("DerWriter → DerReader: 5,000 random integers and octet strings read back unchanged", () => {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0);
  for (let i = 0; i < 5000; i++) {
    const v = i % 3 === 0
      ? BigInt.asIntN(72, (BigInt(rand()) << 40n) ^ BigInt(rand()) ^ (BigInt(rand()) << 20n))
      : (i % 3 === 1 ? rand() % 2 ** 31 : -(rand() % 2 ** 31));
    const bytes = Uint8Array.from({ length: rand() % 300 }, () => rand() & 0xff);
    const w = new DerWriter(1);
    const mark = w.length;
    w.writeOctetString(bytes);
    w.writeInteger(v);
    w.wrap(0x30, mark);
    const r = new DerReader(w.toBytes());
    const inner = r.enter(r.readHeader());
    const back = inner.readIntegerValue();
    if (typeof v === "bigint" && (v > 2n ** 47n || v < -(2n ** 47n))) assert.equal(back, v);
    else assert.equal(BigInt(back), BigInt(v));
    assert.deepEqual(inner.readOctetString(), bytes);
    inner.finish();
  }
});

Deno.test("DerWriter.wipe zeroes the buffer, and growing never leaves a copy of what was written", () => {
  const w = new DerWriter(16);
  w.writeOctetString(new Uint8Array(12).fill(0xaa));
  const small = w.toBytes();
  w.writeRaw(new Uint8Array(4096).fill(0xbb)); // grows: the buffer is replaced
  assert.ok(new Uint8Array(small.buffer).every((b) => b === 0), "old buffer zeroed");
  const view = w.toBytes();
  w.wipe();
  assert.equal(w.length, 0);
  assert.ok(new Uint8Array(view.buffer).every((b) => b === 0), "buffer zeroed");
});
