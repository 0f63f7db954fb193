// The TLS 1.2 server handshake (src/tls/tls12_handshake.ts) driven over an in-memory transport
// by the scriptable client of tests/_tls12_client.ts: each test names the RFC rule it checks and
// asserts the bytes the server sent, the alert number, the HandshakeInfo fields or the ticket
// engine's counters.
import assert from "node:assert/strict";
import { DecryptTicketReturn } from "../src/server/callbacks.ts";
import { SslContext, type SslContextOptions } from "../src/server/ssl_context.ts";
import { TicketStatus } from "../src/ticket/status.ts";
import type { TlsConnectionOptions } from "../src/tls/connection.ts";
import { handshakeMessage } from "../src/tls/messages.ts";
import { MAX_WARNING_ALERTS } from "../src/tls/record_stream.ts";
import { connectPair12, type Pair12, ServerAlertError, Suite12 } from "./_tls12_client.ts";
import { serverOutcome } from "./_tls13_client.ts";
import { serverCredentials } from "./_tls_certs.ts";
import { defaultDecision } from "./_tls_server.ts";

const { SUCCESS, EMPTY } = TicketStatus;
const DOWNGRD = "444f574e47524401";

const credentials = serverCredentials;

const defaultDec = (_c: unknown, _s: unknown, _k: unknown, status: number) =>
  defaultDecision(status);

function context(options: SslContextOptions = {}): Promise<SslContext> {
  return SslContext.create({ decCb: defaultDec, ...options });
}

async function connect(options: Partial<TlsConnectionOptions> = {}): Promise<Pair12> {
  return connectPair12({
    credentials: options.credentials ?? await credentials(),
    context: options.context ?? await context(),
    ...options,
  });
}

/** Runs `drive` against a fresh server and returns the alert the server sent (its outcome). */
async function expectAlert(
  alert: number,
  drive: (p: Pair12) => Promise<unknown>,
  options: Partial<TlsConnectionOptions> = {},
): Promise<void> {
  const p = await connect(options);
  try {
    await drive(p).catch(() => {});
    assert.equal(await serverOutcome(p.conn), alert);
  } finally {
    await p.done();
  }
}

/** Echoes one chunk back. */
async function echoOnce(p: Pair12): Promise<string> {
  const r = p.conn.readable.getReader();
  const w = p.conn.writable.getWriter();
  await p.client.write("ping");
  const { value } = await r.read();
  await w.write(value!);
  r.releaseLock();
  w.releaseLock();
  return new TextDecoder().decode(await p.client.readData());
}

Deno.test("RFC 5246 §7.3 full handshake: ServerHello, Certificate, ServerKeyExchange, ServerHelloDone; RFC 5077 §3.3 NewSessionTicket before ChangeCipherSpec; data both ways", async () => {
  const p = await connect();
  try {
    const o = await p.client.handshake();
    assert.deepEqual(o.serverMessages, [2, 11, 12, 14, 4, "ccs", 20]);
    assert.equal(o.serverHello.version, 0x0303);
    assert.equal(o.serverHello.compression, 0);
    assert.equal(o.serverHello.suite, Suite12.ECDHE_ECDSA_AES128_GCM_SHA256);
    assert.equal(o.scheme, 0x0403);
    assert.equal(o.ticket!.lifetime, 7200);
    assert.ok(o.ticket!.ticket.length > 0);
    // RFC 5077 §3.4 / ssl_generate_session_id: a ticketed session has an empty session id.
    assert.equal(o.serverHello.sessionId.length, 0);
    const info = await p.conn.handshake();
    assert.equal(info.version, "TLSv1.2");
    assert.equal(info.cipherSuite, "ECDHE-ECDSA-AES128-GCM-SHA256");
    assert.equal(info.group, "x25519");
    assert.equal(info.signatureScheme, "ecdsa_secp256r1_sha256");
    assert.equal(info.ticketsSent, 1);
    assert.deepEqual(info.decCbCalls.map((c) => c.status), [EMPTY]); // RFC 5077 §3.2
    assert.equal(await echoOnce(p), "ping");
  } finally {
    await p.done();
  }
});

