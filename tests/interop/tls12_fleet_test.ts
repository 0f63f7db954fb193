/**
 * A mixed fleet in TLS 1.2: this module's server and OpenSSL servers under the same 80-byte
 * ticket keys (`SSL_CTX_set_tlsext_ticket_keys`: the C peer's `listen` mode, and nginx's
 * `ssl_session_ticket_key`) resume each other's sessions. A ticket this server issued opens
 * with `cli open` as SUCCESS with the session's master secret, and resumes on the OpenSSL
 * servers; a ticket an OpenSSL server issued resumes here, with the app data its `gen_cb` sealed
 * seen by `dec_cb`. Client: `openssl s_client -tls1_2 -sess_out / -sess_in`.
 *
 * Ignored, with the reason printed, when openssl, libssl-dev/gcc or nginx is missing (a failure
 * under CI=true).
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { sessionFromPem, SslContext } from "../../mod.ts";
import type { HandshakeInfo, TlsConnection } from "../../tls.ts";
import { defaultDecision, startTlsServer } from "../_tls_server.ts";
import { testCredentials } from "../_tls_certs.ts";
import { parseSessionText, runClient } from "./_openssl.ts";
import {
  cliOk,
  compileLibsslPeer,
  missing,
  parseSClient,
  randomBytes,
  startLibsslServer,
  startNginxServer,
} from "./_peers.ts";

const why = await missing(["openssl", "libssl"]);
const whyNginx = await missing(["nginx", "openssl"]);
if (why !== null) console.warn(`tls12_fleet_test: skipping (CI installs these): ${why}`);
if (whyNginx !== null) console.warn(`tls12_fleet_test: skipping nginx: ${whyNginx}`);

const text = (b: Uint8Array | null | undefined) => (b ? new TextDecoder().decode(b) : null);

/** Answers the request line with `reused=r` or `reused=.` (as nginx's page) and closes. */
async function answer(conn: TlsConnection, info: HandshakeInfo): Promise<void> {
  const reader = conn.readable.getReader();
  await reader.read();
  reader.releaseLock();
  const w = conn.writable.getWriter();
  await w.write(new TextEncoder().encode(`reused=${info.resumed ? "r" : "."}\n`));
  w.releaseLock();
  await conn.close();
}

/** s_client -tls1_2 against `port`; the handshake kind and the session it printed. */
async function sClient12(port: number, args: string[]) {
  const r = await runClient("openssl", port, ["-tls1_2", ...args]);
  const out = parseSClient(r.stdout);
  assert.equal(out.protocol, "TLSv1.2", `${r.stdout}${r.stderr}`);
  return { ...out, printed: parseSessionText(r.stdout), stdout: r.stdout };
}

