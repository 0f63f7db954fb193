// Tests for src/session/codec.ts: OpenSSL 3.0 ssl/ssl_asn1.c (i2d_SSL_SESSION, d2i_SSL_SESSION)
// byte compatibility, with the ticket plaintexts observed from libssl 3.0.19.
import assert from "node:assert/strict";
import { DerError } from "../src/der/errors.ts";
import {
  decodeSession,
  encodeSession,
  sessionFromPem,
  sessionToPem,
} from "../src/session/codec.ts";
import { SslSession } from "../src/session/ssl_session.ts";
import { SESSION_TEMPLATE, type TemplateRow } from "../src/session/_template.ts";
import { DerReader } from "../src/der/reader.ts";
import { TLS12_DER, TLS13_DER } from "./_vectors.ts";

const hex = (b: Uint8Array) => b.toHex();
const text = (b: Uint8Array | null) => b === null ? null : new TextDecoder().decode(b);

Deno.test("ssl_asn1.c d2i_SSL_SESSION: the TLS 1.2 ticket plaintext decodes to its fields", () => {
  const s = decodeSession(TLS12_DER);
  assert.equal(s.sslVersion, 0x0303);
  assert.equal(s.cipherId, 0xc030);
  assert.equal(s.sessionId.length, 0);
  assert.equal(s.masterKey.length, 48);
  assert.equal(hex(s.masterKey.subarray(0, 3)), "f01de2");
  assert.equal(s.time, 0x6b0c3b4b);
  assert.equal(s.timeout, 7200);
  assert.equal(s.sessionIdContext.length, 0);
  assert.equal(s.flags, 1);
  assert.equal(s.extendedMasterSecret, true);
  assert.equal(text(s.getTicketAppData()), "HelloWorld");
  assert.equal(s.kexGroup, 0x1d);
  assert.equal(s.ticketAgeAdd, 0);
  assert.equal(s.peerCertificate, null);
  assert.equal(s.hostname, null);
});

Deno.test("ssl_asn1.c d2i_SSL_SESSION: the TLS 1.3 ticket plaintext decodes to its fields", () => {
  const s = decodeSession(TLS13_DER);
  assert.equal(s.sslVersion, 0x0304);
  assert.equal(s.cipherId, 0x1302);
  assert.equal(
    hex(s.sessionId),
    "6735d93d8e3d629a1bbb2f730184e3c5b00aa9b8919cd1b04c9595fef4475888",
  );
  assert.equal(s.masterKey.length, 48);
  assert.equal(hex(s.masterKey.subarray(45)), "6c5b88");
  assert.equal(s.time, 0x6b0c3b4b);
  assert.equal(s.timeout, 7200);
  assert.equal(s.ticketAgeAdd, 0x6cc2081e);
  assert.equal(s.flags, 0);
  assert.equal(text(s.getTicketAppData()), "HelloWorld");
  assert.equal(s.kexGroup, 0x1d);
});

Deno.test("ssl_asn1.c i2d_SSL_SESSION: both vectors re-encode to the identical bytes", () => {
  assert.equal(hex(encodeSession(decodeSession(TLS12_DER))), hex(TLS12_DER));
  assert.equal(hex(encodeSession(decodeSession(TLS13_DER))), hex(TLS13_DER));
});

Deno.test("ssl_asn1.c i2d_SSL_SESSION: sessions built field by field encode to the vectors", () => {
  const tls12 = new SslSession({
    sslVersion: 0x0303,
    cipherId: 0xc030,
    masterKey: decodeSession(TLS12_DER).masterKey,
    time: 0x6b0c3b4b,
    timeout: 7200,
    kexGroup: 0x1d,
    ticketAppData: "HelloWorld",
  });
  tls12.extendedMasterSecret = true;
  assert.equal(hex(encodeSession(tls12)), hex(TLS12_DER));

  const v13 = decodeSession(TLS13_DER);
  const tls13 = new SslSession({
    sslVersion: 0x0304,
    cipherId: 0x1302,
    sessionId: v13.sessionId,
    masterKey: v13.masterKey,
    time: 0x6b0c3b4b,
    timeout: 7200,
    ticketAgeAdd: 0x6cc2081e,
    kexGroup: 0x1d,
  });
  tls13.setTicketAppData(new TextEncoder().encode("HelloWorld"));
  assert.equal(hex(encodeSession(tls13)), hex(TLS13_DER));
});