Deno.test("RFC 8446 §4.1.3 downgrade sentinel: a TLS 1.2 ServerHello.random ends in 44 4F 57 4E 47 52 44 01", async () => {
  const p = await connect();
  try {
    const o = await p.client.handshake();
    assert.equal(o.serverHello.random.subarray(24).toHex(), DOWNGRD);
  } finally {
    await p.done();
  }
});

Deno.test("RFC 8446 §4.2.1 / RFC 5246 Appendix E.1 version negotiation: supported_versions [0x0303], and legacy_version 0x0304 without it, negotiate TLS 1.2; TLS 1.1 gets protocol_version (70)", async () => {
  for (const hello of [{ supportedVersions: [0x0303, 0x0302] }, { legacyVersion: 0x0304 }]) {
    const p = await connect();
    try {
      const o = await p.client.handshake(hello);
      assert.equal(o.serverHello.version, 0x0303);
      assert.equal((await p.conn.handshake()).version, "TLSv1.2");
    } finally {
      await p.done();
    }
  }
  await expectAlert(70, (p) => p.client.handshake({ legacyVersion: 0x0302 }));
  await expectAlert(70, (p) => p.client.handshake({ supportedVersions: [0x0302] }));
});

Deno.test("RFC 5746 §3.6 renegotiation_info: the empty extension or the SCSV is answered with an empty renegotiation_info; neither, none; a non-empty one gets handshake_failure (40)", async () => {
  const cases = [
    { hello: {}, expect: "00" },
    { hello: { renegotiationInfo: null, suites: [0xc02b, 0x00ff] }, expect: "00" },
    { hello: { renegotiationInfo: null }, expect: undefined },
  ];
  for (const c of cases) {
    const p = await connect();
    try {
      const o = await p.client.handshake(c.hello);
      assert.equal(o.serverHello.extensions.get(0xff01)?.toHex(), c.expect);
    } finally {
      await p.done();
    }
  }
  await expectAlert(
    40,
    (p) => p.client.handshake({ renegotiationInfo: Uint8Array.of(12, ...new Uint8Array(12)) }),
  );
});

Deno.test("RFC 7627 §5.1 extended master secret: echoed when offered (session_hash seed); without it the master secret uses the randoms and the session records no EMS", async () => {
  for (const ems of [true, false]) {
    const p = await connect();
    try {
      const o = await p.client.handshake({ ems });
      assert.equal(o.serverHello.extensions.has(23), ems);
      const info = await p.conn.handshake();
      assert.equal(info.session!.extendedMasterSecret, ems);
      // Both sides derived the same master secret (the Finished messages verified).
      assert.deepEqual(info.session!.masterKey, o.session.masterKey);
      assert.equal(await echoOnce(p), "ping");
    } finally {
      await p.done();
    }
  }
});

Deno.test("RFC 5077 §3.1 abbreviated handshake: the ticket resumes (ServerHello, ChangeCipherSpec, Finished); RFC 5077 §3.4 the client's session id is echoed; dec_cb sees SUCCESS", async () => {
  const ctx = await context();
  const first = await connect({ context: ctx });
  const o = await first.client.handshake();
  await first.done();
  const p = await connect({ context: ctx });
  try {
    const r = await p.client.handshake({}, o.session);
    assert.equal(r.resumed, true);
    assert.deepEqual(r.serverMessages, [2, "ccs", 20]);
    assert.equal(r.serverHello.sessionId.length, 32);
    assert.equal(r.serverHello.extensions.has(35), false); // no new ticket
    const info = await p.conn.handshake();
    assert.equal(info.resumed, true);
    assert.equal(info.ticketsSent, 0);
    assert.deepEqual(info.decCbCalls.map((c) => [c.status, c.ret]), [[
      SUCCESS,
      DecryptTicketReturn.USE,
    ]]);
    assert.equal(await echoOnce(p), "ping");
  } finally {
    await p.done();
  }
});

