// DerReader (src/der/reader.ts) on its own: the identifier and length rules of libssl's
// ASN1_get_object / asn1_get_length (X.690 §8.1.2, §8.1.3), INTEGER contents as c2i_ibuf
// reads them (X.690 §8.3.2: minimal two's complement), BER constructed OCTET STRINGs as
// asn1_collect gathers them, and the nesting limit. Every malformed input is a DerError at the
// offending offset, never a RangeError or a read past the input.

import assert from "node:assert/strict";
import { DerError } from "../src/der/errors.ts";
import { DerReader, MAX_DEPTH } from "../src/der/reader.ts";

const hex = (s: string) => Uint8Array.fromHex(s.replace(/\s+/g, ""));

function derError(f: () => unknown): DerError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof DerError, `expected DerError, got ${e}`);
    return e;
  }
  assert.fail("expected a DerError");
}

Deno.test("X.690 §8.1.3: short, long and non-minimal long length forms are read (ASN1_get_object)", () => {
  // asn1_get_length skips leading zero length bytes, so even seven length bytes can be fine.
  const forms = [["0403aabbcc", 3], ["048103aabbcc", 3], ["04820003aabbcc", 3], [
    "048700000000000003aabbcc",
    3,
  ]];
  for (const [input, length] of forms) {
    const r = new DerReader(hex(input as string));
    const h = r.readHeader();
    assert.deepEqual([h.tag, h.tagNumber, h.tagClass, h.constructed, h.length], [
      4,
      4,
      0,
      false,
      length,
    ]);
    assert.equal(r.readContent(h).toHex(), "aabbcc");
    assert.ok(r.atEnd());
  }
});

Deno.test("X.690 §8.1.2.4: the high-tag-number form gives the same tag number as the low form", () => {
  const low = new DerReader(hex("a3020500")).readHeader();
  const high = new DerReader(hex("bf03020500")).readHeader();
  assert.deepEqual([low.tagClass, low.tagNumber, low.constructed], [2, 3, true]);
  assert.deepEqual([high.tagClass, high.tagNumber, high.constructed], [2, 3, true]);
  assert.ok(new DerReader(hex("bf03020500")).nextIs(2, 3));
  assert.equal(new DerReader(hex("bf8140020500")).readHeader().tagNumber, 0xc0);
});

Deno.test("asn1_get_length: an indefinite length is allowed on constructed elements only, and ends at 00 00", () => {
  const r = new DerReader(hex("3080 020101 0000"));
  const h = r.readHeader();
  assert.equal(h.length, -1);
  const inner = r.enter(h);
  assert.equal(inner.readIntegerValue(), 1);
  assert.ok(inner.atEnd());
  inner.finish();
  r.leave(inner);
  assert.ok(r.atEnd());
  assert.match(derError(() => new DerReader(hex("0480aa0000")).readHeader()).message, /indefinite/);
  const missing = new DerReader(hex("3080020101"));
  const inner2 = missing.enter(missing.readHeader());
  inner2.readIntegerValue();
  assert.match(derError(() => inner2.finish()).message, /end-of-contents/);
});

Deno.test("ASN1_get_object: truncated headers and lengths past the container are DerErrors with their offset", () => {
  const cases: [string, RegExp, number][] = [
    ["", /input ends/, 0],
    ["04", /truncated/, 0],
    ["0405aabb", /runs past/, 0],
    ["0484", /length bytes/, 0],
    ["0487010000000000000000", /too large/, 0],
    ["1f", /truncated/, 0],
    ["1f8080808080808001", /truncated/, 0],
    ["1fffffffff7f0100", /high tag number/, 0],
    ["0000 0402aa", /runs past/, 2],
  ];
  for (const [input, why, offset] of cases) {
    const r = new DerReader(hex(input));
    if (offset > 0) r.readHeader();
    const e = derError(() => r.readHeader());
    assert.match(e.message, why, input);
    assert.equal(e.offset, offset, input);
  }
});

