/**
 * `openssl s_client -sess_in` with a client-side session made by our API (`sessionToPem` of a
 * session carrying a ticket sealed here) resumes against real servers holding the same keys, and
 * prints `Reused` (`apps/s_client.c:print_stuff`). `openssl s_server` has no option to set ticket
 * keys, so the servers are the libssl C peer (`libssl_peer.c listen`: 80-byte
 * `SSL_CTX_set_tlsext_ticket_keys` and the man page's callbacks) and a Node `tls` server with a
 * 48-byte `ticketKeys` (`node-48`: name|hmac16|aes16, Node's `TicketCompatibilityCallback`).
 *
 * Negative controls (`ssl/t1_lib.c:tls_decrypt_ticket`, `ssl/ssl_sess.c:ssl_get_prev_session`):
 * a flipped byte, a wrong key and an expired session all print `New`.
 *
 * Ignored, with the reason printed, when openssl, gcc/libssl-dev or node is missing.
 */
import assert from "node:assert/strict";
import { encodeSession, sessionToPem } from "../../src/session/codec.ts";
import { main as cliMain } from "../../cli.ts";
import type { SslSession } from "../../src/session/ssl_session.ts";
import { TicketKey } from "../../src/ticket/ticket_key.ts";
import { TicketStatus } from "../../src/ticket/status.ts";
import { type CertDir, makeCertDir, runClient } from "./_openssl.ts";
import {
  clientSessionFor,
  compileLibsslPeer,
  flipByte,
  missing,
  nowSeconds,
  parseEvents,
  parseSClient,
  type PeerProcess,
  randomBytes,
  serverSession,
  startLibsslServer,
  startNodeServer,
  utf8,
} from "./_peers.ts";

const whyLibssl = await missing(["openssl", "libssl"]);
const whyNode = await missing(["openssl", "node"]);
if (whyLibssl !== null) console.warn(`s_client_test: skipping libssl server: ${whyLibssl}`);
if (whyNode !== null) console.warn(`s_client_test: skipping Node server: ${whyNode}`);

type Version = "1.2" | "1.3";
const SID_CTX = "session-tickets-interop";

/** Runs `s_client -sess_in <our PEM>` and parses what it printed. */
async function resumeWith(
  certs: CertDir,
  port: number,
  version: Version,
  session: SslSession,
  ticket: Uint8Array,
) {
  const path = `${certs.dir}/client_session.pem`;
  await Deno.writeTextFile(path, sessionToPem(await clientSessionFor(session, ticket)));
  const r = await runClient("openssl", port, [
    version === "1.3" ? "-tls1_3" : "-tls1_2",
    "-sess_in",
    path,
  ]);
  const parsed = parseSClient(r.stdout);
  assert.equal(parsed.protocol, version === "1.3" ? "TLSv1.3" : "TLSv1.2", r.stdout + r.stderr);
  return parsed;
}

