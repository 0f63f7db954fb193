/**
 * A mixed fleet in TLS 1.3 (`tls12_fleet_test.ts` is its TLS 1.2 counterpart): OpenSSL servers
 * and this module's TLS server holding the same 80-byte ticket keys share sessions, as an operator who puts a
 * Deno server beside existing OpenSSL or nginx servers expects.
 *
 * - libssl's own server (the tests' C peer in `listen` mode: `SSL_CTX_set_tlsext_ticket_keys`
 *   with the 80 bytes as `name | HMAC key | AES key`, `ssl/s3_lib.c:ssl3_ctx_ctrl`) and ours with
 *   the same bytes imported as `"openssl-80"`: a session `openssl s_client -sess_out` got from
 *   one resumes on the other (`Reused`), both ways.
 * - nginx (`ssl_session_ticket_key`, the 80 bytes as `name | AES key | HMAC key`) and ours with
 *   the same file imported as `"nginx-80"`: the same, both ways. OpenSSL resumes a session only
 *   in the session id context it was made in (`ssl/ssl_sess.c:ssl_get_prev_session`), and nginx
 *   sets its own (`ngx_ssl_session_id_context`: SHA-1 over `"HTTP"` and the SHA-1 of each
 *   certificate's DER), so ours is given the same `sessionIdContext`; with libssl's server, whose
 *   context is empty, ours keeps the empty default.
 * - A ticket this server issued opens with `cli open` under the same key file and layout
 *   (status 5, SUCCESS; the key's name).
 *
 * Ignored, with the reason printed, when openssl, gcc with libssl or nginx is missing (CI
 * installs them and fails instead).
 *
 * @module
 */
import assert from "node:assert/strict";
import { sessionFromPem, SslContext, TicketKey } from "../../mod.ts";
import { startTlsServer, type TestTlsServer } from "../_tls_server.ts";
import { makeCertDir, runClient } from "./_openssl.ts";
import {
  cliOk,
  compileLibsslPeer,
  missing,
  parseSClient,
  type PeerProcess,
  randomBytes,
  startLibsslServer,
  startNginxServer,
} from "./_peers.ts";

const why = await missing(["openssl", "libssl", "nginx"]);
if (why !== null) console.warn(`tls_mixed_fleet_test: skipping (CI installs these): ${why}`);

type Version = "1.2" | "1.3";
const VERSIONS: Version[] = ["1.3"];

/** A server of the fleet: its port, and what it printed (for failure messages). */
interface FleetServer {
  name: string;
  port: number;
  output(): string;
}