Deno.test("ssl_asn1.c: [19] kex_group and [4] sid_ctx are always written, zero integers omitted", () => {
  // TLS 1.2 with RSA key exchange (AES128-SHA): kex_group 0 still encoded as b3 03 02 01 00.
  const s = new SslSession({ cipherId: 0x002f, time: 5, timeout: 7200 });
  s.extendedMasterSecret = true;
  const der = hex(encodeSession(s));
  assert.ok(der.endsWith("ad03020101b303020100"), der);
  assert.ok(der.includes("a4020400"), "empty [4] sid_ctx present");
  const zeroes = new SslSession({ cipherId: 0x002f });
  // No [1] time, [2] timeout, [5], [9], [13]-[15], [17] when they are 0.
  assert.equal(hex(encodeSession(zeroes)), "3018020101020203030402002f04000400a4020400b303020100");
});

Deno.test("ssl_asn1.c: unsigned integers with the top bit set get a leading 00", () => {
  const s = new SslSession({ sslVersion: 0x0304, cipherId: 0x1301, time: 1, timeout: 1 });
  s.ticketAgeAdd = 0x9abcdef0;
  assert.ok(hex(encodeSession(s)).includes("ae07020500 9abcdef0".replace(" ", "")));
  assert.equal(decodeSession(encodeSession(s)).ticketAgeAdd, 0x9abcdef0);
});

Deno.test("ssl_asn1.c d2i_SSL_SESSION normalisations: no time -> now, timeout 0 -> 3 s", () => {
  const s = decodeSession(encodeSession(new SslSession({ cipherId: 0xc030 })), { now: 1234 });
  assert.equal(s.time, 1234);
  assert.equal(s.timeout, 3);
  // A 1.1.1 session (no [19]) decodes with kex_group 0.
  const noKex = TLS12_DER.slice(0, -5);
  noKex[1] -= 5;
  assert.equal(decodeSession(noKex).kexGroup, 0);
});

Deno.test("every field round-trips through encode and decode", () => {
  const s = new SslSession({
    sslVersion: 0x0304,
    cipherId: 0x1303,
    sessionId: new Uint8Array(32).fill(7),
    masterKey: new Uint8Array(512).fill(9),
    time: 1_800_000_000,
    timeout: 86400,
    peerCertificate: Uint8Array.fromHex("3003020101"),
    sessionIdContext: new Uint8Array(32).fill(3),
    verifyResult: 20,
    hostname: "example.com",
    pskIdentityHint: new TextEncoder().encode("hint"),
    pskIdentity: new TextEncoder().encode("client1"),
    ticketLifetimeHint: 604800,
    ticket: new Uint8Array(300).fill(0xee),
    compressionId: 1,
    srpUsername: "alice",
    flags: 1,
    ticketAgeAdd: 0xffffffff,
    maxEarlyData: 16384,
    alpnSelected: new TextEncoder().encode("h2"),
    maxFragmentLengthMode: 2,
    kexGroup: 0x11ec,
    peerRpk: Uint8Array.fromHex("3000"),
    ticketAppData: "app",
  });
  const der = encodeSession(s);
  const back = decodeSession(der);
  assert.deepEqual(back.toJSON({ showSecrets: true }), s.toJSON({ showSecrets: true }));
  assert.equal(hex(encodeSession(back)), hex(der));
  assert.equal(hex(encodeSession(sessionFromPem(sessionToPem(s)))), hex(der));
});

Deno.test("libssl accepts BER lengths: non-minimal long form and indefinite SEQUENCE", () => {
  // Observed with libssl 3.0.19: both resume as SUCCESS.
  const body = TLS12_DER.subarray(2);
  const longForm = Uint8Array.from([0x30, 0x82, 0x00, body.length, ...body]);
  assert.equal(hex(encodeSession(decodeSession(longForm))), hex(TLS12_DER));
  const indefinite = Uint8Array.from([0x30, 0x80, ...body, 0, 0]);
  assert.equal(hex(encodeSession(decodeSession(indefinite))), hex(TLS12_DER));
});