/** Waits until `server` has printed `count` `conn` lines, then returns its events. */
async function serverEvents(server: PeerProcess, count: number) {
  const deadline = Date.now() + 3000;
  for (;;) {
    const events = parseEvents(server.stdout());
    if (events.filter((e) => e.kind === "conn").length >= count || Date.now() > deadline) {
      return events;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const version of ["1.2", "1.3"] as Version[]) {
  const tls13 = version === "1.3";

  Deno.test({
    name: `s_client -sess_in TLS ${version} against the libssl peer (80-byte keys): Reused`,
    ignore: whyLibssl !== null,
  }, async (t) => {
    const peer = await compileLibsslPeer();
    const certs = await makeCertDir("openssl", "rsa");
    let server: (PeerProcess & { port: number }) | null = null;
    try {
      const keys = randomBytes(80);
      const key = await TicketKey.import(keys, "openssl-80");
      const wrongKeys = keys.slice();
      wrongKeys.set(randomBytes(64), 16);
      const wrongKey = await TicketKey.import(wrongKeys, "openssl-80");
      server = await startLibsslServer(
        peer.bin,
        certs.certPath,
        certs.keyPath,
        keys,
        version,
        "from gen_cb",
      );
      const srv = server;
      let conns = 0;
      /** The `dec` and `conn` events of the next connection. */
      const lastConnection = async () => {
        conns++;
        const events = await serverEvents(srv, conns);
        const connIndex = events.map((e) => e.kind).lastIndexOf("conn");
        const prevConn = events.slice(0, connIndex).map((e) => e.kind).lastIndexOf("conn");
        const slice = events.slice(prevConn + 1, connIndex + 1);
        return {
          decs: slice.filter((e) => e.kind === "dec").map((e) => e.fields),
          conn: slice[slice.length - 1].fields,
        };
      };

      await t.step("our session resumes: Reused, dec_cb saw our app data", async () => {
        const session = serverSession({ version, appData: "made by our API" });
        const out = await resumeWith(certs, srv.port, version, session, await key.seal(session));
        assert.equal(out.handshake, "Reused");
        assert.equal(out.body, "1");
        const { decs, conn } = await lastConnection();
        assert.equal(decs.length, 1);
        assert.equal(
          decs[0].status,
          String(tls13 ? TicketStatus.SUCCESS_RENEW : TicketStatus.SUCCESS),
        );
        assert.equal(decs[0].appdata, utf8("made by our API").toHex());
        assert.equal(decs[0].master_key, session.masterKey.toHex());
        assert.equal(conn.reused, "1");
        // TLS 1.2 resumes the ticket's session as is. TLS 1.3 renews (USE_RENEW): the server's
        // session is then the per-ticket copy, whose app data gen_cb replaced before sealing
        // (ssl/statem/statem_srvr.c:tls_construct_new_session_ticket).
        assert.equal(conn.appdata, utf8(tls13 ? "from gen_cb" : "made by our API").toHex());
      });

      await t.step(
        "the CLI pipeline (keys file, seal, client-session) resumes: Reused",
        async () => {
          // What an operator runs: cli.ts seal under the server's 80-byte key file, then
          // cli.ts client-session, then openssl s_client -sess_in.
          const dir = certs.dir;
          await Deno.writeFile(`${dir}/keys.bin`, keys);
          await Deno.writeFile(
            `${dir}/server.der`,
            encodeSession(serverSession({ version, appData: "via the CLI" })),
          );
          const quiet = { stdout: () => {}, stderr: (e: string) => console.error(e) };
          const seal = ["seal", "--key", `${dir}/keys.bin`, "--layout", "openssl-80"];
          assert.equal(
            await cliMain([...seal, "--out", `${dir}/t.bin`, `${dir}/server.der`], quiet),
            0,
          );
          const cs = [
            "client-session",
            "--ticket",
            `${dir}/t.bin`,
            "--session",
            `${dir}/server.der`,
          ];
          assert.equal(await cliMain([...cs, "--out", `${dir}/client.pem`], quiet), 0);
          const r = await runClient("openssl", srv.port, [
            tls13 ? "-tls1_3" : "-tls1_2",
            "-sess_in",
            `${dir}/client.pem`,
          ]);
          const out = parseSClient(r.stdout);
          assert.equal(out.handshake, "Reused", r.stdout + r.stderr);
          const { decs } = await lastConnection();
          assert.equal(decs[0].appdata, utf8("via the CLI").toHex());
        },
      );

      const controls: [string, () => Promise<[SslSession, Uint8Array]>, number][] = [
        ["a flipped byte", async () => {
          const s = serverSession({ version, appData: "x" });
          return [s, flipByte(await key.seal(s), -1)];
        }, TicketStatus.NO_DECRYPT],
        ["a wrong key", async () => {
          const s = serverSession({ version, appData: "x" });
          return [s, await wrongKey.seal(s)];
        }, TicketStatus.NO_DECRYPT],
        ["an expired session", async () => {
          const s = serverSession({ version, appData: "x", time: nowSeconds() - 30 * 86400 });
          return [s, await key.seal(s)];
        }, tls13 ? TicketStatus.SUCCESS_RENEW : TicketStatus.SUCCESS],
      ];
      for (const [what, make, status] of controls) {
        await t.step(`negative: ${what} prints New (dec_cb status ${status})`, async () => {
          const [session, ticket] = await make();
          const out = await resumeWith(certs, srv.port, version, session, ticket);
          assert.equal(out.handshake, "New");
          assert.equal(out.body, "0");
          const { decs, conn } = await lastConnection();
          assert.deepEqual(decs.map((d) => d.status), [String(status)]);
          assert.equal(conn.reused, "0");
          assert.equal(conn.appdata, utf8("from gen_cb").toHex());
        });
      }
    } finally {
      await server?.stop();
      await certs.remove();
      await peer.remove();
    }
  });

  Deno.test({
    name: `s_client -sess_in TLS ${version} against Node (48-byte ticketKeys, node-48): Reused`,
    ignore: whyNode !== null,
  }, async (t) => {
    const certs = await makeCertDir("openssl", "rsa");
    let server: (PeerProcess & { port: number }) | null = null;
    try {
      const keys = randomBytes(48);
      const key = await TicketKey.import(keys, "node-48");
      const wrongKeys = keys.slice();
      wrongKeys.set(randomBytes(32), 16);
      const wrongKey = await TicketKey.import(wrongKeys, "node-48");
      server = await startNodeServer({
        version,
        certPath: certs.certPath,
        keyPath: certs.keyPath,
        ticketKeys: keys,
        sessionIdContext: SID_CTX,
      });
      const srv = server;
      const sessionIdContext = utf8(SID_CTX);

      await t.step("our session resumes: Reused", async () => {
        const session = serverSession({ version, sessionIdContext, appData: "for node" });
        const out = await resumeWith(certs, srv.port, version, session, await key.seal(session));
        assert.equal(out.handshake, "Reused");
        assert.equal(out.body, "1");
      });

      const controls: [string, () => Promise<[SslSession, Uint8Array]>][] = [
        ["a flipped byte", async () => {
          const s = serverSession({ version, sessionIdContext });
          return [s, flipByte(await key.seal(s), 40)];
        }],
        ["a wrong key", async () => {
          const s = serverSession({ version, sessionIdContext });
          return [s, await wrongKey.seal(s)];
        }],
        ["an expired session", async () => {
          const s = serverSession({ version, sessionIdContext, time: nowSeconds() - 30 * 86400 });
          return [s, await key.seal(s)];
        }],
      ];
      for (const [what, make] of controls) {
        await t.step(`negative: ${what} prints New`, async () => {
          const [session, ticket] = await make();
          const out = await resumeWith(certs, srv.port, version, session, ticket);
          assert.equal(out.handshake, "New");
          assert.equal(out.body, "0");
        });
      }
      const lines = (await serverEvents(srv, 4)).filter((e) => e.kind === "conn");
      assert.deepEqual(lines.map((e) => e.fields.reused), ["1", "0", "0", "0"]);
    } finally {
      await server?.stop();
      await certs.remove();
    }
  });
}