Deno.test("RFC 5077 §3.3 renewal: dec_cb USE_RENEW sends a NewSessionTicket with lifetime hint 0 before ChangeCipherSpec in the abbreviated handshake", async () => {
  const ctx = await context({
    decCb: (_c, _s, _k, status) =>
      status === SUCCESS ? DecryptTicketReturn.USE_RENEW : DecryptTicketReturn.IGNORE_RENEW,
  });
  const first = await connect({ context: ctx });
  const o = await first.client.handshake();
  await first.done();
  const p = await connect({ context: ctx });
  try {
    const r = await p.client.handshake({}, o.session);
    assert.equal(r.resumed, true);
    assert.deepEqual(r.serverMessages, [2, 4, "ccs", 20]);
    assert.equal(r.serverHello.extensions.get(35)?.length, 0);
    assert.equal(r.ticket!.lifetime, 0);
    assert.ok(r.ticket!.ticket.length > 0);
    // The renewed ticket resumes too.
    const q = await connect({ context: ctx });
    const again = await q.client.handshake({}, r.session);
    assert.equal(again.resumed, true);
    await q.done();
  } finally {
    await p.done();
  }
});

Deno.test("RFC 5077 §3.3 an empty NewSessionTicket when the key callback returns 0 (ssl/statem/statem_srvr.c): lifetime 0, no ticket; the handshake completes", async () => {
  const ctx = await context({ ticketKeyCb: () => ({ ret: 0 }) });
  const p = await connect({ context: ctx });
  try {
    const o = await p.client.handshake();
    assert.deepEqual(o.serverMessages, [2, 11, 12, 14, 4, "ccs", 20]);
    assert.deepEqual([o.ticket!.lifetime, o.ticket!.ticket.length], [0, 0]);
    assert.equal((await p.conn.handshake()).ticketsSent, 1);
    assert.equal(await echoOnce(p), "ping");
  } finally {
    await p.done();
  }
});

Deno.test("RFC 5246 §7.4.1.2 session-id resumption: no session_ticket extension gets a 32-byte session id; offering it resumes from the cache without dec_cb; an EMPTY ticket falls back to the cache too", async () => {
  const ctx = await context();
  const first = await connect({ context: ctx });
  const o = await first.client.handshake({ ticket: null });
  await first.done();
  assert.equal(o.serverHello.sessionId.length, 32);
  assert.equal(o.ticket, null);
  assert.equal(o.serverHello.extensions.has(35), false);
  const p = await connect({ context: ctx });
  try {
    const r = await p.client.handshake({ ticket: null }, o.session);
    assert.equal(r.resumed, true);
    assert.deepEqual(r.serverHello.sessionId, o.serverHello.sessionId);
    assert.equal((await p.conn.handshake()).decCbCalls.length, 0);
  } finally {
    await p.done();
  }
  // An empty session_ticket extension: dec_cb sees EMPTY, the cache resumes, a new ticket
  // (lifetime 0 on a resumed handshake) is sent because the client asked for one.
  const q = await connect({ context: ctx });
  try {
    const r = await q.client.handshake({ ticket: new Uint8Array(0) }, {
      ...o.session,
      ticket: null,
    });
    assert.equal(r.resumed, true);
    assert.deepEqual(r.serverMessages, [2, 4, "ccs", 20]);
    assert.equal(r.ticket!.lifetime, 0);
    assert.deepEqual((await q.conn.handshake()).decCbCalls.map((c) => c.status), [EMPTY]);
  } finally {
    await q.done();
  }
});

Deno.test("RFC 7627 §5.3 resumption: an EMS session offered without EMS gets handshake_failure (40); a non-EMS session offered with EMS gets a full handshake", async () => {
  const ctx = await context();
  const ems = await connect({ context: ctx });
  const withEms = await ems.client.handshake();
  await ems.done();
  await expectAlert(40, (p) => p.client.handshake({ ems: false }, withEms.session), {
    context: ctx,
  });
  const plain = await connect({ context: ctx });
  const noEms = await plain.client.handshake({ ems: false });
  await plain.done();
  const p = await connect({ context: ctx });
  try {
    const r = await p.client.handshake({ ems: true }, noEms.session);
    assert.equal(r.resumed, false);
    assert.deepEqual(r.serverMessages.slice(0, 4), [2, 11, 12, 14]);
  } finally {
    await p.done();
  }
});