Deno.test("d2i_SSL_SESSION rejections (ssl/ssl_asn1.c, crypto/asn1/a_int.c c2i_ibuf)", () => {
  const cases: [string, Uint8Array, RegExp][] = [];
  const base = hex(TLS12_DER);
  const rewrite = (from: string, to: string, lenDelta: number) => {
    const b = Uint8Array.fromHex(base.replace(from, to));
    b[1] += lenDelta;
    return b;
  };
  cases.push(["non-minimal INTEGER", rewrite("3069020101", "306902020001", 1), /minimal/]);
  cases.push(["version 2", rewrite("3069020101", "3069020102", 0), /version/]);
  cases.push(["cipher of 3 bytes", rewrite("0402c030", "0403c03000", 1), /cipher/]);
  cases.push(["unknown cipher", rewrite("0402c030", "0402eeee", 0), /unknown/]);
  cases.push(["ssl_version 0x0400", rewrite("020203030402", "020204000402", 0), /sslVersion/]);
  cases.push([
    "[20] after [19] out of order",
    rewrite("b30302011d", "b30302011da4020400", 4),
    /unexpected/,
  ]);
  cases.push(["[19] twice", rewrite("b30302011d", "b30302011db30302011d", 5), /unexpected/]);
  cases.push(["unknown [21]", rewrite("b30302011d", "b30302011db503020101", 5), /unexpected/]);
  cases.push(["[1] not constructed", rewrite("a106", "8106", 0), /not constructed/]);
  cases.push(["trailing byte", Uint8Array.from([...TLS12_DER, 0]), /trailing/]);
  cases.push(["empty input", new Uint8Array(0), /input ends/]);
  for (const [name, der, msg] of cases) {
    assert.throws(() => decodeSession(der), (e: unknown) => {
      assert.ok(e instanceof DerError, `${name}: ${e}`);
      assert.match(e.message, msg, name);
      return true;
    });
  }
});

Deno.test("over-long fields are refused with a message naming the field", () => {
  const s = new SslSession({ cipherId: 0xc030, time: 1, timeout: 1 });
  const long = (f: "sessionId" | "masterKey" | "sessionIdContext", n: number) => {
    const t = s.dup();
    t[f] = new Uint8Array(n);
    return t;
  };
  for (
    const [field, n, max] of [["sessionId", 33, 32], ["masterKey", 513, 512], [
      "sessionIdContext",
      33,
      32,
    ]] as const
  ) {
    assert.throws(() => encodeSession(long(field, n)), new RegExp(`${field}.*${n} bytes.*${max}`));
    // The same lengths in DER, written by hand, are refused by decode.
    const bad = decodeWithLongField(field, n);
    assert.throws(
      () => decodeSession(bad),
      (e: unknown) =>
        e instanceof DerError && e.message.includes(field) && e.message.includes(`${n} bytes`),
    );
  }
});

function decodeWithLongField(field: "sessionId" | "masterKey" | "sessionIdContext", n: number) {
  // Build the DER by hand around an over-long field.
  const octet = (len: number) => {
    const body = new Uint8Array(len);
    const hdr = len < 128
      ? [0x04, len]
      : len < 256
      ? [0x04, 0x81, len]
      : [0x04, 0x82, len >> 8, len & 255];
    return Uint8Array.from([...hdr, ...body]);
  };
  const parts = [
    Uint8Array.fromHex("020101020203030402c030"),
    octet(field === "sessionId" ? n : 0),
    octet(field === "masterKey" ? n : 48),
  ];
  if (field === "sessionIdContext") {
    const o = octet(n);
    parts.push(Uint8Array.from([0xa4, o.length, ...o]));
  }
  const body = parts.flatMap((p) => [...p]);
  return Uint8Array.from([0x30, 0x82, body.length >> 8, body.length & 255, ...body]);
}

Deno.test("PEM: malformed blocks are DerError", () => {
  assert.throws(() => sessionFromPem("nothing here"), DerError);
  assert.throws(
    () =>
      sessionFromPem(
        "-----BEGIN SSL SESSION PARAMETERS-----\n!!!\n-----END SSL SESSION PARAMETERS-----",
      ),
    DerError,
  );
});

// The SSL_SESSION_ASN1 template table (src/session/_template.ts) that encoder and decoder follow.

