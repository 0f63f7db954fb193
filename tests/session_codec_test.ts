// Tests for src/session/codec.ts: OpenSSL 3.0 ssl/ssl_asn1.c (i2d_SSL_SESSION, d2i_SSL_SESSION)
// byte compatibility, with the ticket plaintexts observed from libssl 3.0.19.
import assert from "node:assert/strict";
import { DerError } from "../src/errors.ts";
import {
  decodeSession,
  encodeSession,
  sessionFromPem,
  sessionToPem,
} from "../src/session/codec.ts";
import { SslSession } from "../src/session/ssl_session.ts";
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