Deno.test("RFC 5246 §7.4.3 ServerKeyExchange signatures: an RSA key signs with RSA-PSS, or PKCS#1 v1.5 when only that is offered (verified by the client); RSA suites only", async () => {
  const rsa = await credentials("RSA");
  for (
    const [sigalgs, scheme] of [[[0x0804, 0x0401], 0x0804], [[0x0401], 0x0401], [[0x0501], 0x0501]]
  ) {
    const p = await connect({ credentials: rsa });
    try {
      const o = await p.client.handshake({ signatureAlgorithms: sigalgs as number[] });
      assert.equal(o.scheme, scheme);
      assert.equal(o.serverHello.suite, Suite12.ECDHE_RSA_AES128_GCM_SHA256);
    } finally {
      await p.done();
    }
  }
  // RFC 5246 §7.4.1.3: an RSA certificate cannot serve ECDSA suites: handshake_failure (40).
  await expectAlert(40, (p) => p.client.handshake({ suites: [0xc02b, 0xc02c] }), {
    credentials: rsa,
  });
});

Deno.test("RFC 5246 §7.4.1.3 / RFC 8422 §5.1.1 / RFC 5246 §7.4.1.4.1: no GCM ECDHE suite (a CBC suite only), no group in common, no signature_algorithms (SHA-1): handshake_failure (40)", async () => {
  await expectAlert(40, (p) => p.client.handshake({ suites: [Suite12.ECDHE_RSA_AES128_CBC_SHA] }));
  await expectAlert(40, (p) => p.client.handshake({ groups: [0x19, 0x1e] }));
  await expectAlert(40, (p) => p.client.handshake({ signatureAlgorithms: null }));
});

Deno.test("RFC 8422 §5.1.2 ec_point_formats: a list without uncompressed (0) gets illegal_parameter (47); one that has it among others completes", async () => {
  await expectAlert(47, (p) => p.client.handshake({ pointFormats: [1, 2] }));
  const p = await connect();
  try {
    const o = await p.client.handshake({ pointFormats: [1, 0] });
    assert.deepEqual(o.serverMessages, [2, 11, 12, 14, 4, "ccs", 20]);
    assert.equal((await p.conn.handshake()).version, "TLSv1.2");
  } finally {
    await p.done();
  }
});

Deno.test("RFC 5246 §7.4.1.2 compression: a list without null gets decode_error (50); RFC 7507 §3 TLS_FALLBACK_SCSV gets inappropriate_fallback (86)", async () => {
  await expectAlert(50, (p) => p.client.handshake({ compression: [1] }));
  await expectAlert(86, (p) => p.client.handshake({ suites: [0xc02b, 0x5600] }));
});

Deno.test("RFC 5246 §7.4 message order: ChangeCipherSpec before ClientKeyExchange, or a Finished in its place, gets unexpected_message (10)", async () => {
  const toDone = async (p: Pair12) => {
    await p.client.sendClientHello();
    for (;;) {
      const m = await p.client.nextMessage();
      if (m !== "ccs" && m.type === 14) return;
    }
  };
  await expectAlert(10, async (p) => {
    await toDone(p);
    await p.client.sendRecord(20, new Uint8Array([1]));
  });
  await expectAlert(10, async (p) => {
    await toDone(p);
    await p.client.sendRecord(22, handshakeMessage(20, new Uint8Array(12)));
  });
  await expectAlert(10, async (p) => {
    await toDone(p);
    await p.client.sendRecord(23, new Uint8Array(5));
  });
});

