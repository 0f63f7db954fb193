// The TLS 1.3 server handshake (src/tls/handshake.ts, src/tls/connection.ts) driven over an
// in-memory transport by the scriptable client of tests/_tls13_client.ts: each test names the
// RFC 8446 rule it checks and asserts the alert number, the HandshakeInfo fields or the ticket
// engine's counters.
import assert from "node:assert/strict";
import { SslContext, type SslContextOptions } from "../src/server/ssl_context.ts";
import { TicketStatus } from "../src/ticket/status.ts";
import type { TlsConnection, TlsConnectionOptions } from "../src/tls/connection.ts";
import { TlsConnectionError } from "../src/tls/errors.ts";
import type { HandshakeInfo } from "../src/tls/handshake.ts";
import { TlsListener } from "../src/tls/listener.ts";
import { handshakeMessage } from "../src/tls/messages.ts";
import { memoryTransportPair } from "./_memory_transport.ts";
import {
  type ClientEvent,
  type ClientServerPair,
  type ClientTicket,
  connectPair,
  ExtType,
  Group,
  type PskIdentitySpec,
  record,
  serverOutcome,
  serverReadOnce,
  Suite,
  ticketIdentity,
  type Tls13Client,
} from "./_tls13_client.ts";
import { serverCredentials } from "./_tls_certs.ts";
import { defaultDecision } from "./_tls_server.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const { SUCCESS_RENEW, NO_DECRYPT } = TicketStatus;

const credentials = serverCredentials;

const defaultDec = (_c: unknown, _s: unknown, _k: unknown, status: number) =>
  defaultDecision(status);

let sharedContext: Promise<SslContext> | undefined;
function context(options?: SslContextOptions): Promise<SslContext> {
  if (options) return SslContext.create({ decCb: defaultDec, ...options });
  sharedContext ??= SslContext.create({ decCb: defaultDec });
  return sharedContext;
}

async function connect(options: Partial<TlsConnectionOptions> = {}): Promise<ClientServerPair> {
  return connectPair({
    credentials: options.credentials ?? await credentials(),
    context: options.context ?? await context(),
    ...options,
  });
}

const outcome = serverOutcome;

/** Echoes application data until the client closes; resolves to "done" or the error. */
function echo(conn: TlsConnection): Promise<unknown> {
  return (async () => {
    try {
      await conn.handshake();
      const r = conn.readable.getReader();
      const w = conn.writable.getWriter();
      for (;;) {
        const { value, done } = await r.read();
        if (done) return "done";
        await w.write(value);
      }
    } catch (e) {
      return e;
    }
  })();
}

const readOnce = serverReadOnce;

/** A full handshake against `ctx`; returns the tickets the client received. */
async function ticketsFrom(ctx: SslContext, n = 2): Promise<ClientTicket[]> {
  const h = await connect({ context: ctx });
  try {
    await h.client.handshake();
    await h.conn.handshake();
    return await h.client.readTickets(n);
  } finally {
    await h.done();
  }
}

/** Runs `script` with a fresh client, expects alert `n` at both ends. */
async function expectAlert(
  n: number,
  script: (client: Tls13Client) => Promise<void>,
  options: Partial<TlsConnectionOptions> = {},
): Promise<void> {
  const h = await connect(options);
  try {
    await script(h.client);
    assert.equal(await h.client.readAlert(), n, "the alert the client received");
    assert.equal(await outcome(h.conn), n, "the alert the server raised");
  } finally {
    await h.done();
  }
}

// ---------------------------------------------------------------------------------------------
// Full handshakes

const SUITE_NAMES = {
  [Suite.AES_128_GCM_SHA256]: "TLS_AES_128_GCM_SHA256",
  [Suite.AES_256_GCM_SHA384]: "TLS_AES_256_GCM_SHA384",
} as const;
const GROUP_NAMES = {
  [Group.X25519]: "x25519",
  [Group.P256]: "secp256r1",
  [Group.P384]: "secp384r1",
} as const;

for (const suite of [Suite.AES_128_GCM_SHA256, Suite.AES_256_GCM_SHA384] as const) {
  for (const group of [Group.X25519, Group.P256, Group.P384] as const) {
    Deno.test(`RFC 8446 §2: full handshake with ${SUITE_NAMES[suite]} and ${GROUP_NAMES[group]}`, async () => {
      const h = await connect();
      const served = echo(h.conn);
      try {
        const out = await h.client.handshake({ suites: [suite], keyShares: [group] });
        const info = await h.conn.handshake();
        assert.equal(info.version, "TLSv1.3");
        assert.equal(info.cipherSuite, SUITE_NAMES[suite]);
        assert.equal(info.group, GROUP_NAMES[group]);
        assert.equal(info.resumed, false);
        assert.equal(info.pskIdentity, -1);
        assert.equal(info.helloRetryRequest, false);
        assert.equal(info.signatureScheme, "ecdsa_secp256r1_sha256");
        assert.equal(info.ticketsSent, 2);
        assert.deepEqual(out.serverHello.extensionTypes, [
          ExtType.KEY_SHARE,
          ExtType.SUPPORTED_VERSIONS,
        ]);
        assert.equal(out.serverHello.suite, suite);
        assert.equal(out.serverHello.group, group);
        assert.equal(out.flight.certificates.length, 1);
        assert.equal(out.flight.signatureValid, true);
        assert.equal((await h.client.readTickets(2)).length, 2);
        await h.client.write(enc.encode("ping"));
        assert.equal(dec.decode(await h.client.readData()), "ping");
        await h.client.close();
        assert.equal(await served, "done");
      } finally {
        await h.done();
      }
    });
  }
}