Deno.test({
  name: "RFC 5077 §4 mixed fleet (openssl-80 keys): a TLS 1.2 ticket of this server opens with " +
    "cli open and resumes on a libssl server; a libssl server's ticket resumes here with its " +
    "app data",
  ignore: why !== null,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "session_tickets_tls12_fleet_" });
  const peer = await compileLibsslPeer();
  const keys = randomBytes(80);
  const keyFile = `${dir}/ticket.key`;
  await Deno.writeFile(keyFile, keys);
  const creds = await testCredentials("P-256");
  const decSaw: (string | null)[] = [];
  const context = await SslContext.create({
    ticketKeys: keys,
    genCb: (conn) => (conn.session!.setTicketAppData("from=deno"), 1),
    decCb: (_c, session, _k, status) => {
      decSaw.push(text(session?.getTicketAppData()));
      return defaultDecision(status);
    },
  });
  const ours = await startTlsServer({
    cert: creds.certPem,
    key: creds.keyPem,
    context,
    app: answer,
  });
  const libssl = await startLibsslServer(
    peer.bin,
    creds.certFile,
    creds.keyFile,
    keys,
    "1.2",
    "from=libssl",
  );
  try {
    // This server's ticket: cli open says SUCCESS with the master secret s_client holds.
    const sessA = `${dir}/a.pem`;
    const a = await sClient12(ours.port, ["-sess_out", sessA]);
    assert.equal(a.handshake, "New");
    const clientA = sessionFromPem(await Deno.readTextFile(sessA));
    await Deno.writeFile(`${dir}/a.ticket`, clientA.ticket!);
    const opened = JSON.parse(
      await cliOk([
        "open",
        "--key",
        keyFile,
        "--layout",
        "openssl-80",
        "--show-secrets",
        `${dir}/a.ticket`,
      ]),
    );
    assert.equal(opened.statusName, "SUCCESS");
    assert.equal(opened.keyName, keys.subarray(0, 16).toHex());
    assert.equal(opened.session.sslVersion, 0x0303);
    assert.equal(opened.session.masterKey, clientA.masterKey.toHex());
    assert.equal(opened.session.cipherId, clientA.cipherId);

    // ... and resumes on the libssl server, whose dec_cb sees our gen_cb's app data.
    const onLibssl = await sClient12(libssl.port, ["-sess_in", sessA]);
    assert.equal(onLibssl.handshake, "Reused", onLibssl.stdout);
    assert.match(libssl.output(), /^dec status=5 .*appdata=66726f6d3d64656e6f /m); // "from=deno"

    // The libssl server's ticket resumes here; dec_cb sees "from=libssl".
    const sessB = `${dir}/b.pem`;
    const b = await sClient12(libssl.port, ["-sess_out", sessB]);
    assert.equal(b.handshake, "New");
    const here = await sClient12(ours.port, ["-sess_in", sessB]);
    assert.equal(here.handshake, "Reused", here.stdout);
    const served = await ours.waitFor(2);
    assert.deepEqual(served.map((s) => s.info?.resumed), [false, true]);
    assert.equal(text(served[1].info!.session!.getTicketAppData()), "from=libssl");
    assert.deepEqual(decSaw, [null, "from=libssl"]);
  } finally {
    await ours.stop();
    await libssl.stop();
    await Deno.remove(dirname(peer.bin), { recursive: true }).catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test({
  name: "RFC 5077 §4 mixed fleet with nginx (nginx-80 ssl_session_ticket_key): TLS 1.2 sessions " +
    "resume from nginx here and from here on nginx",
  ignore: whyNginx !== null,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "session_tickets_tls12_nginx_" });
  const keys = randomBytes(80);
  const keyFile = `${dir}/ticket.key`;
  await Deno.writeFile(keyFile, keys);
  const creds = await testCredentials("RSA");
  const nginx = await startNginxServer(creds.certFile, creds.keyFile, [keyFile]);
  let ours: Awaited<ReturnType<typeof startTlsServer>> | null = null;
  try {
    const fromNginx = `${dir}/n.pem`;
    assert.equal((await sClient12(nginx.port, ["-sess_out", fromNginx])).handshake, "New");
    // nginx sets a session-id context (a hash of its server names and certificates); a fleet
    // member must use the same one (SSL_CTX_set_session_id_context): read it from the ticket.
    await Deno.writeFile(
      `${dir}/n.ticket`,
      sessionFromPem(await Deno.readTextFile(fromNginx)).ticket!,
    );
    const opened = JSON.parse(
      await cliOk(["open", "--key", keyFile, "--layout", "nginx-80", `${dir}/n.ticket`]),
    );
    assert.equal(opened.statusName, "SUCCESS");
    ours = await startTlsServer({
      cert: creds.certPem,
      key: creds.keyPem,
      context: await SslContext.create({
        ticketKeys: keys,
        sessionIdContext: Uint8Array.fromHex(opened.session.sessionIdContext),
      }),
      app: answer,
    });
    const here = await sClient12(ours.port, ["-sess_in", fromNginx]);
    assert.equal(here.handshake, "Reused", here.stdout);
    const fromHere = `${dir}/d.pem`;
    assert.equal((await sClient12(ours.port, ["-sess_out", fromHere])).handshake, "New");
    const there = await sClient12(nginx.port, ["-sess_in", fromHere]);
    assert.equal(there.handshake, "Reused", there.stdout);
    assert.equal(there.body, "r"); // nginx's $ssl_session_reused
    const served = await ours.waitFor(2);
    assert.deepEqual(served.map((s) => s.info?.resumed), [true, false]);
  } finally {
    await ours?.stop();
    await nginx.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