Deno.test("RFC 5246 §7.1 ChangeCipherSpec: a handshake message where it belongs gets unexpected_message (10); a body other than the byte 1 gets illegal_parameter (47)", async () => {
  await expectAlert(10, async (p) => {
    p.client.afterKeyExchange = (c) => c.sendRecord(22, handshakeMessage(20, new Uint8Array(12)));
    await p.client.handshake();
  });
  await expectAlert(47, async (p) => {
    p.client.ccsBody = new Uint8Array([2]);
    await p.client.handshake();
  });
});

Deno.test("RFC 8422 §5.7 ClientKeyExchange: a length that does not match gets decode_error (50); a point not on the curve gets illegal_parameter (47)", async () => {
  await expectAlert(50, async (p) => {
    p.client.mangleKeyExchange = (m) => Uint8Array.of(...m, 0).map((b, i) => i === 3 ? b + 1 : b);
    await p.client.handshake();
  });
  await expectAlert(47, async (p) => {
    p.client.mangleKeyExchange = (m) => {
      const out = m.slice();
      out.fill(0xff, 5);
      out[5] = 4; // 04 | x | y with x, y = ff..ff: not on P-256
      return out;
    };
    await p.client.handshake({ groups: [0x17] });
  });
});

Deno.test("RFC 5246 §7.4.9 Finished: a wrong verify_data gets decrypt_error (51), compared in constant time; a length other than 12 gets decode_error (50)", async () => {
  await expectAlert(51, async (p) => {
    p.client.mangleFinished = (m) => m.map((b, i) => i === 6 ? b ^ 1 : b);
    await p.client.handshake();
  });
  await expectAlert(50, async (p) => {
    p.client.mangleFinished = () => handshakeMessage(20, new Uint8Array(13));
    await p.client.handshake();
  });
});

Deno.test("RFC 5746 §4.4 / RFC 5246 §7.2.2 renegotiation refused: a ClientHello after the handshake gets a no_renegotiation warning (1, 100) and the connection goes on; another handshake message gets unexpected_message (10)", async () => {
  const p = await connect();
  try {
    await p.client.handshake();
    const r = p.conn.readable.getReader();
    const read = r.read();
    await p.client.sendProtected(22, p.client.buildClientHello());
    assert.deepEqual(await p.client.readAlert(), [1, 100]);
    await p.client.write("after");
    const { value } = await read;
    assert.equal(new TextDecoder().decode(value), "after");
    // A KeyUpdate (TLS 1.3 only) is unexpected in TLS 1.2.
    const next = r.read().catch((e) => e);
    await p.client.sendProtected(22, handshakeMessage(24, new Uint8Array([0])));
    const err = await next;
    assert.equal((err as { alert?: number }).alert, 10);
    assert.deepEqual(await p.client.readAlert(), [2, 10]);
    // keyUpdate() and requestTicket() are TLS 1.3 only.
    await assert.rejects(() => p.conn.keyUpdate(), TypeError);
    assert.equal(await p.conn.requestTicket(), 0);
  } finally {
    await p.done();
  }
});

Deno.test("RFC 5246 §7.2 warning alerts do not end a TLS 1.2 connection; as libssl (ssl/record/rec_layer_s3.c, MAX_WARN_ALERT_COUNT) the fifth in a row gets unexpected_message (10)", async () => {
  const p = await connect();
  try {
    await p.client.handshake();
    const r = p.conn.readable.getReader();
    const first = r.read();
    for (let i = 0; i < MAX_WARNING_ALERTS - 1; i++) {
      await p.client.sendProtected(21, new Uint8Array([1, 112])); // unrecognized_name
    }
    await p.client.write("still here");
    assert.equal(new TextDecoder().decode((await first).value), "still here");
    // Data in between resets the count; then five in a row end the connection.
    const next = r.read().catch((e) => e);
    for (let i = 0; i < MAX_WARNING_ALERTS; i++) {
      await p.client.sendProtected(21, new Uint8Array([1, 112]));
    }
    assert.deepEqual(await p.client.readAlert(), [2, 10]);
    assert.ok(await next instanceof Error);
  } finally {
    await p.done();
  }
});