Deno.test("RFC 8446 §4.4.3: the CertificateVerify of P-384, Ed25519 and RSA keys verifies with the certificate's key", async () => {
  const expected = {
    "P-384": "ecdsa_secp384r1_sha384",
    "Ed25519": "ed25519",
    "RSA": "rsa_pss_rsae_sha256",
  } as const;
  for (const kind of ["P-384", "Ed25519", "RSA"] as const) {
    const h = await connect({ credentials: await credentials(kind) });
    try {
      const out = await h.client.handshake();
      const info = await h.conn.handshake();
      assert.equal(info.signatureScheme, expected[kind], kind);
      assert.equal(out.flight.signatureValid, true, kind);
    } finally {
      await h.done();
    }
  }
});

// ---------------------------------------------------------------------------------------------
// HelloRetryRequest (RFC 8446 §4.1.4) and the second ClientHello (§4.1.2)

Deno.test("RFC 8446 §4.1.4: a ClientHello without a usable key share gets a HelloRetryRequest for the client's first common group, then completes", async () => {
  const h = await connect();
  try {
    const out = await h.client.handshake({ groups: [Group.P256, Group.X25519], keyShares: [] });
    const info = await h.conn.handshake();
    assert.ok(out.helloRetryRequest);
    assert.equal(out.helloRetryRequest.group, Group.P256);
    assert.deepEqual(out.helloRetryRequest.extensionTypes, [
      ExtType.KEY_SHARE,
      ExtType.SUPPORTED_VERSIONS,
    ]);
    assert.equal(info.helloRetryRequest, true);
    assert.equal(info.group, "secp256r1");
    assert.equal(out.serverHello.group, Group.P256);
    assert.equal(info.ticketsSent, 2);
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §4.1.4: a share only for an unsupported group (x448) gets a HelloRetryRequest for a supported one", async () => {
  const h = await connect();
  try {
    const out = await h.client.handshake({
      groups: [Group.X448, Group.X25519],
      keyShares: [Group.X448],
    });
    assert.equal(out.helloRetryRequest?.group, Group.X25519);
    assert.equal((await h.conn.handshake()).group, "x25519");
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §D.4: in compatibility mode the HelloRetryRequest echoes the session id and is followed by a ChangeCipherSpec", async () => {
  const h = await connect();
  try {
    const sid = crypto.getRandomValues(new Uint8Array(32));
    const out = await h.client.handshake({
      legacySessionId: sid,
      keyShares: [],
      changeCipherSpec: true,
    });
    assert.deepEqual(out.helloRetryRequest?.legacySessionId, sid);
    assert.deepEqual(out.serverHello.legacySessionId, sid);
    assert.equal(out.serverHello.precededByChangeCipherSpec, true);
    assert.equal((await h.conn.handshake()).helloRetryRequest, true);
  } finally {
    await h.done();
  }
});

async function secondHelloAlert(
  first: Parameters<Tls13Client["sendClientHello"]>[0],
  second: Parameters<Tls13Client["sendSecondClientHello"]>[0],
): Promise<void> {
  await expectAlert(47, async (client) => {
    await client.sendClientHello(first);
    assert.equal((await client.readServerHello()).helloRetryRequest, true);
    await client.sendSecondClientHello(second);
  });
}

Deno.test("RFC 8446 §4.1.2: a second ClientHello with a different random gets illegal_parameter (47)", async () => {
  await secondHelloAlert({ keyShares: [] }, { random: crypto.getRandomValues(new Uint8Array(32)) });
});

Deno.test("RFC 8446 §4.1.4: a second ClientHello that changes the cipher suites gets illegal_parameter (47)", async () => {
  await secondHelloAlert({ keyShares: [] }, {
    suites: [Suite.AES_256_GCM_SHA384, Suite.AES_128_GCM_SHA256],
  });
});

Deno.test("RFC 8446 §4.1.2: a second ClientHello still without a key share gets illegal_parameter (47)", async () => {
  await secondHelloAlert({ keyShares: [] }, { keyShares: [] });
});

Deno.test("RFC 8446 §4.1.4: a second ClientHello with a share for another group than requested gets illegal_parameter (47)", async () => {
  await secondHelloAlert({ groups: [Group.P256, Group.X25519], keyShares: [] }, {
    keyShares: [Group.X25519],
  });
});

Deno.test("RFC 8446 §4.2.10: early_data in the second ClientHello gets illegal_parameter (47)", async () => {
  await secondHelloAlert({ keyShares: [] }, { earlyData: true });
});

// ---------------------------------------------------------------------------------------------
// Resumption (RFC 8446 §2.2, §4.2.11)

Deno.test("RFC 8446 §2.2: a ticket from the engine resumes: identity 0, no certificate, dec_cb called once", async () => {
  const ctx = await context({});
  const [ticket] = await ticketsFrom(ctx);
  const h = await connect({ context: ctx });
  const served = echo(h.conn);
  try {
    const out = await h.client.handshake({ psk: [ticketIdentity(ticket)] });
    const info = await h.conn.handshake();
    assert.equal(info.resumed, true);
    assert.equal(info.pskIdentity, 0);
    assert.equal(info.signatureScheme, null);
    assert.equal(out.serverHello.pskIdentity, 0);
    assert.deepEqual(out.serverHello.extensionTypes, [
      ExtType.PRE_SHARED_KEY,
      ExtType.KEY_SHARE,
      ExtType.SUPPORTED_VERSIONS,
    ]);
    assert.equal(out.flight.certificates.length, 0);
    assert.equal(h.conn.engine.counters.decCb, 1);
    // libssl reports a good TLS 1.3 ticket as SUCCESS_RENEW (tickets are always reissued).
    assert.deepEqual(info.decCbCalls.map((c) => c.status), [SUCCESS_RENEW]);
    assert.equal(info.ticketsSent, 1);
    await h.client.readTickets(1);
    await h.client.write(enc.encode("resumed"));
    assert.equal(dec.decode(await h.client.readData()), "resumed");
    await h.client.close();
    assert.equal(await served, "done");
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §4.1.4, §4.2.11.2: resumption across a HelloRetryRequest: binders over the HRR transcript, dec_cb called twice", async () => {
  const ctx = await context({});
  const [ticket] = await ticketsFrom(ctx);
  const h = await connect({ context: ctx });
  try {
    const out = await h.client.handshake({ psk: [ticketIdentity(ticket)], keyShares: [] });
    const info = await h.conn.handshake();
    assert.ok(out.helloRetryRequest);
    assert.equal(info.helloRetryRequest, true);
    assert.equal(info.resumed, true);
    assert.equal(info.pskIdentity, 0);
    assert.equal(h.conn.engine.counters.decCb, 2);
    assert.deepEqual(info.decCbCalls.map((c) => c.status), [SUCCESS_RENEW, SUCCESS_RENEW]);
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §4.2.11: of two identities, the first garbage, identity 1 is accepted", async () => {
  const ctx = await context({});
  const [ticket] = await ticketsFrom(ctx);
  const h = await connect({ context: ctx });
  try {
    const garbage = {
      identity: crypto.getRandomValues(new Uint8Array(120)),
      obfuscatedTicketAge: 7,
    };
    const out = await h.client.handshake({ psk: [garbage, ticketIdentity(ticket)] });
    const info = await h.conn.handshake();
    assert.equal(info.resumed, true);
    assert.equal(info.pskIdentity, 1);
    assert.equal(out.serverHello.pskIdentity, 1);
    assert.deepEqual(info.decCbCalls.map((c) => c.status), [NO_DECRYPT, SUCCESS_RENEW]);
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §4.2.11.2: a PSK binder that does not verify gets decrypt_error (51), no fallback to a full handshake", async () => {
  const ctx = await context({});
  const [ticket] = await ticketsFrom(ctx);
  const h = await connect({ context: ctx });
  try {
    await h.client.sendClientHello({ psk: [ticketIdentity(ticket, "wrong")] });
    const first = await h.client.nextEvent();
    assert.deepEqual(first, { kind: "alert", level: 2, description: 51, protected: false });
    assert.equal(await outcome(h.conn), 51);
    assert.equal(h.conn.engine.counters.decCb, 1);
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §4.2.11.2, §4.2.8.2: the ECDHE exchange runs beside the ticket decision, yet a bad binder is still decrypt_error (51) and a bad share with a good binder illegal_parameter (47)", async (t) => {
  const ctx = await context({});
  const tickets = await ticketsFrom(ctx);
  const badShare = { group: Group.X25519, keyExchange: new Uint8Array(31).fill(9) };
  const cases: [string, PskIdentitySpec, number][] = [
    ["wrong binder and a 31-byte x25519 share", ticketIdentity(tickets[0], "wrong"), 51],
    ["good binder and a 31-byte x25519 share", ticketIdentity(tickets[1]), 47],
  ];
  for (const [name, identity, alert] of cases) {
    await t.step(name, async () => {
      const h = await connect({ context: ctx });
      try {
        await h.client.sendClientHello({ psk: [identity], keyShares: [badShare] });
        assert.equal(await h.client.readAlert(), alert, "the alert the client received");
        assert.equal(await outcome(h.conn), alert, "the alert the server raised");
        assert.equal(h.conn.engine.counters.decCb, 1, "dec_cb saw the ticket");
      } finally {
        await h.done();
      }
    });
  }
});

Deno.test("RFC 8446 §4.2.9: psk_ke as the only mode gets a full handshake (the server requires psk_dhe_ke)", async () => {
  const ctx = await context({});
  const [ticket] = await ticketsFrom(ctx);
  const h = await connect({ context: ctx });
  try {
    const out = await h.client.handshake({ psk: [ticketIdentity(ticket)], pskModes: [0] });
    const info = await h.conn.handshake();
    assert.equal(info.resumed, false);
    assert.equal(info.pskIdentity, -1);
    assert.equal(out.serverHello.pskIdentity, -1);
    assert.equal(out.flight.certificates.length, 1);
    assert.equal(h.conn.engine.counters.decCb, 0);
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §4.2.11: a SHA-384 ticket resumes a TLS_AES_256_GCM_SHA384 handshake, but not a SHA-256 one", async () => {
  const ctx = await context({});
  const h0 = await connect({ context: ctx });
  let ticket: ClientTicket;
  try {
    await h0.client.handshake({ suites: [Suite.AES_256_GCM_SHA384] });
    [ticket] = await h0.client.readTickets(1);
    assert.equal(ticket.hash, "SHA-384");
  } finally {
    await h0.done();
  }
  const same = await connect({ context: ctx });
  try {
    await same.client.handshake({
      suites: [Suite.AES_256_GCM_SHA384],
      psk: [ticketIdentity(ticket)],
    });
    const info = await same.conn.handshake();
    assert.equal(info.resumed, true);
    assert.equal(info.cipherSuite, "TLS_AES_256_GCM_SHA384");
  } finally {
    await same.done();
  }
  const other = await connect({ context: ctx });
  try {
    const out = await other.client.handshake({
      suites: [Suite.AES_128_GCM_SHA256],
      psk: [ticketIdentity(ticket)],
    });
    const info = await other.conn.handshake();
    assert.equal(info.resumed, false);
    assert.equal(out.serverHello.pskIdentity, -1);
    assert.equal(out.flight.certificates.length, 1);
  } finally {
    await other.done();
  }
});

Deno.test("RFC 8446 §4.2.9: pre_shared_key without psk_key_exchange_modes gets missing_extension (109)", async () => {
  const ctx = await context({});
  const [ticket] = await ticketsFrom(ctx);
  await expectAlert(109, async (client) => {
    await client.sendClientHello({ psk: [ticketIdentity(ticket)], pskModes: null });
  }, { context: ctx });
});

Deno.test("RFC 8446 §9.2: a resumption without signature_algorithms completes (only certificate authentication needs it)", async () => {
  const ctx = await context({});
  const [ticket] = await ticketsFrom(ctx);
  const h = await connect({ context: ctx });
  try {
    await h.client.handshake({ psk: [ticketIdentity(ticket)], signatureAlgorithms: null });
    assert.equal((await h.conn.handshake()).resumed, true);
  } finally {
    await h.done();
  }
});

// ---------------------------------------------------------------------------------------------
// ClientHello checks

Deno.test("RFC 8446 §9.2: a ClientHello without key_share gets missing_extension (109)", async () => {
  await expectAlert(109, async (client) => {
    await client.sendClientHello({ keyShares: null });
  });
});

Deno.test("RFC 8446 §9.2: a ClientHello without supported_groups gets missing_extension (109)", async () => {
  await expectAlert(109, async (client) => {
    await client.sendClientHello({ groups: null });
  });
});

Deno.test("RFC 8446 §9.2: a full handshake without signature_algorithms gets missing_extension (109)", async () => {
  await expectAlert(109, async (client) => {
    await client.sendClientHello({ signatureAlgorithms: null });
  });
});

Deno.test("RFC 8446 §4.1.1: no cipher suite in common gets handshake_failure (40)", async () => {
  await expectAlert(40, async (client) => {
    await client.sendClientHello({ suites: [Suite.CHACHA20_POLY1305_SHA256] });
  });
});

Deno.test("RFC 8446 §4.1.1: no group in common gets handshake_failure (40)", async () => {
  await expectAlert(40, async (client) => {
    await client.sendClientHello({ groups: [Group.X448, Group.P521], keyShares: [Group.X448] });
  });
});

Deno.test("RFC 5246 §7.4.1.2: a TLS 1.2 ClientHello (no supported_versions) offering only TLS 1.3 suites negotiates TLS 1.2 and gets handshake_failure (40)", async () => {
  await expectAlert(40, async (client) => {
    await client.sendClientHello({ supportedVersions: null });
  });
});

Deno.test("RFC 5246 Appendix E.1: a TLS 1.1 ClientHello (legacy_version 0x0302, no supported_versions) gets protocol_version (70)", async () => {
  await expectAlert(70, async (client) => {
    await client.sendClientHello({ supportedVersions: null, legacyVersion: 0x0302 });
  });
});

Deno.test("RFC 8446 §4.2.1: supported_versions with neither 0x0304 nor 0x0303 gets protocol_version (70)", async () => {
  await expectAlert(70, async (client) => {
    await client.sendClientHello({ supportedVersions: [0x0302, 0x0301] });
  });
});

Deno.test("RFC 8446 §D.5: a ClientHello with legacy_version 0x0300 gets protocol_version (70)", async () => {
  await expectAlert(70, async (client) => {
    await client.sendClientHello({ legacyVersion: 0x0300 });
  });
});

Deno.test("RFC 8446 §4.2.1: with supported_versions, a legacy_version of 0x0301 is not used for negotiation: the handshake completes (as libssl)", async () => {
  const h = await connect();
  try {
    await h.client.handshake({ legacyVersion: 0x0301 });
    assert.equal(await outcome(h.conn), "ok");
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §4.1.2: legacy_compression_methods other than [0] gets illegal_parameter (47)", async () => {
  await expectAlert(47, async (client) => {
    await client.sendClientHello({ compressionMethods: [1, 0] });
  });
});

Deno.test("RFC 8446 §4.2: a duplicate extension gets illegal_parameter (47)", async () => {
  await expectAlert(47, async (client) => {
    await client.sendClientHello({
      editExtensions: (exts) => [...exts, exts.find(([t]) => t === ExtType.SIGNATURE_ALGORITHMS)!],
    });
  });
});

Deno.test("RFC 8446 §4.2.11: pre_shared_key that is not the last extension gets illegal_parameter (47)", async () => {
  const ctx = await context({});
  const [ticket] = await ticketsFrom(ctx);
  await expectAlert(47, async (client) => {
    await client.sendClientHello({
      psk: [ticketIdentity(ticket)],
      editExtensions: (exts) => [...exts, [ExtType.PADDING, new Uint8Array(8)]],
    });
  }, { context: ctx });
});

Deno.test("RFC 8446 §4.2.8.2: an invalid key share gets illegal_parameter (47)", async (t) => {
  const p256 = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
    "deriveBits",
  ]) as CryptoKeyPair;
  const point = new Uint8Array(await crypto.subtle.exportKey("raw", p256.publicKey));
  const offCurve = point.slice();
  offCurve[64] ^= 1;
  const compressed = new Uint8Array([2 + (point[64] & 1), ...point.subarray(1, 33)]);
  const cases: [string, number, Uint8Array][] = [
    ["x25519 of 31 bytes", Group.X25519, new Uint8Array(31).fill(9)],
    ["x25519 of 33 bytes", Group.X25519, new Uint8Array(33).fill(9)],
    ["x25519 all zero (small-order point)", Group.X25519, new Uint8Array(32)],
    ["x25519 of order 1 (u = 1)", Group.X25519, new Uint8Array(32).fill(0).with(0, 1)],
    ["P-256 of 64 bytes", Group.P256, point.subarray(1)],
    ["P-256 compressed", Group.P256, compressed],
    ["P-256 not on the curve", Group.P256, offCurve],
    ["P-256 all zero", Group.P256, new Uint8Array(65).with(0, 4)],
    ["P-384 with a P-256 point", Group.P384, point],
    ["P-384 not on the curve", Group.P384, new Uint8Array(97).fill(0x5a).with(0, 4)],
  ];
  for (const [name, group, keyExchange] of cases) {
    await t.step(name, async () => {
      await expectAlert(47, async (client) => {
        await client.sendClientHello({ keyShares: [{ group, keyExchange }] });
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// The client's second flight (RFC 8446 §4.4.4) and record-level misbehaviour (§5)

Deno.test("RFC 8446 §4.4.4: a client Finished that does not verify gets decrypt_error (51)", async () => {
  await expectAlert(51, async (client) => {
    await client.sendClientHello();
    await client.readServerHello();
    await client.readServerFlight();
    const fin = client.finishedMessage();
    fin[10] ^= 0x40;
    await client.sendFinished(fin);
  });
});

Deno.test("RFC 8446 §4.4.4: a Finished of the wrong length gets decode_error (50)", async () => {
  await expectAlert(50, async (client) => {
    await client.sendClientHello();
    await client.readServerHello();
    await client.readServerFlight();
    await client.sendFinished(handshakeMessage(20, new Uint8Array(31)));
  });
});

Deno.test("RFC 8446 §4: a second ClientHello instead of the client Finished gets unexpected_message (10)", async () => {
  await expectAlert(10, async (client) => {
    const ch = await client.sendClientHello();
    await client.readServerHello();
    await client.readServerFlight();
    await client.sendHandshake(ch);
  });
});

Deno.test("RFC 8446 §5: a ChangeCipherSpec of value 2 gets unexpected_message (10)", async () => {
  await expectAlert(10, async (client) => {
    await client.sendClientHello();
    await client.readServerHello();
    await client.readServerFlight();
    await client.sendRecord(20, new Uint8Array([2]));
  });
});

Deno.test("RFC 8446 §5: a ChangeCipherSpec after the handshake gets unexpected_message (10)", async () => {
  const h = await connect();
  try {
    await h.client.handshake();
    await h.conn.handshake();
    const read = readOnce(h.conn);
    await h.client.sendRecord(20, new Uint8Array([1]));
    assert.equal(await h.client.readAlert(), 10);
    assert.equal(await read, 10);
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §5: a ChangeCipherSpec (value 1) during the handshake is ignored", async () => {
  const h = await connect();
  try {
    await h.client.handshake({ changeCipherSpec: true });
    assert.equal(await outcome(h.conn), "ok");
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §5: a ChangeCipherSpec before the ClientHello gets unexpected_message (10)", async () => {
  await expectAlert(10, async (client) => {
    await client.sendRecord(20, new Uint8Array([1]));
  });
});

Deno.test("RFC 8446 §5: application data before the handshake gets unexpected_message (10)", async () => {
  await expectAlert(10, async (client) => {
    await client.sendRecord(23, crypto.getRandomValues(new Uint8Array(40)));
  });
});

// ---------------------------------------------------------------------------------------------
// Early data (RFC 8446 §4.2.10)

async function fakeEarlyData(client: Tls13Client, records: number, size: number): Promise<void> {
  for (let i = 0; i < records; i++) {
    await client.sendRecord(23, crypto.getRandomValues(new Uint8Array(size)));
  }
}

Deno.test("RFC 8446 §4.2.10: early data after a ClientHello with early_data is skipped and the handshake completes", async () => {
  const h = await connect();
  const served = echo(h.conn);
  try {
    const out = await h.client.handshake({
      earlyData: true,
      afterClientHello: (client) => fakeEarlyData(client, 3, 1000),
    });
    assert.equal(out.flight.encryptedExtensions.has(ExtType.EARLY_DATA), false);
    assert.equal(await outcome(h.conn), "ok");
    await h.client.write(enc.encode("after 0-RTT"));
    assert.equal(dec.decode(await h.client.readData()), "after 0-RTT");
  } finally {
    await h.done();
    await served;
  }
});

Deno.test("RFC 8446 §4.2.10: early data offered with a ticket is rejected (skipped) and the resumption completes", async () => {
  const ctx = await context({});
  const [ticket] = await ticketsFrom(ctx);
  const h = await connect({ context: ctx });
  try {
    const out = await h.client.handshake({
      earlyData: true,
      psk: [ticketIdentity(ticket)],
      afterClientHello: (client) => fakeEarlyData(client, 2, 500),
    });
    assert.equal(out.flight.encryptedExtensions.has(ExtType.EARLY_DATA), false);
    assert.equal((await h.conn.handshake()).resumed, true);
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §4.2.10: early data before the second ClientHello (after a HelloRetryRequest) is skipped", async () => {
  const h = await connect();
  try {
    const out = await h.client.handshake({
      earlyData: true,
      keyShares: [],
      afterClientHello: (client) => fakeEarlyData(client, 2, 700),
    });
    assert.ok(out.helloRetryRequest);
    assert.equal(await outcome(h.conn), "ok");
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §4.2.10: more rejected early data than the server's bound (64 KiB) gets unexpected_message (10)", async () => {
  await expectAlert(10, async (client) => {
    await client.sendClientHello({ earlyData: true });
    const sending = fakeEarlyData(client, 5, 16000);
    await client.readServerHello();
    await client.readServerFlight();
    await sending;
  });
});

Deno.test("RFC 8446 §4.2.10: early data without early_data in the ClientHello gets bad_record_mac (20)", async () => {
  await expectAlert(20, async (client) => {
    await client.sendClientHello();
    await fakeEarlyData(client, 1, 100);
    await client.readServerHello();
    await client.readServerFlight();
  });
});

// ---------------------------------------------------------------------------------------------
// After the handshake: KeyUpdate (§4.6.3), close_notify (§6.1), tickets (§4.6.1), ALPN

Deno.test("RFC 8446 §4.6.3: a KeyUpdate with update_requested is answered with the server's KeyUpdate and data keeps flowing", async () => {
  const h = await connect();
  const served = echo(h.conn);
  try {
    await h.client.handshake();
    await h.client.readTickets(2);
    await h.client.keyUpdate(true);
    await h.client.write(enc.encode("one"));
    const events: ClientEvent[] = [];
    for (let e = await h.client.nextEvent();; e = await h.client.nextEvent()) {
      events.push(e);
      if (e.kind !== "key_update") break;
    }
    assert.deepEqual(events.map((e) => e.kind), ["key_update", "data"]);
    assert.deepEqual(events[0], { kind: "key_update", requested: false });
    assert.equal(dec.decode((events[1] as { data: Uint8Array }).data), "one");
    // And again without a request: the server only updates its read key.
    await h.client.keyUpdate(false);
    await h.client.write(enc.encode("two"));
    assert.deepEqual(await h.client.nextEvent(), { kind: "data", data: enc.encode("two") });
    await h.client.close();
    assert.equal(await served, "done");
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §4.6.3: the server's own KeyUpdate with update_requested is honoured by the client and data flows", async () => {
  const h = await connect();
  const served = echo(h.conn);
  try {
    await h.client.handshake();
    await h.client.readTickets(2);
    await h.conn.keyUpdate(true);
    assert.deepEqual(await h.client.nextEvent(), { kind: "key_update", requested: true });
    await h.client.write(enc.encode("three"));
    assert.equal(dec.decode(await h.client.readData()), "three");
  } finally {
    await h.done();
    await served;
  }
});

Deno.test("RFC 8446 §4.6.3: a KeyUpdate of value 2 gets illegal_parameter (47)", async () => {
  const h = await connect();
  try {
    await h.client.handshake();
    await h.conn.handshake();
    const read = readOnce(h.conn);
    await h.client.keyUpdate(false, 2);
    assert.equal(await h.client.readAlert(), 47);
    assert.equal(await read, 47);
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §6.1: close_notify ends the server's readable, and the server's close sends close_notify", async () => {
  const h = await connect();
  try {
    await h.client.handshake();
    await h.conn.handshake();
    await h.client.write(enc.encode("last words"));
    await h.client.close();
    assert.equal(await readOnce(h.conn), "last words");
    assert.equal(await readOnce(h.conn), "done");
    await h.conn.close();
    assert.equal(await h.client.readAlert(), 0);
    assert.deepEqual(await h.client.nextEvent(), { kind: "eof" });
  } finally {
    await h.done();
  }
});

Deno.test("RFC 8446 §4.6.1: NewSessionTickets are sent right after the client's Finished, before any application data the handler writes", async () => {
  const h = await connect();
  try {
    // The handler writes at once, before the handshake has finished.
    const w = h.conn.writable.getWriter();
    const written = w.write(enc.encode("hello"));
    await h.client.handshake();
    const kinds: string[] = [];
    for (;;) {
      const e = await h.client.nextEvent();
      kinds.push(e.kind);
      if (e.kind === "data") break;
    }
    assert.deepEqual(kinds, ["ticket", "ticket", "data"]);
    await written;
    w.releaseLock();
    assert.equal((await h.conn.handshake()).ticketsSent, 2);
  } finally {
    await h.done();
  }
});

Deno.test("SSL_new_session_ticket: requestTicket() sends one more NewSessionTicket, which resumes", async () => {
  const ctx = await context({});
  const h = await connect({ context: ctx });
  let third: ClientTicket;
  try {
    await h.client.handshake();
    await h.conn.handshake();
    await h.client.readTickets(2);
    assert.equal(await h.conn.requestTicket(), 1);
    [, , third] = await h.client.readTickets(3);
    assert.equal(h.client.tickets.length, 3);
    assert.notDeepEqual(third.nonce, h.client.tickets[1].nonce);
  } finally {
    await h.done();
  }
  const h2 = await connect({ context: ctx });
  try {
    await h2.client.handshake({ psk: [ticketIdentity(third)] });
    assert.equal((await h2.conn.handshake()).resumed, true);
  } finally {
    await h2.done();
  }
});

Deno.test("RFC 7301 §3.2: the server selects its most preferred protocol the client offers", async () => {
  const h = await connect({ alpnProtocols: ["h2", "http/1.1"] });
  try {
    const out = await h.client.handshake({ alpn: ["http/1.1", "h2"] });
    const info: HandshakeInfo = await h.conn.handshake();
    assert.equal(info.alpnProtocol, "h2");
    assert.equal(out.flight.alpn, "h2");
  } finally {
    await h.done();
  }
});

Deno.test("RFC 7301 §3.2: no ALPN protocol in common gets no_application_protocol (120)", async () => {
  await expectAlert(120, async (client) => {
    await client.sendClientHello({ alpn: ["spdy/3", "h3"] });
  }, { alpnProtocols: ["h2", "http/1.1"] });
});

Deno.test("RFC 7301 §3.2: a client without ALPN gets no ALPN extension", async () => {
  const h = await connect({ alpnProtocols: ["h2"] });
  try {
    const out = await h.client.handshake();
    assert.equal(out.flight.encryptedExtensions.has(ExtType.ALPN), false);
    assert.equal((await h.conn.handshake()).alpnProtocol, null);
  } finally {
    await h.done();
  }
});

// ---------------------------------------------------------------------------------------------
// SNI: the serverNames option is libssl's servername callback (SSL_set_SSL_CTX on a match,
// SSL_TLSEXT_ERR_NOACK otherwise)

const SERVER_NAME = 0;

for (
  const [form, names] of [
    ["a table", (other: SslContext) => ({ "b.example": other })],
    ["a Map", (other: SslContext) => new Map([["b.example", other]])],
    [
      "a function",
      (other: SslContext) => (name: string) => name === "b.example" ? other : undefined,
    ],
  ] as const
) {
  Deno.test(`RFC 6066 §3, ssl/statem/extensions_srvr.c:tls_construct_stoc_server_name: serverNames as ${form}: a name it knows is acknowledged with an empty server_name in EncryptedExtensions, any other is not`, async () => {
    const other = await context({});
    for (const [name, acked] of [["b.example", true], ["c.example", false]] as const) {
      const h = await connect({ serverNames: names(other) });
      try {
        const o = await h.client.handshake({ serverName: name });
        assert.equal(o.flight.encryptedExtensions.has(SERVER_NAME), acked, name);
        if (acked) assert.equal(o.flight.encryptedExtensions.get(SERVER_NAME)!.length, 0);
        const info = await h.conn.handshake();
        assert.equal(info.serverName, name);
        assert.equal(info.resumed, false);
      } finally {
        await h.done();
      }
    }
  });
}

Deno.test("RFC 8446 §4.2, ssl/statem/extensions_srvr.c:tls_construct_stoc_server_name: a TLS 1.3 resumption switched by SNI is acknowledged too, and the ticket opens under the first context's keys (session_ctx)", async () => {
  const first = await context({});
  const tickets = await ticketsFrom(first);
  const other = await context({}); // other ticket keys: it never sees the ticket
  const h = await connect({ context: first, serverNames: { "b.example": other } });
  try {
    const o = await h.client.handshake({
      serverName: "b.example",
      psk: [ticketIdentity(tickets[0])],
    });
    assert.equal(o.serverHello.pskIdentity, 0);
    assert.equal(o.flight.encryptedExtensions.get(SERVER_NAME)?.length, 0);
    const info = await h.conn.handshake();
    assert.equal(info.resumed, true);
    assert.deepEqual(info.decCbCalls.map((c) => c.status), [SUCCESS_RENEW]);
  } finally {
    await h.done();
  }
});

Deno.test("serverNames: a servername function that throws gets internal_error (80), as a servername callback's SSL_TLSEXT_ERR_ALERT_FATAL", async () => {
  const names = () => {
    throw new Error("lookup failed");
  };
  await expectAlert(80, (c) => c.sendClientHello({ serverName: "b.example" }).then(() => {}), {
    serverNames: names,
  });
});

// ---------------------------------------------------------------------------------------------
// The connection's API edges: closing early, cancelling the streams, wrong chunks, failures

/** What the client receives until the connection ends: event kinds, alerts with their number. */
async function eventsToEnd(client: Tls13Client): Promise<string[]> {
  const kinds: string[] = [];
  for (;;) {
    const e = await client.nextEvent();
    kinds.push(e.kind === "alert" ? `alert ${e.description}` : e.kind);
    if (e.kind === "eof") return kinds;
  }
}

Deno.test("TlsConnection.close() before the handshake finished abandons it: handshake() rejects with TlsConnectionError closed, and the client sees the connection end without an alert", async () => {
  const h = await connect();
  try {
    await h.conn.close();
    assert.equal(await outcome(h.conn), "closed");
    assert.equal(await h.client.readAlert(), null);
    await h.conn.close(); // a second close is a no-op
  } finally {
    await h.done();
  }
});

for (
  const [how, stop] of [
    ["readable.cancel()", (c: TlsConnection) => c.readable.cancel()],
    ["writable.abort()", (c: TlsConnection) => c.writable.abort()],
  ] as const
) {
  Deno.test(`TlsConnection.${how} after the handshake closes the connection at once, without close_notify`, async () => {
    const h = await connect();
    try {
      await h.client.handshake();
      await h.conn.handshake();
      await stop(h.conn);
      assert.deepEqual(await eventsToEnd(h.client), ["ticket", "ticket", "eof"]);
    } finally {
      await h.done();
    }
  });
}

Deno.test("TlsConnection.writable takes Uint8Array chunks only: anything else is a TypeError (the writable is then errored, as any Web stream) and nothing is sent", async () => {
  const h = await connect();
  try {
    await h.client.handshake();
    await h.conn.handshake();
    const w = h.conn.writable.getWriter();
    await assert.rejects(w.write("text" as unknown as Uint8Array), TypeError);
    w.releaseLock();
    await h.conn.close();
    assert.deepEqual(await eventsToEnd(h.client), ["ticket", "ticket", "alert 0", "eof"]);
  } finally {
    await h.done();
  }
});

Deno.test("after a failed handshake the readable fails with the handshake's error (the alert sent)", async () => {
  const h = await connect();
  try {
    await h.client.sendClientHello({ suites: [0x1303] }); // ChaCha20 only
    assert.equal(await h.client.readAlert(), 40);
    assert.equal(await outcome(h.conn), 40);
    assert.equal(await readOnce(h.conn), 40);
  } finally {
    await h.done();
  }
});

Deno.test("an exception inside the server (here its random source) is internal_error (80) to the client and a TlsAlert 80 from handshake(), never an unhandled rejection", async () => {
  await expectAlert(80, (c) => c.sendClientHello({}).then(() => {}), {
    random: () => {
      throw new Error("no randomness");
    },
  });
});

Deno.test("TlsListener: a failed accept (a connection reset before it was taken, no file descriptors left) does not end the iteration; a closed listener does", async () => {
  const [client, server] = memoryTransportPair();
  const script: (() => unknown)[] = [
    () => {
      throw new Error("Too many open files (os error 24)");
    },
    () => server,
    () => {
      throw new Deno.errors.BadResource("listener closed");
    },
  ];
  let accepts = 0;
  const fake = {
    addr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    accept: () => Promise.resolve().then(script[accepts++]),
    close() {},
  } as unknown as Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
  const listener = new TlsListener(fake, {
    credentials: await credentials(),
    context: await context(),
  });
  const conns: TlsConnection[] = [];
  for await (const conn of listener) conns.push(conn);
  assert.equal(accepts, 3);
  assert.equal(conns.length, 1);
  client.close();
  assert.equal(await outcome(conns[0]), "closed");
});

// ---------------------------------------------------------------------------------------------
// Handshake timeout

Deno.test("handshakeTimeoutMs: a client that sends half a ClientHello and stops gets TlsConnectionError timeout in time", async () => {
  const h = await connect({ handshakeTimeoutMs: 200 });
  try {
    const ch = await h.client.buildClientHello({});
    const rec = record(22, ch);
    const start = performance.now();
    await h.client.sendRaw(rec.subarray(0, rec.length >> 1));
    const e = await h.conn.handshake().then(() => null, (e) => e);
    const elapsed = performance.now() - start;
    assert.ok(e instanceof TlsConnectionError, String(e));
    assert.equal(e.kind, "timeout");
    assert.ok(elapsed >= 190 && elapsed < 1000, `ended after ${elapsed.toFixed(0)} ms`);
    assert.equal(await h.client.readAlert(), null); // closed, no alert
  } finally {
    await h.done();
  }
});