Deno.test("c2i_ibuf: INTEGERs must be minimal; zero-length reads as 0; large values are bigints", () => {
  const value = (s: string) => new DerReader(hex(s)).readIntegerValue();
  assert.equal(value("020100"), 0);
  assert.equal(value("0200"), 0); // crypto/asn1/x_int64.c accepts empty contents
  assert.equal(value("02017f"), 127);
  assert.equal(value("02020080"), 128);
  assert.equal(value("0201ff"), -1);
  assert.equal(value("0202ff7f"), -129);
  assert.equal(value("0206010000000000"), 2 ** 40);
  assert.equal(value("02070100000000000000".slice(0, 18)), 2n ** 48n);
  assert.equal(new DerReader(hex("020101")).readInteger(), 1n);
  assert.match(derError(() => value("02020001")).message, /minimal/);
  assert.match(derError(() => value("0202ff80")).message, /minimal/);
  assert.match(derError(() => value("020a01000000000000000000")).message, /too large/);
  assert.match(derError(() => value("040101")).message, /expected INTEGER/);
  assert.match(derError(() => value("2203020101")).message, /constructed/);
});

Deno.test("asn1_collect: a constructed OCTET STRING is the concatenation of its segments, at most 5 deep", () => {
  const r = new DerReader(hex("2408 0402aabb 0402ccdd"));
  assert.equal(r.readOctetString().toHex(), "aabbccdd");
  const indefinite = new DerReader(hex("2480 0401aa 2480 0401bb 0000 0000"));
  assert.equal(indefinite.readOctetString().toHex(), "aabb");
  let deep = "0401aa";
  for (let i = 0; i < 7; i++) deep = `24${(deep.length / 2).toString(16).padStart(2, "0")}${deep}`;
  assert.match(derError(() => new DerReader(hex(deep)).readOctetString()).message, /too deeply/);
  assert.match(
    derError(() => new DerReader(hex("2403 8001aa")).readOctetString()).message,
    /not universal/,
  );
  // An IMPLICIT tag is read when asked for.
  assert.equal(new DerReader(hex("8002cafe")).readOctetString(2, 0).toHex(), "cafe");
  assert.match(derError(() => new DerReader(hex("0401aa")).readOctetString(2, 0)).message, /OCTET/);
});

Deno.test(`ASN1_MAX_CONSTRUCTED_NEST: the reader enters at most ${MAX_DEPTH} constructed levels`, () => {
  const nested = (levels: number) => {
    let body = "0500";
    for (let i = 0; i < levels; i++) {
      const len = body.length / 2;
      body = `30${len < 128 ? len.toString(16).padStart(2, "0") : `81${len.toString(16)}`}${body}`;
    }
    return hex(body);
  };
  const walk = (bytes: Uint8Array) => {
    let r = new DerReader(bytes);
    for (;;) {
      const h = r.readHeader();
      if (!h.constructed) return;
      r = r.enter(h);
    }
  };
  walk(nested(MAX_DEPTH));
  assert.match(derError(() => walk(nested(MAX_DEPTH + 1))).message, /nested too deeply/);
});

Deno.test("DerReader: trailing data inside an element and skipElement over indefinite contents", () => {
  const r = new DerReader(hex("3004 020101 05"));
  const inner = r.enter(r.readHeader());
  inner.readIntegerValue();
  assert.match(derError(() => inner.finish()).message, /trailing/);
  const s = new DerReader(hex("3080 3080 0500 0000 0000 0401aa"));
  assert.equal(s.skipElement().length, 10);
  assert.equal(s.readOctetString().toHex(), "aa");
});

Deno.test("DerReader: random bytes end in a value or a DerError, never another exception (10,000 inputs)", () => {
  let seed = 0x5eed;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  let errors = 0;
  for (let i = 0; i < 10_000; i++) {
    const bytes = Uint8Array.from({ length: 1 + (i % 40) }, rand);
    bytes[0] = [0x02, 0x04, 0x24, 0x30, 0x1f, 0xa0][i % 6];
    try {
      const r = new DerReader(bytes);
      if (bytes[0] === 0x02) r.readIntegerValue();
      else if (bytes[0] === 0x04 || bytes[0] === 0x24) r.readOctetString();
      else r.skipElement();
    } catch (e) {
      assert.ok(e instanceof DerError, String(e));
      errors++;
    }
  }
  assert.ok(errors > 5000 && errors < 10_000, `${errors} errors`);
});
