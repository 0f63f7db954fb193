/**
 * `openssl s_client` (OpenSSL 3.x) against this module's TLS 1.3 server (`listenTls` through
 * `tests/_tls_server.ts`): cipher suites, groups, HelloRetryRequest (with and without a PSK),
 * ticket resumption with `gen_cb`/`dec_cb` app data and across a server restart, KeyUpdate in
 * both directions, a wrong PSK binder, a TLS 1.1-only client, every certificate key type
 * (verified by s_client), ALPN and SNI. Each test compares what s_client printed with the
 * server's `HandshakeInfo`, error and engine counters.
 *
 * Ignored, with the reason printed, when openssl is missing (a failure under `CI=true`).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  DecryptTicketReturn,
  sessionFromPem,
  sessionToPem,
  SslContext,
  type SslContextOptions,
  TicketStatus,
  TlsAlert,
} from "../../mod.ts";
import type { HandshakeInfo, TlsConnection } from "../../tls.ts";
import {
  defaultDecision,
  type ServedConnection,
  startTlsServer,
  type TestTlsServer,
} from "../_tls_server.ts";
import { testChain, testCredentials, type TestKeyKind } from "../_tls_certs.ts";
import { missing } from "./_peers.ts";
import { countMatches, handshakeLine, sClient, startSClient } from "./_tls_clients.ts";

const why = await missing(["openssl"]);
if (why !== null) console.warn(`tls_s_client_test: skipping (CI installs openssl): ${why}`);

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : null);

/** A context whose gen_cb sets "user=42" and whose dec_cb records the app data it sees. */
async function recordingContext(options: SslContextOptions = {}) {
  const decSaw: (string | null)[] = [];
  const context = await SslContext.create({
    genCb: (conn) => (conn.session!.setTicketAppData("user=42"), 1),
    decCb: (_conn, session, _keyName, status) => {
      decSaw.push(text(session?.getTicketAppData()));
      return defaultDecision(status);
    },
    ...options,
  });
  return { context, decSaw };
}

/** Starts a P-256 server with the default greet-and-echo application. */
async function p256Server(
  context: SslContext,
  extra: { alpnProtocols?: string[]; app?: (c: TlsConnection, i: HandshakeInfo) => Promise<void> } =
    {},
): Promise<TestTlsServer> {
  const { certPem, keyPem } = await testCredentials("P-256");
  return await startTlsServer({ cert: certPem, key: keyPem, context, ...extra });
}

/** The `n`th connection (1-based) once it has finished. */
async function served(server: TestTlsServer, n: number): Promise<ServedConnection> {
  const all = await server.waitFor(n);
  assert.ok(all.length >= n, `the server saw ${all.length} connections, expected ${n}`);
  return all[n - 1];
}

/** Asserts the connection failed with our alert `alert` and never finished a handshake. */
function assertAlert(conn: ServedConnection, alert: number) {
  assert.equal(conn.info, null);
  assert.ok(conn.error instanceof TlsAlert, `expected a TlsAlert, got ${String(conn.error)}`);
  assert.equal(conn.error.alert, alert);
}

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "session_tickets_s_client_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "RFC 8446 §9.1 cipher suites: s_client -ciphersuites AES-128-GCM and AES-256-GCM",
  ignore: why !== null,
}, async () => {
  const server = await p256Server(await SslContext.create());
  try {
    let n = 0;
    for (const suite of ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"]) {
      const r = await sClient(server.port, ["-ciphersuites", suite], {
        input: "ping\n",
        until: /^ping$/m,
      });
      assert.deepEqual(handshakeLine(r.stdout), {
        kind: "New",
        protocol: "TLSv1.3",
        cipher: suite,
      });
      // The greeting, then the echo of what the client wrote: data both ways.
      assert.match(r.stdout, /^hello new\nping$/m, r.stdout + r.stderr);
      const conn = await served(server, ++n);
      assert.equal(conn.error, null);
      assert.equal(conn.info!.version, "TLSv1.3");
      assert.equal(conn.info!.cipherSuite, suite);
    }
  } finally {
    await server.stop();
  }
});