Deno.test("RFC 5246 §6.2.3 after ChangeCipherSpec every record is protected: a plaintext Finished gets bad_record_mac (20)", async () => {
  await expectAlert(20, async (p) => {
    p.client.mangleFinished = () => new Uint8Array(0);
    p.client.afterKeyExchange = async (c) => {
      await c.sendRecord(20, new Uint8Array([1]));
      await c.sendRecord(22, handshakeMessage(20, new Uint8Array(12)));
    };
    await p.client.handshake();
  });
});

Deno.test("ServerAlertError: a client seeing the server's alert gets its number", async () => {
  const p = await connect();
  try {
    const err = await p.client.handshake({ compression: [1] }).catch((e) => e);
    assert.ok(err instanceof ServerAlertError);
    assert.equal(err.alert, 50);
  } finally {
    await p.done();
  }
});

Deno.test("RFC 5077 §3.4 / ssl_get_prev_session: dec_cb IGNORE on a good ticket falls back to the session-id cache; the cached session resumes", async () => {
  const ctx = await context({
    decCb: (_c, _s, _k, status) =>
      status === SUCCESS ? DecryptTicketReturn.IGNORE : DecryptTicketReturn.IGNORE_RENEW,
  });
  // A session-id session (no ticket asked for) and, from another connection, a ticket.
  const a = await connect({ context: ctx });
  const cached = await a.client.handshake({ ticket: null });
  await a.done();
  const b = await connect({ context: ctx });
  const ticketed = await b.client.handshake();
  await b.done();
  const p = await connect({ context: ctx });
  try {
    const r = await p.client.handshake({}, { ...cached.session, ticket: ticketed.session.ticket });
    assert.equal(r.resumed, true);
    assert.deepEqual(r.serverHello.sessionId, cached.session.sessionId);
    const info = await p.conn.handshake();
    assert.deepEqual(info.decCbCalls.map((c) => [c.status, c.ret]), [
      [SUCCESS, DecryptTicketReturn.IGNORE],
    ]);
    assert.deepEqual(info.session!.masterKey, cached.session.masterKey);
    assert.equal(info.ticketsSent, 0); // IGNORE: no ticket expected
  } finally {
    await p.done();
  }
});

Deno.test("RFC 5246 §7.4.1.3 / statem_srvr.c:tls_early_post_process_client_hello: a session keeps its suite on resumption, so an RSA suite's ticket resumes at an ECDSA server of the same fleet (the abbreviated handshake uses no certificate)", async () => {
  const ctx = await context();
  const rsa = await connect({ context: ctx, credentials: await credentials("RSA") });
  const fromRsa = await rsa.client.handshake();
  await rsa.done();
  assert.equal(fromRsa.serverHello.suite, Suite12.ECDHE_RSA_AES128_GCM_SHA256);
  const p = await connect({ context: ctx });
  try {
    const r = await p.client.handshake({}, fromRsa.session);
    assert.equal(r.resumed, true);
    assert.deepEqual(r.serverMessages, [2, "ccs", 20]);
    assert.equal(r.serverHello.suite, Suite12.ECDHE_RSA_AES128_GCM_SHA256);
    const info = await p.conn.handshake();
    assert.equal(info.resumed, true);
    assert.equal(info.cipherSuite, "ECDHE-RSA-AES128-GCM-SHA256");
    assert.equal(info.decCbCalls.length, 1);
    assert.equal(await echoOnce(p), "ping");
  } finally {
    await p.done();
  }
});

Deno.test("ssl_update_cache: the session of a TLS 1.2 full handshake that fails is not left in the session-id cache", async () => {
  const ctx = await context();
  await expectAlert(51, async (p) => {
    p.client.mangleFinished = (m) => m.map((b, i) => i === 6 ? b ^ 1 : b);
    await p.client.handshake({ ticket: null });
  }, { context: ctx });
  assert.equal(ctx.sessionCache.size, 0);
  const ok = await connect({ context: ctx });
  await ok.client.handshake({ ticket: null });
  await ok.done();
  assert.equal(ctx.sessionCache.size, 1);
});

