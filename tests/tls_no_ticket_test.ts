/**
 * Issue 13, "no ticket is not a failed handshake", on the wire: `openssl s_client` (OpenSSL 3.x)
 * against this module's TLS 1.3 server (`listenTls` through `tests/_tls_server.ts`) whose
 * `SslContext` seals with a new `FleetRing` that does not seal yet. OpenSSL's server sends no
 * TLS 1.3 NewSessionTicket when its ticket key callback returns 0
 * (`construct_stateless_ticket`), and the handshake completes; so does this server when its
 * sealer has no key that can seal (`NoSealingKeyError`). Before issue 13 every such handshake
 * ended in alert 80.
 *
 * Ignored, with the reason printed, when openssl is missing (a failure under `CI=true`).
 *
 * @module
 */
import assert from "node:assert/strict";
import { SslContext } from "../mod.ts";
import { FleetRing, MemoryKeyStore } from "../fleet.ts";
import { startTlsServer } from "./_tls_server.ts";
import { testCredentials } from "./_tls_certs.ts";
import { missing } from "./interop/_peers.ts";
import { countMatches, handshakeLine, sClient } from "./interop/_tls_clients.ts";

const why = await missing(["openssl"]);
if (why !== null) console.warn(`tls_no_ticket_test: skipping (CI installs openssl): ${why}`);

Deno.test({
  name:
    "issue 13: a new fleet not sealing yet: s_client's TLS 1.3 handshake completes (New, TLSv1.3) with no NewSessionTicket and no alert; ticketsSent 0, the reason counted",
  ignore: why !== null,
}, async () => {
  // The defaults: the first key seals propagationDelay + maxClockSkew = 70 s after founding.
  // The ring's clock is a fake one that starts at the real time, so the control below can jump
  // to when the key seals.
  const c = { t: Date.now() };
  const ring = await FleetRing.start({
    store: new MemoryKeyStore(),
    kek: crypto.getRandomValues(new Uint8Array(32)),
    background: false,
    now: () => c.t,
  });
  const AES128 = ["-ciphersuites", "TLS_AES_128_GCM_SHA256"];
  const context = await SslContext.create({ ticketKeys: ring });
  const { certPem, keyPem } = await testCredentials("P-256");
  const server = await startTlsServer({ cert: certPem, key: keyPem, context });
  try {
    assert.equal(ring.status().notSealing?.reason, "not-yet");
    const r = await sClient(server.port, AES128);
    assert.deepEqual(handshakeLine(r.stdout), {
      kind: "New",
      protocol: "TLSv1.3",
      cipher: "TLS_AES_128_GCM_SHA256",
    });
    assert.match(r.stdout, /^hello new$/m, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /Post-Handshake New Session Ticket/);
    assert.doesNotMatch(r.stdout + r.stderr, /alert/i);
    const [conn] = await server.waitFor(1);
    assert.equal(conn.error, null);
    assert.equal(conn.info!.resumed, false);
    assert.equal(conn.info!.ticketsSent, 0);
    assert.deepEqual(
      conn.conn.engine.ticketsNotSealed.map((x) => x.reason),
      ["not-yet", "not-yet"], // both of the handshake's tickets (numTickets 2)
    );
    assert.equal(context.metrics.ticketsNotSealedByReason["not-yet"], 2);
    assert.equal(ring.metrics().sealsRefused["not-yet"], 2);
    // Control: once the first key seals, the same server sends s_client its two tickets.
    c.t += 70_000;
    assert.equal(ring.status().notSealing, null);
    const after = await sClient(server.port, AES128);
    assert.equal(handshakeLine(after.stdout)?.kind, "New");
    assert.equal(countMatches(after.stdout, /Post-Handshake New Session Ticket arrived/), 2);
    const [, second] = await server.waitFor(2);
    assert.equal(second.error, null);
    assert.equal(second.info!.ticketsSent, 2);
    assert.deepEqual(second.conn.engine.ticketsNotSealed, []);
  } finally {
    await server.stop();
    await ring.stop();
  }
});