/** The context tags of an encoded session's OPTIONAL elements, in order. */
function optionalTags(der: Uint8Array): number[] {
  const outer = new DerReader(der);
  const seq = outer.enter(outer.readHeader());
  for (let i = 0; i < 5; i++) seq.skipElement(); // version .. master_key
  const tags: number[] = [];
  while (!seq.atEnd()) {
    const h = seq.peekHeader()!;
    assert.equal(h.tagClass, 2, "context-specific");
    tags.push(h.tagNumber);
    seq.skipElement();
  }
  return tags;
}

/** A session with only the row's field set to a value that is not 0 or empty. */
function withSample(row: TemplateRow): SslSession {
  const s = new SslSession({ cipherId: 0xc030 });
  const fields = s as unknown as Record<string, unknown>;
  switch (row.type) {
    case "integer":
      fields[row.field] = row.tag * 1000 + 1;
      break;
    case "octets":
    case "cstring":
      fields[row.field] = new TextEncoder().encode(`f${row.tag}`);
      break;
    case "string":
      fields[row.field] = `f${row.tag}`;
      break;
    case "byte":
      fields[row.field] = 1;
      break;
    case "certificate":
      fields[row.field] = Uint8Array.fromHex("3003020101");
      break;
    case "appData":
      s.setTicketAppData(`f${row.tag}`);
      break;
  }
  return s;
}

/** The row's field of `s`, as a comparable value. */
function fieldOf(s: SslSession, row: TemplateRow): unknown {
  const v = row.type === "appData"
    ? s.getTicketAppData()
    : (s as unknown as Record<string, unknown>)[row.field];
  return v instanceof Uint8Array ? v.toHex() : v;
}

/** A session DER: the head of the TLS 1.2 vector's fields, then `optional` (hex). */
function sessionDer(optional: string): Uint8Array {
  const body = Uint8Array.fromHex(
    "020101020203030402c0300400" + "0430" + "00".repeat(48) + optional,
  );
  return Uint8Array.from([0x30, 0x81, body.length, ...body]);
}

Deno.test("ssl_asn1.c SSL_SESSION_ASN1: one template row per OPTIONAL tag [0]..[20], in order", () => {
  assert.deepEqual(SESSION_TEMPLATE.map((r) => r.tag), [...Array(21).keys()]);
  // Every SslSession property is a head field or one row's field (a new field needs its row).
  const head = ["sslVersion", "cipherId", "sessionId", "masterKey"];
  const rowFields = SESSION_TEMPLATE.filter((r) => r.type !== "ignored").map((r) => r.field);
  assert.deepEqual(
    [...Object.keys(new SslSession()), "ticketAppData"].sort(),
    [...head, ...rowFields].sort(),
  );
  // The INTEGER fields of ssl/ssl_asn1.c's template, with the two fields i2d always writes.
  const ints = SESSION_TEMPLATE.flatMap((r) => r.type === "integer" ? [[r.tag, r.der.name]] : []);
  assert.deepEqual(Object.fromEntries(ints), {
    1: "int64",
    2: "int64",
    5: "int32",
    9: "uint64",
    13: "uint64",
    14: "uint32",
    15: "uint32",
    17: "uint32",
    19: "uint32",
  });
  assert.deepEqual(SESSION_TEMPLATE.filter((r) => r.always).map((r) => r.tag), [4, 19]);
  assert.deepEqual(
    SESSION_TEMPLATE.filter((r) => r.read !== "asIs").map((r) => [r.tag, r.read]),
    [[1, "zeroIsNow"], [2, "zeroIs3s"], [13, "low32"]],
  );
});

Deno.test("i2d_SSL_SESSION writes exactly the template's tags [1]..[20]; [0] key_arg never", () => {
  // Every field set, listed independently of the table.
  const s = new SslSession({
    sslVersion: 0x0304,
    cipherId: 0x1303,
    time: 1,
    timeout: 2,
    peerCertificate: Uint8Array.fromHex("3003020101"),
    sessionIdContext: Uint8Array.of(1),
    verifyResult: 3,
    hostname: "h",
    pskIdentityHint: Uint8Array.of(0x68),
    pskIdentity: Uint8Array.of(0x69),
    ticketLifetimeHint: 4,
    ticket: Uint8Array.of(5),
    compressionId: 1,
    srpUsername: "u",
    flags: 1,
    ticketAgeAdd: 6,
    maxEarlyData: 7,
    alpnSelected: Uint8Array.of(8),
    maxFragmentLengthMode: 2,
    ticketAppData: "a",
    kexGroup: 0x1d,
    peerRpk: Uint8Array.fromHex("3000"),
  });
  const written = SESSION_TEMPLATE.filter((r) => r.type !== "ignored").map((r) => r.tag);
  assert.deepEqual(optionalTags(encodeSession(s)), written);
  assert.deepEqual(written, [...Array(21).keys()].slice(1));
});