Deno.test("RFC 7301 §3.1 ALPN in the TLS 1.2 ServerHello: the server's first protocol the client offered; none in common gets no_application_protocol (120)", async () => {
  const p = await connect({ alpnProtocols: ["h2", "http/1.1"] });
  try {
    const o = await p.client.handshake({ alpn: ["http/1.1", "h2"] });
    assert.deepEqual([...o.serverHello.extensions.get(16)!], [0, 3, 2, 0x68, 0x32]);
    assert.equal((await p.conn.handshake()).alpnProtocol, "h2");
    assert.deepEqual(
      [...(await p.conn.handshake()).session!.alpnSelected!],
      [0x68, 0x32],
    );
  } finally {
    await p.done();
  }
  await expectAlert(120, (p) => p.client.handshake({ alpn: ["spdy/3"] }), {
    alpnProtocols: ["h2"],
  });
});

Deno.test("RFC 5077 §3.2 / SSL_OP_NO_TICKET: a context without TLS 1.2 tickets calls no dec_cb, sends no session_ticket extension and no ticket, and gives a 32-byte session id that resumes", async () => {
  const ctx = await context({ noTicket: true });
  const p = await connect({ context: ctx });
  const o = await p.client.handshake();
  const info = await p.conn.handshake();
  await p.done();
  assert.equal(o.serverHello.extensions.has(35), false);
  assert.equal(o.ticket, null);
  assert.equal(o.serverHello.sessionId.length, 32);
  assert.equal(info.decCbCalls.length, 0);
  const q = await connect({ context: ctx });
  try {
    const r = await q.client.handshake({}, o.session);
    assert.equal(r.resumed, true);
  } finally {
    await q.done();
  }
});

Deno.test("RFC 6066 §3 SNI in TLS 1.2: a name switched to another context is acknowledged with an empty server_name; that context's SSL_OP_NO_TICKET takes the ticket away after dec_cb ran (libssl's order)", async () => {
  const first = await context();
  const other = await context({ noTicket: true });
  const name = new TextEncoder().encode("b.example");
  const sni = Uint8Array.of(0, name.length + 3, 0, 0, name.length, ...name);
  const p = await connect({ context: first, serverNames: { "b.example": other } });
  try {
    const o = await p.client.handshake({ extra: [[0, sni]] });
    assert.equal(o.serverHello.extensions.get(0)?.length, 0);
    assert.equal(o.serverHello.extensions.has(35), false);
    assert.equal(o.ticket, null);
    const info = await p.conn.handshake();
    assert.equal(info.serverName, "b.example");
    assert.deepEqual(info.decCbCalls.map((c) => c.status), [EMPTY]);
  } finally {
    await p.done();
  }
});

Deno.test("handshakeTimeoutMs in TLS 1.2: a client that stops after the ServerHelloDone gets TlsConnectionError timeout", async () => {
  const p = await connect({ handshakeTimeoutMs: 200 });
  try {
    await p.client.sendClientHello();
    for (;;) {
      const m = await p.client.nextMessage();
      if (m !== "ccs" && m.type === 14) break;
    }
    assert.equal(await serverOutcome(p.conn), "timeout");
  } finally {
    await p.done();
  }
});

Deno.test("RFC 5246 §7.4.1.4 the TLS 1.2 ServerHello carries only extensions the client sent: a bare ClientHello gets none; ec_point_formats (RFC 8422 §5.2) is answered with uncompressed", async () => {
  const bare = await connect();
  try {
    const o = await bare.client.handshake({
      renegotiationInfo: null,
      pointFormats: null,
      ems: false,
      ticket: null,
    });
    assert.deepEqual([...o.serverHello.extensions.keys()], []);
  } finally {
    await bare.done();
  }
  const p = await connect();
  try {
    const o = await p.client.handshake({ pointFormats: [0, 1, 2] });
    assert.deepEqual([...o.serverHello.extensions.get(11)!], [1, 0]);
  } finally {
    await p.done();
  }
});