Deno.test({
  name: "RFC 8446 §4.2.7 groups: s_client -groups X25519, P-256, P-384 (no HelloRetryRequest)",
  ignore: why !== null,
}, async () => {
  const server = await p256Server(await SslContext.create());
  try {
    const cases = [
      { group: "X25519", info: "x25519", temp: "Server Temp Key: X25519, 253 bits" },
      { group: "P-256", info: "secp256r1", temp: "Server Temp Key: ECDH, prime256v1, 256 bits" },
      { group: "P-384", info: "secp384r1", temp: "Server Temp Key: ECDH, secp384r1, 384 bits" },
    ];
    let n = 0;
    for (const c of cases) {
      const r = await sClient(server.port, ["-groups", c.group]);
      assert.equal(handshakeLine(r.stdout)?.kind, "New", r.stdout + r.stderr);
      assert.ok(r.stdout.includes(c.temp), r.stdout);
      assert.match(r.stdout, /^hello new$/m);
      const conn = await served(server, ++n);
      assert.equal(conn.info!.group, c.info);
      assert.equal(conn.info!.helloRetryRequest, false);
    }
  } finally {
    await server.stop();
  }
});

Deno.test({
  name: "RFC 8446 §4.1.4 HelloRetryRequest: a first key share the server lacks (X448, ffdhe2048)",
  ignore: why !== null,
}, async () => {
  const server = await p256Server(await SslContext.create());
  try {
    // s_client sends a key share for the first group only; the server asks for the second.
    const cases = [
      { groups: "X448:P-256", info: "secp256r1" },
      { groups: "ffdhe2048:X25519", info: "x25519" },
      { groups: "X448:P-384", info: "secp384r1" },
    ];
    let n = 0;
    for (const c of cases) {
      const r = await sClient(server.port, ["-groups", c.groups], {
        input: "after HRR\n",
        until: /^after HRR$/m,
      });
      assert.equal(handshakeLine(r.stdout)?.kind, "New", r.stdout + r.stderr);
      assert.match(r.stdout, /^hello new\nafter HRR$/m);
      const conn = await served(server, ++n);
      assert.equal(conn.error, null);
      assert.equal(conn.info!.helloRetryRequest, true);
      assert.equal(conn.info!.group, c.info);
    }
  } finally {
    await server.stop();
  }
});

Deno.test({
  name: "TLS 1.3 HelloRetryRequest during resumption: dec_cb called twice; resumes; 1 NST",
  ignore: why !== null,
}, async () => {
  const { context, decSaw } = await recordingContext();
  const server = await p256Server(context);
  try {
    await withTempDir(async (dir) => {
      const sess = `${dir}/sess.pem`;
      const first = await sClient(server.port, ["-groups", "X25519", "-sess_out", sess]);
      assert.equal(handshakeLine(first.stdout)?.kind, "New");
      const full = await served(server, 1);
      assert.equal(full.info!.helloRetryRequest, false);
      assert.equal(full.info!.ticketsSent, 2);

      // The ticket is offered in both ClientHellos (RFC 8446 §4.1.2: the second repeats the
      // pre_shared_key with a new binder), and OpenSSL decrypts it each time.
      const again = await sClient(server.port, ["-groups", "X448:P-256", "-sess_in", sess]);
      assert.equal(handshakeLine(again.stdout)?.kind, "Reused", again.stdout + again.stderr);
      assert.match(again.stdout, /^hello resumed$/m);
      const conn = await served(server, 2);
      assert.equal(conn.error, null);
      const info = conn.info!;
      assert.equal(info.helloRetryRequest, true);
      assert.equal(info.resumed, true);
      assert.equal(info.pskIdentity, 0);
      assert.equal(info.group, "secp256r1");
      assert.equal(conn.conn.engine.decCbCalls.length, 2);
      assert.equal(conn.counters.decCb, 2);
      assert.deepEqual(
        info.decCbCalls.map((c) => [c.status, c.ret]),
        [
          [TicketStatus.SUCCESS_RENEW, DecryptTicketReturn.USE_RENEW],
          [TicketStatus.SUCCESS_RENEW, DecryptTicketReturn.USE_RENEW],
        ],
      );
      assert.deepEqual(decSaw, ["user=42", "user=42"]);
      // A resumption renews with one ticket (OpenSSL: s->hit sends one).
      assert.equal(info.ticketsSent, 1);
      assert.equal(conn.counters.genCb, 1);
    });
  } finally {
    await server.stop();
  }
});