Deno.test("template rows: a zero or empty field is omitted (Z types, NULL) unless always written", () => {
  for (const row of SESSION_TEMPLATE) {
    if (row.type === "ignored") continue;
    const zero = new SslSession({ cipherId: 0xc030 });
    const zeroTags = optionalTags(encodeSession(zero));
    assert.equal(zeroTags.includes(row.tag), row.always, `[${row.tag}] ${row.field} when 0/empty`);
    // Set, it is written, and d2i reads it back into the same field.
    const set = withSample(row);
    const der = encodeSession(set);
    assert.ok(optionalTags(der).includes(row.tag), `[${row.tag}] ${row.field} when set`);
    assert.deepEqual(fieldOf(decodeSession(der), row), fieldOf(set, row), `[${row.tag}]`);
  }
  // The zero session itself: only [4] (empty) and [19] (0).
  assert.deepEqual(optionalTags(encodeSession(new SslSession({ cipherId: 0xc030 }))), [4, 19]);
});

Deno.test("d2i_SSL_SESSION accepts exactly the template's tags: [0] read and ignored, [21]+ refused", () => {
  // [0] key_arg, IMPLICIT OCTET STRING: accepted, dropped, not written back.
  const keyArg = decodeSession(sessionDer("8002abcd" + "a4020400"));
  assert.equal(
    hex(encodeSession(keyArg)),
    hex(encodeSession(decodeSession(sessionDer("a4020400")))),
  );
  // Each row's tag alone after the head (the encoder's element for it).
  for (const row of SESSION_TEMPLATE) {
    if (row.type === "ignored") continue;
    const der = encodeSession(withSample(row));
    const r = new DerReader(der);
    const seq = r.enter(r.readHeader());
    for (let i = 0; i < 5; i++) seq.skipElement();
    let element: Uint8Array | undefined;
    while (!seq.atEnd()) {
      const h = seq.peekHeader()!;
      const e = seq.skipElement();
      if (h.tagNumber === row.tag) element = e;
    }
    const alone = decodeSession(sessionDer(element!.toHex()));
    assert.deepEqual(fieldOf(alone, row), fieldOf(withSample(row), row), `[${row.tag}] alone`);
  }
  for (let tag = SESSION_TEMPLATE.length; tag <= 30; tag++) {
    assert.throws(
      () => decodeSession(sessionDer((0xa0 | tag).toString(16) + "03020101")),
      (e: unknown) => e instanceof DerError && /unexpected element/.test(e.message),
      `[${tag}]`,
    );
  }
  // High-tag-number form [31].
  assert.throws(() => decodeSession(sessionDer("bf1f03020101")), /unexpected element/);
});

Deno.test("d2i_SSL_SESSION read rules of the template: flags keep 32 bits, time/timeout 0 defaults", () => {
  // [13] flags: ZUINT64 on the wire, `ret->flags = (int32_t)as->flags` into a uint32_t.
  assert.equal(decodeSession(sessionDer("ad0702050100000005")).flags, 5);
  assert.equal(decodeSession(sessionDer("ad0b020900ffffffffffffffff")).flags, 0xffffffff);
  assert.throws(
    () => encodeSession(new SslSession({ cipherId: 0xc030, flags: 2 ** 32 })),
    /cannot encode flags: 4294967296 is not a uint32 integer/,
  );
  // The same wide value in another ZUINT64 field is not truncated.
  assert.throws(
    () => decodeSession(sessionDer("a90b020900ffffffffffffffff")),
    /ticketLifetimeHint: integer beyond 2\^53/,
  );
  // [1] time and [2] timeout written as an explicit 0 read as now and 3 seconds.
  const zeros = decodeSession(sessionDer("a103020100a203020100"), { now: 99 });
  assert.equal(zeros.time, 99);
  assert.equal(zeros.timeout, 3);
});
