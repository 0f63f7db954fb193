/**
 * `openssl s_client -tls1_2` (OpenSSL 3.x) against this module's server (`listenTls` through
 * `tests/_tls_server.ts`): every TLS 1.2 suite with ECDSA (P-256, P-384, Ed25519) and RSA
 * certificates, the ServerKeyExchange signature schemes, the ECDHE groups, ticket resumption
 * (RFC 5077) with `gen_cb`'s app data seen by `dec_cb`, session-id resumption with `-no_ticket`,
 * extended master secret, and refused renegotiation. Each test compares what s_client printed
 * with the server's `HandshakeInfo` and engine counters.
 *
 * Ignored, with the reason printed, when openssl is missing (a failure under `CI=true`).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  DecryptTicketReturn,
  sessionFromPem,
  SslContext,
  type SslContextOptions,
  TicketStatus,
} from "../../mod.ts";
import {
  defaultDecision,
  type ServedConnection,
  startTlsServer,
  type TestTlsServer,
} from "../_tls_server.ts";
import { testCredentials, type TestKeyKind } from "../_tls_certs.ts";
import { missing } from "./_peers.ts";
import { handshakeLine, sClient, startSClient } from "./_tls_clients.ts";

const why = await missing(["openssl"]);
if (why !== null) console.warn(`tls12_s_client_test: skipping (CI installs openssl): ${why}`);

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

async function server(kind: TestKeyKind, context: SslContext): Promise<TestTlsServer> {
  const { certPem, keyPem } = await testCredentials(kind);
  return await startTlsServer({ cert: certPem, key: keyPem, context });
}

async function served(s: TestTlsServer, n: number): Promise<ServedConnection> {
  const all = await s.waitFor(n);
  assert.ok(all.length >= n, `the server saw ${all.length} connections, expected ${n}`);
  return all[n - 1];
}

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "session_tickets_tls12_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "RFC 5289 §3.2 suites: s_client -tls1_2 with each ECDHE-ECDSA/RSA-AES128/256-GCM suite " +
    "and P-256, P-384, Ed25519 and RSA certificates; data both ways",
  ignore: why !== null,
}, async () => {
  const cases: { kind: TestKeyKind; suites: string[]; peer: RegExp }[] = [
    {
      kind: "P-256",
      suites: ["ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384"],
      peer: /Peer signature type: ECDSA/,
    },
    { kind: "P-384", suites: ["ECDHE-ECDSA-AES256-GCM-SHA384"], peer: /ECDSA/ },
    {
      kind: "Ed25519",
      suites: ["ECDHE-ECDSA-AES128-GCM-SHA256"],
      peer: /Peer signature type: ed25519/,
    },
    {
      kind: "RSA",
      suites: ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384"],
      peer: /Peer signature type: RSA-PSS/,
    },
  ];
  for (const c of cases) {
    const s = await server(c.kind, await SslContext.create());
    try {
      let n = 0;
      for (const suite of c.suites) {
        const r = await sClient(s.port, ["-tls1_2", "-cipher", suite], {
          input: "ping\n",
          until: /^ping$/m,
        });
        assert.deepEqual(handshakeLine(r.stdout), {
          kind: "New",
          protocol: "TLSv1.2",
          cipher: suite,
        });
        assert.match(r.stdout, /^hello new\nping$/m, r.stdout + r.stderr);
        assert.match(r.stdout, c.peer);
        const conn = await served(s, ++n);
        assert.equal(conn.error, null);
        assert.equal(conn.info!.version, "TLSv1.2");
        assert.equal(conn.info!.cipherSuite, suite);
        assert.equal(conn.info!.resumed, false);
      }
    } finally {
      await s.stop();
    }
  }
});

Deno.test({
  name: "RFC 5246 §7.4.1.4.1 signature_algorithms: an RSA key signs the ServerKeyExchange with " +
    "RSA-PSS or PKCS#1 v1.5 as the client allows; RFC 8422 §5.1.1 groups X25519, P-256, P-384",
  ignore: why !== null,
}, async () => {
  const s = await server("RSA", await SslContext.create());
  try {
    const cases = [
      { args: ["-sigalgs", "RSA+SHA256", "-groups", "P-256"], sig: /Peer signature type: RSA\n/ },
      { args: ["-sigalgs", "RSA+SHA384", "-groups", "P-384"], sig: /Peer signature type: RSA\n/ },
      { args: ["-sigalgs", "rsa_pss_rsae_sha384", "-groups", "X25519"], sig: /RSA-PSS/ },
    ];
    const expected = [
      ["rsa_pkcs1_sha256", "secp256r1"],
      ["rsa_pkcs1_sha384", "secp384r1"],
      ["rsa_pss_rsae_sha384", "x25519"],
    ];
    for (const [i, c] of cases.entries()) {
      const r = await sClient(s.port, ["-tls1_2", ...c.args]);
      assert.equal(handshakeLine(r.stdout)?.protocol, "TLSv1.2", r.stdout + r.stderr);
      assert.match(r.stdout, c.sig);
      const conn = await served(s, i + 1);
      assert.deepEqual([conn.info!.signatureScheme, conn.info!.group], expected[i]);
    }
    // No scheme this key can sign with: handshake_failure (40).
    const bad = await sClient(s.port, ["-tls1_2", "-sigalgs", "ECDSA+SHA256"]);
    assert.match(bad.stderr, /SSL alert number 40/, bad.stderr);
    assert.equal((await served(s, 4)).info, null);
  } finally {
    await s.stop();
  }
});

Deno.test({
  name: "RFC 5077 §3.1 ticket resumption: -sess_out then -sess_in Reused; one ticket, dec_cb " +
    "sees gen_cb's app data; RFC 7627 extended master secret on both",
  ignore: why !== null,
}, async () => {
  const { context, decSaw } = await recordingContext();
  const s = await server("P-256", context);
  try {
    await withTempDir(async (dir) => {
      const sess = `${dir}/sess.pem`;
      const first = await sClient(s.port, ["-tls1_2", "-sess_out", sess]);
      assert.equal(handshakeLine(first.stdout)?.kind, "New");
      assert.match(first.stdout, /Extended master secret: yes/);
      assert.match(first.stdout, /TLS session ticket lifetime hint: 7200/);
      const full = await served(s, 1);
      // RFC 5077 §3.2: s_client sent an empty session_ticket extension; dec_cb ran with EMPTY.
      assert.deepEqual(full.info!.decCbCalls.map((c) => [c.status, c.ret]), [
        [TicketStatus.EMPTY, DecryptTicketReturn.IGNORE_RENEW],
      ]);
      assert.equal(full.info!.ticketsSent, 1);
      assert.equal(full.counters.genCb, 1);
      assert.equal(text(full.info!.session!.getTicketAppData()), "user=42");
      const saved = sessionFromPem(await Deno.readTextFile(sess));
      assert.equal(saved.sslVersion, 0x0303);
      assert.ok(saved.ticket !== null && saved.ticket.length > 0);

      const again = await sClient(s.port, ["-tls1_2", "-sess_in", sess]);
      assert.equal(handshakeLine(again.stdout)?.kind, "Reused", again.stdout + again.stderr);
      assert.match(again.stdout, /^hello resumed$/m);
      assert.match(again.stdout, /Extended master secret: yes/);
      const resumed = await served(s, 2);
      assert.equal(resumed.info!.resumed, true);
      assert.equal(resumed.info!.ticketsSent, 0); // SUCCESS + USE: no new ticket
      assert.equal(resumed.info!.signatureScheme, null);
      assert.deepEqual(resumed.info!.decCbCalls.map((c) => [c.status, c.ret]), [
        [TicketStatus.SUCCESS, DecryptTicketReturn.USE],
      ]);
      assert.deepEqual(decSaw, [null, "user=42"]);
    });
  } finally {
    await s.stop();
  }
});

Deno.test({
  name: "RFC 5246 §7.4.1.2 session-id resumption: -no_ticket resumes from the session cache; " +
    "no dec_cb, no ticket",
  ignore: why !== null,
}, async () => {
  const { context, decSaw } = await recordingContext();
  const s = await server("RSA", context);
  try {
    await withTempDir(async (dir) => {
      const sess = `${dir}/sess.pem`;
      const first = await sClient(s.port, ["-tls1_2", "-no_ticket", "-sess_out", sess]);
      assert.equal(handshakeLine(first.stdout)?.kind, "New");
      const full = await served(s, 1);
      assert.equal(full.info!.ticketsSent, 0);
      assert.equal(full.info!.session!.sessionId.length, 32);
      assert.equal(context.sessionCache.size, 1);

      const again = await sClient(s.port, ["-tls1_2", "-no_ticket", "-sess_in", sess]);
      assert.equal(handshakeLine(again.stdout)?.kind, "Reused", again.stdout + again.stderr);
      const resumed = await served(s, 2);
      assert.equal(resumed.info!.resumed, true);
      assert.deepEqual(resumed.info!.session!.sessionId, full.info!.session!.sessionId);
      assert.equal(resumed.counters.decCb, 0);
      assert.deepEqual(decSaw, []);
    });
  } finally {
    await s.stop();
  }
});

Deno.test({
  name: "RFC 5746 §4.4 renegotiation refused: s_client's R gets a no_renegotiation warning " +
    "(s_client fails with 'no renegotiation'); the next client is served",
  ignore: why !== null,
}, async () => {
  const s = await server("P-256", await SslContext.create());
  try {
    const c = startSClient(s.port, ["-tls1_2"]);
    assert.ok(await c.waitFor(/^hello new$/m), c.stdout() + c.stderr());
    await c.send("R\n");
    assert.ok(await c.waitFor(/no renegotiation/), c.stdout() + c.stderr());
    await c.finish();
    const next = await sClient(s.port, ["-tls1_2"]);
    assert.equal(handshakeLine(next.stdout)?.protocol, "TLSv1.2");
    assert.equal((await served(s, 2)).error, null);
  } finally {
    await s.stop();
  }
});