Deno.test({
  name: "RFC 8446 §2.2 resumption: -sess_out then -sess_in Reused; dec_cb sees gen_cb's app data",
  ignore: why !== null,
}, async () => {
  const { context, decSaw } = await recordingContext();
  const server = await p256Server(context);
  try {
    await withTempDir(async (dir) => {
      const sess = `${dir}/sess.pem`;
      const first = await sClient(server.port, ["-sess_out", sess]);
      assert.equal(handshakeLine(first.stdout)?.kind, "New");
      assert.match(first.stdout, /^hello new$/m);
      const full = await served(server, 1);
      assert.equal(full.info!.resumed, false);
      assert.equal(full.info!.pskIdentity, -1);
      assert.equal(full.counters.genCb, 2); // num_tickets = 2, one gen_cb per ticket
      assert.equal(full.info!.ticketsSent, 2);
      assert.equal(text(full.info!.session!.getTicketAppData()), "user=42");
      // s_client wrote the last ticket it received, as a TLS 1.3 client session.
      const saved = sessionFromPem(await Deno.readTextFile(sess));
      assert.equal(saved.sslVersion, 0x0304);
      assert.ok(saved.ticket !== null && saved.ticket.length > 0);

      const again = await sClient(server.port, ["-sess_in", sess]);
      assert.equal(handshakeLine(again.stdout)?.kind, "Reused", again.stdout + again.stderr);
      assert.match(again.stdout, /^hello resumed$/m);
      const resumed = await served(server, 2);
      assert.equal(resumed.info!.resumed, true);
      assert.equal(resumed.info!.pskIdentity, 0);
      assert.equal(resumed.info!.signatureScheme, null); // no CertificateVerify in a PSK handshake
      assert.deepEqual(decSaw, ["user=42"]);
      assert.equal(text(resumed.info!.session!.getTicketAppData()), "user=42");
    });
  } finally {
    await server.stop();
  }
});

Deno.test({
  name: "OpenSSL SSL_CTX_set_tlsext_ticket_keys: a restarted server with the same 80 bytes resumes",
  ignore: why !== null,
}, async () => {
  const keys = crypto.getRandomValues(new Uint8Array(80));
  await withTempDir(async (dir) => {
    const sess = `${dir}/sess.pem`;
    const before = await p256Server(await SslContext.create({ ticketKeys: keys.slice() }));
    try {
      const r = await sClient(before.port, ["-sess_out", sess]);
      assert.equal(handshakeLine(r.stdout)?.kind, "New");
      await served(before, 1);
    } finally {
      await before.stop();
    }

    // A new listener (a restart) with the same key bytes opens the ticket.
    const same = await recordingContext({ ticketKeys: keys.slice() });
    const after = await p256Server(same.context);
    try {
      const r = await sClient(after.port, ["-sess_in", sess]);
      assert.equal(handshakeLine(r.stdout)?.kind, "Reused", r.stdout + r.stderr);
      const conn = await served(after, 1);
      assert.equal(conn.info!.resumed, true);
      assert.deepEqual(conn.info!.decCbCalls.map((c) => c.status), [TicketStatus.SUCCESS_RENEW]);
    } finally {
      await after.stop();
    }

    // Different keys: the key name is unknown, dec_cb sees NO_DECRYPT, full handshake.
    const otherKeys = crypto.getRandomValues(new Uint8Array(80));
    const other = await recordingContext({ ticketKeys: otherKeys });
    const elsewhere = await p256Server(other.context);
    try {
      const r = await sClient(elsewhere.port, ["-sess_in", sess]);
      assert.equal(handshakeLine(r.stdout)?.kind, "New", r.stdout + r.stderr);
      assert.match(r.stdout, /^hello new$/m);
      const conn = await served(elsewhere, 1);
      assert.equal(conn.info!.resumed, false);
      assert.deepEqual(conn.info!.decCbCalls.map((c) => c.status), [TicketStatus.NO_DECRYPT]);
      assert.deepEqual(other.decSaw, [null]);
      assert.equal(conn.info!.ticketsSent, 2);
    } finally {
      await elsewhere.stop();
    }
  });
});

/** KeyUpdate messages in `s_client -msg` output: direction and request_update byte. */
function keyUpdates(stdout: string): string[] {
  const re = /^(<<<|>>>) TLS 1\.3, Handshake \[length 0005\], KeyUpdate\n\s+18 00 00 01 (0[01])/gm;
  return [...stdout.matchAll(re)].map((m) => `${m[1] === ">>>" ? "client" : "server"}:${m[2]}`);
}