Deno.test({
  name:
    "mixed fleet (openssl-80, nginx-80): sessions from libssl's server and nginx resume on this server and back; its tickets open with cli open",
  ignore: why !== null,
}, async (t) => {
  const certs = await makeCertDir("openssl", "rsa");
  const stops: (() => Promise<void>)[] = [];
  try {
    const dir = certs.dir;
    let n = 0;
    const fresh = (name: string) => `${dir}/${++n}_${name}`;
    const raw = randomBytes(80);
    const keyName = raw.subarray(0, 16).toHex();
    const keyFile = `${dir}/ticket.key`;
    await Deno.writeFile(keyFile, raw, { mode: 0o600 });

    const cert = await Deno.readTextFile(certs.certPath);
    const key = await Deno.readTextFile(certs.keyPath);
    const ours = async (
      layout: "openssl-80" | "nginx-80",
      sessionIdContext?: Uint8Array,
    ): Promise<TestTlsServer> => {
      const context = await SslContext.create({
        ticketKeys: await TicketKey.import(raw, layout),
        sessionIdContext,
      });
      const s = await startTlsServer({ cert, key, context, app: httpReply });
      stops.push(() => s.stop());
      return s;
    };
    const asFleet = (name: string, s: { port: number; output?: () => string }): FleetServer => ({
      name,
      port: s.port,
      output: s.output ?? (() => ""),
    });

    const sClient = async (server: FleetServer, version: Version, extra: string[]) => {
      const r = await runClient("openssl", server.port, [
        version === "1.3" ? "-tls1_3" : "-tls1_2",
        ...extra,
      ]);
      const out = parseSClient(r.stdout);
      assert.equal(
        out.protocol,
        `TLSv${version}`,
        `${server.name}: ${r.stdout}${r.stderr}\n${server.output()}`,
      );
      return out;
    };
    /** A new session on `from` whose ticket carries the shared key's name, resumed on `to`. */
    const across = async (from: FleetServer, to: FleetServer, version: Version) => {
      const pem = fresh("session.pem");
      const made = await sClient(from, version, ["-sess_out", pem]);
      assert.equal(made.handshake, "New");
      const ticket = sessionFromPem(await Deno.readTextFile(pem)).ticket;
      assert.ok(ticket !== null && ticket.length > 0, `${from.name} sent no ticket`);
      assert.equal(ticket.subarray(0, 16).toHex(), keyName, `${from.name}'s ticket key name`);
      const resumed = await sClient(to, version, ["-sess_in", pem]);
      assert.equal(resumed.handshake, "Reused", `${from.name} → ${to.name}\n${to.output()}`);
      return ticket;
    };

    const peer = await compileLibsslPeer();
    for (const version of VERSIONS) {
      const libssl = await startLibsslServer(
        peer.bin,
        certs.certPath,
        certs.keyPath,
        raw,
        version,
        "",
      );
      stops.push(() => libssl.stop());
      const mine = asFleet("this server (openssl-80)", await ours("openssl-80"));
      const theirs = asFleet("libssl", libssl);
      await t.step(`TLS ${version}: libssl's server → this server, and back`, async () => {
        await across(theirs, mine, version);
        await across(mine, theirs, version);
      });
      await t.step(`TLS ${version}: this server's ticket opens with cli open`, async () => {
        const ticket = await across(mine, mine, version);
        const file = fresh("ticket.bin");
        await Deno.writeFile(file, ticket);
        const opened = JSON.parse(
          await cliOk(["open", "--key", keyFile, "--layout", "openssl-80", file]),
        ) as { status: number; keyName: string };
        assert.equal(opened.status, 5); // SUCCESS
        assert.equal(opened.keyName, keyName);
      });
    }

    const nginx: PeerProcess & { port: number } = await startNginxServer(
      certs.certPath,
      certs.keyPath,
      [keyFile],
    );
    stops.push(() => nginx.stop());
    const mine = asFleet(
      "this server (nginx-80)",
      await ours("nginx-80", await nginxSessionIdContext(certs.certDer)),
    );
    const theirs = asFleet("nginx", nginx);
    for (const version of VERSIONS) {
      await t.step(`TLS ${version}: nginx → this server, and back`, async () => {
        await across(theirs, mine, version);
        await across(mine, theirs, version);
      });
    }
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await certs.remove();
  }
});

/** nginx's session id context for its `http` servers with one certificate. */
async function nginxSessionIdContext(certDer: Uint8Array): Promise<Uint8Array> {
  const sha1 = async (b: Uint8Array) =>
    new Uint8Array(await crypto.subtle.digest("SHA-1", b.slice()));
  const http = new TextEncoder().encode("HTTP");
  const certHash = await sha1(certDer);
  const input = new Uint8Array(http.length + certHash.length);
  input.set(http);
  input.set(certHash, http.length);
  return await sha1(input);
}

/** Answers like the peers do: an HTTP/1.0 response once the request has arrived. */
async function httpReply(conn: import("../../tls.ts").TlsConnection): Promise<void> {
  const reader = conn.readable.getReader();
  let got = "";
  while (!got.includes("\r\n\r\n")) {
    const { value, done } = await reader.read();
    if (done) return;
    got += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const writer = conn.writable.getWriter();
  await writer.write(new TextEncoder().encode("HTTP/1.0 200 OK\r\n\r\n.\n"));
  writer.releaseLock();
}
