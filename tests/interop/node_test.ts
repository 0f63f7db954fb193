/**
 * Interop with Node's TLS (OpenSSL inside) and its 48-byte `ticketKeys` (name|hmac16|aes16, our
 * `node-48` layout; AES-128-CBC + HMAC-SHA256 through Node's `TicketCompatibilityCallback` in
 * `src/crypto/crypto_context.cc`). A `tls.createServer` and `tls.connect` clients run in one
 * `node` subprocess per test.
 *
 * - Tickets Node's server issued (the client's `'session'` DER, decoded by our `decodeSession`)
 *   open here with `TicketKey.import(keys, "node-48")`: SUCCESS and the same master key.
 * - A client session we create (`encodeSession` of a client-side session whose `ticket` we
 *   sealed) resumes against the Node server: `isSessionReused()` is true on both sides.
 * - Negative controls: a flipped byte, a wrong key and an expired session give full handshakes
 *   (`ssl/t1_lib.c:tls_decrypt_ticket`, `ssl/ssl_sess.c:ssl_get_prev_session`).
 *
 * Ignored, with the reason printed, when node or the openssl tool (certificates) is missing.
 */
import assert from "node:assert/strict";
import { cipherName, decodeSession, encodeSession } from "../../src/session/codec.ts";
import { TicketKey } from "../../src/ticket/ticket_key.ts";
import { TicketStatus } from "../../src/ticket/status.ts";
import { makeCertDir } from "./_openssl.ts";
import {
  clientSessionFor,
  flipByte,
  missing,
  nowSeconds,
  randomBytes,
  runNodePeer,
  serverSession,
  utf8,
} from "./_peers.ts";

const why = await missing(["node", "openssl"]);
if (why !== null) console.warn(`node_test: skipping (CI installs these): ${why}`);

type Version = "1.2" | "1.3";
const SID_CTX = "session-tickets-interop";

for (const version of ["1.2", "1.3"] as Version[]) {
  const tls13 = version === "1.3";

  Deno.test({
    name: `Node TLS ${version} with 48-byte ticketKeys: both directions`,
    ignore: why !== null,
  }, async (t) => {
    const certs = await makeCertDir("openssl", "rsa");
    try {
      const keys = randomBytes(48);
      const key = await TicketKey.import(keys, "node-48");
      const base = {
        version,
        certPath: certs.certPath,
        keyPath: certs.keyPath,
        ticketKeys: keys,
        sessionIdContext: SID_CTX,
      };

      await t.step(
        "tickets Node issued open here with node-48: SUCCESS, same master key",
        async () => {
          const { results, server } = await runNodePeer({ ...base, clients: [null] });
          const [r] = results;
          assert.equal(r.error, null);
          assert.equal(r.reused, false);
          assert.equal(r.protocol, tls13 ? "TLSv1.3" : "TLSv1.2");
          // Node's client order: TLS_AES_256_GCM_SHA384 first in 1.3, ECDHE-RSA-AES128-GCM-SHA256 in 1.2.
          assert.equal(r.cipher, tls13 ? "TLS_AES_256_GCM_SHA384" : "ECDHE-RSA-AES128-GCM-SHA256");
          assert.equal(r.data, "HTTP/1.0 200 OK\r\n\r\nreused=0\n");
          assert.deepEqual(server, [{ reused: false }]);
          // One ticket in TLS 1.2, num_tickets = 2 in TLS 1.3.
          assert.equal(r.sessions.length, tls13 ? 2 : 1);
          for (const der of r.sessions) {
            const client = decodeSession(der);
            assert.ok(client.ticket !== null && client.ticket.length > 0);
            const opened = await key.open(client.ticket!);
            assert.equal(opened.status, TicketStatus.SUCCESS);
            assert.equal(opened.keyName.toHex(), keys.subarray(0, 16).toHex());
            const s = opened.session!;
            assert.equal(s.masterKey.toHex(), client.masterKey.toHex());
            assert.equal(s.masterKey.length, 48);
            assert.equal(s.sslVersion, tls13 ? 0x0304 : 0x0303);
            assert.equal(s.cipherId, tls13 ? 0x1302 : 0xc02f);
            assert.equal(cipherName(s.cipherId), r.cipher);
            assert.equal(s.cipherId, client.cipherId);
            assert.deepEqual(s.sessionIdContext, utf8(SID_CTX));
            assert.equal(s.timeout, 3600); // the server's sessionTimeout option
            assert.equal(s.getTicketAppData(), null); // Node sets no ticket app data
            assert.equal(s.ticketAgeAdd, client.ticketAgeAdd);
            // The layout trap: the same 48 bytes read as nginx's name|aes|hmac open nothing.
            const swapped = await (await TicketKey.import(keys, "nginx-48")).open(client.ticket!);
            assert.equal(swapped.status, TicketStatus.NO_DECRYPT);
            assert.equal(swapped.failure, "badMac");
            const flipped = await key.open(flipByte(client.ticket!, 40));
            assert.equal(flipped.status, TicketStatus.NO_DECRYPT);
          }
        },
      );

      await t.step(
        "a session with a ticket sealed here resumes in Node; controls do not",
        async () => {
          const sessionIdContext = utf8(SID_CTX);
          const wrongKeys = keys.slice();
          wrongKeys.set(randomBytes(32), 16);
          const wrongKey = await TicketKey.import(wrongKeys, "node-48");
          const good = serverSession({ version, sessionIdContext, appData: "sealed for node" });
          const expired = serverSession({
            version,
            sessionIdContext,
            time: nowSeconds() - 30 * 86400,
          });
          const otherCtx = serverSession({ version, sessionIdContext: utf8("another context") });
          const other = serverSession({ version, sessionIdContext });
          const clientDer = async (s: typeof good, ticket: Uint8Array) =>
            encodeSession(await clientSessionFor(s, ticket));
          const goodTicket = await key.seal(good);
          const { results, server } = await runNodePeer({
            ...base,
            clients: [
              await clientDer(good, goodTicket),
              await clientDer(good, flipByte(goodTicket, 40)),
              await clientDer(other, await wrongKey.seal(other)),
              await clientDer(expired, await key.seal(expired)),
              await clientDer(otherCtx, await key.seal(otherCtx)),
            ],
          });
          for (const r of results) assert.equal(r.error, null);
          assert.deepEqual(results.map((r) => r.reused), [true, false, false, false, false]);
          assert.deepEqual(
            server,
            [true, false, false, false, false].map((reused) => ({ reused })),
          );
          assert.deepEqual(
            results.map((r) => r.data),
            ["1", "0", "0", "0", "0"].map((n) => `HTTP/1.0 200 OK\r\n\r\nreused=${n}\n`),
          );
          // A resumption issues no new ticket (Node's key callback returns 1, never 2: no renewal);
          // each full handshake issues fresh ones, which open here.
          assert.deepEqual(
            results.map((r) => r.sessions.length),
            [0, ...Array(4).fill(tls13 ? 2 : 1)],
          );
          for (const r of results.slice(1)) {
            const fresh = await key.open(decodeSession(r.sessions[0]).ticket!);
            assert.equal(fresh.status, TicketStatus.SUCCESS);
          }
        },
      );
    } finally {
      await certs.remove();
    }
  });
}
