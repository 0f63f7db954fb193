// SslSession (OpenSSL's SSL_SESSION): ticket app data with ssl/ssl_sess.c's set1/get0
// semantics, ssl_session_dup, and secrets kept out of every printed form.
import assert from "node:assert/strict";
import { decodeSession, encodeSession } from "../src/session/codec.ts";
import { SslSession } from "../src/session/ssl_session.ts";
import { TicketKey } from "../src/ticket/ticket_key.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("ssl_sess.c:SSL_SESSION_set1_ticket_appdata copies; NULL or length 0 clears", () => {
  const s = new SslSession();
  assert.equal(s.getTicketAppData(), null);
  const data = bytes("Hello World");
  s.setTicketAppData(data);
  data[0] = 0x78; // the caller's buffer changes; the stored copy does not
  assert.equal(new TextDecoder().decode(s.getTicketAppData()!), "Hello World");
  s.setTicketAppData(new Uint8Array(0));
  assert.equal(s.getTicketAppData(), null);
  s.setTicketAppData("again");
  s.setTicketAppData(null);
  assert.equal(s.getTicketAppData(), null);
  s.setTicketAppData("x");
  s.setTicketAppData(undefined);
  assert.equal(s.getTicketAppData(), null);
});

Deno.test("ssl_sess.c:SSL_SESSION_get0_ticket_appdata returns the stored bytes, not a copy", () => {
  const s = new SslSession({ ticketAppData: "abc" });
  assert.equal(s.getTicketAppData(), s.getTicketAppData());
  s.getTicketAppData()![0] = 0x41;
  assert.equal(new TextDecoder().decode(s.getTicketAppData()!), "Abc");
});

Deno.test("ssl_sess.c:ssl_session_dup copies every field, app data included, deeply", () => {
  const a = new SslSession({
    sslVersion: 0x0304,
    cipherId: 0x1302,
    sessionId: new Uint8Array(32).fill(1),
    masterKey: new Uint8Array(48).fill(2),
    time: 10,
    timeout: 20,
    ticket: new Uint8Array(5).fill(3),
    ticketLifetimeHint: 7200,
    alpnSelected: bytes("h2"),
    ticketAppData: "app",
    kexGroup: 0x1d,
  });
  a.extendedMasterSecret = true;
  const b = a.dup();
  assert.equal(encodeSession(b).toHex(), encodeSession(a).toHex());
  b.masterKey[0] = 9;
  b.getTicketAppData()![0] = 0x78;
  b.alpnSelected![0] = 0x78;
  assert.equal(a.masterKey[0], 2);
  assert.equal(new TextDecoder().decode(a.getTicketAppData()!), "app");
  assert.equal(new TextDecoder().decode(a.alpnSelected!), "h2");
  // ssl_session_dup(s, 0), as the TLS 1.3 server does per ticket: no ticket, hint reset.
  const c = a.dup(false);
  assert.equal(c.ticket, null);
  assert.equal(c.ticketLifetimeHint, 0);
  assert.equal(new TextDecoder().decode(c.getTicketAppData()!), "app");
});

Deno.test("the master key never shows in toString, JSON, Deno.inspect or console output", () => {
  const key = new Uint8Array(48).map((_, i) => 0xa0 + (i % 16));
  const s = decodeSession(
    encodeSession(new SslSession({ cipherId: 0xc030, masterKey: key, time: 1, timeout: 2 })),
  );
  const hex = key.toHex();
  const shown = [
    String(s),
    JSON.stringify(s),
    Deno.inspect(s),
    Deno.inspect(s, { depth: 10, showHidden: true }),
    Deno.inspect({ nested: [s] }, { depth: 10 }),
  ];
  for (const text of shown) {
    assert.ok(!text.includes(hex) && !text.includes(hex.slice(0, 16)), text);
    assert.ok(text.includes("redacted"), text);
  }
  assert.equal(s.toJSON({ showSecrets: true }).masterKey, hex);
});

Deno.test("a decoded or opened session's byte fields do not share a buffer with its master key", async () => {
  const session = new SslSession({
    cipherId: 0xc030,
    sessionId: new Uint8Array(32).fill(0x11),
    masterKey: new Uint8Array(48).fill(0xee),
    sessionIdContext: bytes("ctx"),
    time: 1,
    timeout: 2,
    ticketAppData: "app",
  });
  const key = await TicketKey.generate();
  const opened = (await key.open(await key.seal(session))).session!;
  // The master key as a BER constructed OCTET STRING of two segments (libssl's asn1_collect
  // reads it): every segment is wiped from the buffer the other fields view.
  const body = encodeSession(session).subarray(2).toHex(); // after the SEQUENCE's 30 7c
  const primitive = "0430" + "ee".repeat(48);
  const constructed = "2434" + "0418" + "ee".repeat(24) + "0418" + "ee".repeat(24);
  const ber = Uint8Array.fromHex("3081" + "80" + body.replace(primitive, constructed));
  assert.equal(ber.length, 3 + 0x80);
  for (const s of [decodeSession(encodeSession(session)), opened, decodeSession(ber)]) {
    for (const view of [s.sessionId, s.sessionIdContext, s.getTicketAppData()!]) {
      assert.ok(!new Uint8Array(view.buffer).includes(0xee), "a view exposes the master key");
    }
    assert.deepEqual(s.masterKey, new Uint8Array(48).fill(0xee));
  }
});