Deno.test({
  name: "RFC 8446 §4.6.3 KeyUpdate: s_client K and k, and the server's keyUpdate(true)",
  ignore: why !== null,
}, async () => {
  let received = "";
  const server = await p256Server(await SslContext.create(), {
    async app(conn) {
      const writer = conn.writable.getWriter();
      await writer.write(utf8("hello new\n"));
      const reader = conn.readable.getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const chunk = new TextDecoder().decode(value);
        received += chunk;
        // SSL_key_update(s, SSL_KEY_UPDATE_REQUESTED) on the server's side.
        if (chunk === "server update\n") await conn.keyUpdate(true);
        await writer.write(value);
      }
    },
  });
  try {
    // Not -quiet/-ign_eof: only then does s_client read K and k as commands.
    const c = startSClient(server.port, ["-msg"]);
    let result;
    try {
      assert.ok(await c.waitFor(/^hello new$/m), c.stdout() + c.stderr());
      await c.send("one\n");
      assert.ok(await c.waitFor(/^one$/m));
      // K: KeyUpdate with update_requested; the server answers with its own (not requested).
      await c.send("K\n");
      assert.ok(await c.waitFor(/^<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate$/m));
      await c.send("two\n");
      assert.ok(await c.waitFor(/^two$/m));
      assert.deepEqual(keyUpdates(c.stdout()), ["client:01", "server:00"]);
      // k: KeyUpdate without a request; no answer, data still flows both ways.
      // (One line per read: s_client takes a whole read starting with "k" as the command.)
      await c.send("k\n");
      assert.ok(await c.waitFor(/^>>> TLS 1\.3, Handshake \[length 0005\], KeyUpdate$/m, 2));
      await c.send("three\n");
      assert.ok(await c.waitFor(/^three$/m));
      assert.deepEqual(keyUpdates(c.stdout()), ["client:01", "server:00", "client:00"]);
      // The server updates and requests: s_client updates its keys before its next write.
      await c.send("server update\n");
      assert.ok(await c.waitFor(/^server update$/m));
      await c.send("four\n");
      assert.ok(await c.waitFor(/^four$/m), c.stdout() + c.stderr());
      assert.deepEqual(
        keyUpdates(c.stdout()),
        ["client:01", "server:00", "client:00", "server:01", "client:00"],
      );
      assert.equal(countMatches(c.stderr(), /^KEYUPDATE$/m), 2);
    } finally {
      result = await c.finish();
    }
    assert.equal(result.code, 0, result.stderr);
    const conn = await served(server, 1);
    assert.equal(conn.error, null);
    // K and k were commands, not data; everything else arrived, under four client keys.
    assert.equal(received, "one\ntwo\nthree\nserver update\nfour\n");
  } finally {
    await server.stop();
  }
});

Deno.test({
  name: "RFC 8446 §4.2.11 a wrong PSK binder: decrypt_error (51), no fallback to a full handshake",
  ignore: why !== null,
}, async () => {
  const { context, decSaw } = await recordingContext();
  const server = await p256Server(context);
  try {
    await withTempDir(async (dir) => {
      const sess = `${dir}/sess.pem`;
      const bad = `${dir}/bad.pem`;
      await sClient(server.port, ["-sess_out", sess]);
      await served(server, 1);
      // The ticket still opens, but the client's PSK (the session's master key) is now wrong,
      // so the binder it computes does not verify.
      const session = sessionFromPem(await Deno.readTextFile(sess));
      session.masterKey = session.masterKey.slice();
      session.masterKey[0] ^= 0x01;
      await Deno.writeTextFile(bad, sessionToPem(session));

      const r = await sClient(server.port, ["-sess_in", bad]);
      assert.match(r.stderr, /alert decrypt error.*SSL alert number 51/, r.stderr);
      assert.doesNotMatch(r.stdout, /^Reused/m);
      assert.doesNotMatch(r.stdout, /^hello/m);
      assert.notEqual(r.code, 0);
      const conn = await served(server, 2);
      assertAlert(conn, 51);
      assert.equal(conn.counters.decCb, 1); // the ticket was opened ...
      assert.deepEqual(decSaw, ["user=42"]);
      assert.equal(conn.counters.genCb, 0); // ... and nothing else happened: no new session
    });
  } finally {
    await server.stop();
  }
});

Deno.test({
  name:
    "RFC 8446 §4.2.1 a TLS 1.1-only client (-tls1_1): protocol_version (70); next client served",
  ignore: why !== null,
}, async () => {
  const server = await p256Server(await SslContext.create());
  try {
    // OpenSSL's security level 1 would refuse TLS 1.1 before sending anything.
    const r = await sClient(server.port, ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]);
    assert.match(r.stderr, /alert protocol version.*SSL alert number 70/, r.stderr);
    assert.notEqual(r.code, 0);
    assertAlert(await served(server, 1), 70);

    const next = await sClient(server.port, []);
    assert.equal(handshakeLine(next.stdout)?.protocol, "TLSv1.3");
    assert.match(next.stdout, /^hello new$/m);
    assert.equal((await served(server, 2)).error, null);
  } finally {
    await server.stop();
  }
});

Deno.test({
  name:
    "RFC 8446 §4.4.3 certificates: P-256, P-384, Ed25519, RSA-PSS, SEC1, chain verify in s_client",
  ignore: why !== null,
}, async () => {
  const cases: {
    kind: TestKeyKind;
    form?: "sec1" | "pkcs1";
    chain?: boolean;
    scheme: string;
    peer: RegExp;
  }[] = [
    { kind: "P-256", scheme: "ecdsa_secp256r1_sha256", peer: /^Peer signature type: ECDSA$/m },
    { kind: "P-384", scheme: "ecdsa_secp384r1_sha384", peer: /^Peer signing digest: SHA384$/m },
    { kind: "Ed25519", scheme: "ed25519", peer: /^Peer signature type: ed25519$/m },
    { kind: "RSA", scheme: "rsa_pss_rsae_sha256", peer: /^Peer signature type: RSA-PSS$/m },
    { kind: "P-256", form: "sec1", scheme: "ecdsa_secp256r1_sha256", peer: /ECDSA/ },
    { kind: "RSA", form: "pkcs1", scheme: "rsa_pss_rsae_sha256", peer: /RSA-PSS/ },
    { kind: "P-256", chain: true, scheme: "ecdsa_secp256r1_sha256", peer: /ECDSA/ },
  ];
  for (const c of cases) {
    const label = `${c.kind}${c.form ? ` ${c.form}` : ""}${c.chain ? " chain" : ""}`;
    let certPem: string, keyPem: string, caFile: string;
    if (c.chain) {
      const chain = await testChain(c.kind);
      ({ certPem, keyPem, caFile } = chain);
    } else {
      const creds = await testCredentials(c.kind, c.form);
      ({ certPem, keyPem } = creds);
      caFile = creds.certFile; // self-signed: the certificate is its own trust anchor
    }
    const server = await startTlsServer({
      cert: certPem,
      key: keyPem,
      context: await SslContext.create(),
    });
    try {
      const r = await sClient(server.port, [
        "-verify_return_error",
        "-CAfile",
        caFile,
        "-verify_hostname",
        "localhost",
      ]);
      assert.match(r.stdout, /^Verification: OK$/m, `${label}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /Verify return code: 0 \(ok\)/, label);
      assert.match(r.stdout, c.peer, label);
      assert.match(r.stdout, /^hello new$/m, label);
      const conn = await served(server, 1);
      assert.equal(conn.info?.signatureScheme, c.scheme, label);
      if (c.chain) assert.match(r.stdout, /^ 1 s:CN = Test CA$/m, label); // both sent
    } finally {
      await server.stop();
    }
  }
});

Deno.test({
  name: "RFC 7301 §3.2 ALPN: -alpn h2,http/1.1 selects http/1.1; no overlap is alert 120",
  ignore: why !== null,
}, async () => {
  const server = await p256Server(await SslContext.create(), { alpnProtocols: ["http/1.1"] });
  try {
    const ok = await sClient(server.port, ["-alpn", "h2,http/1.1"]);
    assert.match(ok.stdout, /^ALPN protocol: http\/1\.1$/m, ok.stdout);
    assert.equal((await served(server, 1)).info!.alpnProtocol, "http/1.1");

    const none = await sClient(server.port, ["-alpn", "h2,spdy/3"]);
    assert.match(none.stderr, /alert no application protocol.*SSL alert number 120/, none.stderr);
    assertAlert(await served(server, 2), 120);

    // A client that offers no ALPN still connects (the server then selects nothing).
    const plain = await sClient(server.port, []);
    assert.match(plain.stdout, /^No ALPN negotiated$/m);
    assert.equal((await served(server, 3)).info!.alpnProtocol, null);
  } finally {
    await server.stop();
  }
});

Deno.test({
  name: "RFC 6066 §3 SNI: -servername example.test is HandshakeInfo.serverName",
  ignore: why !== null,
}, async () => {
  const server = await p256Server(await SslContext.create());
  try {
    const r = await sClient(server.port, ["-servername", "Example.TEST"]);
    assert.match(r.stdout, /^hello new$/m);
    assert.equal((await served(server, 1)).info!.serverName, "example.test");
    // -noservername: no server_name extension at all.
    await sClient(server.port, ["-noservername"]);
    assert.equal((await served(server, 2)).info!.serverName, null);
  } finally {
    await server.stop();
  }
});
