/**
 * Interop with nginx (Debian's package, built with OpenSSL) and its `ssl_session_ticket_key`
 * files: 80 bytes (name|hmac32|aes32, AES-256-CBC; our `nginx-80`) and 48 bytes
 * (name|aes16|hmac16, AES-128-CBC; our `nginx-48`), read by
 * `src/event/ngx_event_openssl.c:ngx_ssl_session_ticket_keys` and used through
 * `ngx_ssl_ticket_key_callback`. nginx runs in the foreground on 127.0.0.1 with its own prefix,
 * one `server` block per key file, answering `reused=$ssl_session_reused` (`r` or `.`).
 *
 * - Tickets nginx issued (`openssl s_client -sess_out`) open here: SUCCESS, same master key.
 * - Tickets sealed here (session-id context as nginx sets it, read from its own tickets) resume
 *   against nginx: `s_client -sess_in` prints `Reused` and nginx says `r`.
 * - Negative controls: a flipped byte, a wrong key, an expired session print `New`.
 * - A key converted from nginx's 48-byte layout to Node's (`cli.ts convert --from nginx-48
 *   --to node-48`) works in Node: Node's tickets open with the nginx-48 key, nginx's open
 *   with the node-48 key, and a real nginx session re-sealed under the converted key resumes in
 *   Node (`isSessionReused()`).
 *
 * Ignored, with the reason printed, when nginx or openssl is missing; the Node steps are ignored
 * when node is missing.
 */
import { main as cliMain } from "../../cli.ts";
import assert from "node:assert/strict";
import {
  decodeSession,
  encodeSession,
  sessionFromPem,
  sessionToPem,
} from "../../src/session/codec.ts";
import type { SslSession } from "../../src/session/ssl_session.ts";
import { TicketKey, type TicketKeyLayout } from "../../src/ticket/ticket_key.ts";
import { TicketStatus } from "../../src/ticket/status.ts";
import { makeCertDir, runClient } from "./_openssl.ts";
import {
  clientSessionFor,
  flipByte,
  missing,
  type Nginx,
  nowSeconds,
  parseSClient,
  randomBytes,
  runNodePeer,
  serverSession,
  startNginx,
  utf8,
} from "./_peers.ts";

const why = await missing(["nginx", "openssl"]);
const whyNode = await missing(["node"]);
if (why !== null) console.warn(`nginx_test: skipping (CI installs these): ${why}`);
if (why === null && whyNode !== null) {
  console.warn(`nginx_test: skipping the nginx-48 → node-48 steps: ${whyNode}`);
}

type Version = "1.2" | "1.3";
const VERSIONS: Version[] = ["1.2", "1.3"];
const NODE_SID_CTX = "session-tickets-interop";

Deno.test({
  name: "nginx with 80- and 48-byte ssl_session_ticket_key files: both directions",
  ignore: why !== null,
}, async (t) => {
  const certs = await makeCertDir("openssl", "rsa");
  let nginx: Nginx | null = null;
  try {
    const files: { layout: TicketKeyLayout; raw: Uint8Array }[] = [
      { layout: "nginx-80", raw: randomBytes(80) },
      { layout: "nginx-48", raw: randomBytes(48) },
    ];
    nginx = await startNginx(certs.certPath, certs.keyPath, files.map((f) => f.raw));
    const ports = nginx.ports;
    const ngx = nginx;

    /** `s_client` against nginx; writes/reads session PEMs. */
    const sClient = async (port: number, version: Version, extra: string[]) => {
      const r = await runClient("openssl", port, [
        version === "1.3" ? "-tls1_3" : "-tls1_2",
        ...extra,
      ]);
      const out = parseSClient(r.stdout);
      assert.equal(
        out.protocol,
        version === "1.3" ? "TLSv1.3" : "TLSv1.2",
        `${r.stdout}${r.stderr}\n${ngx.output()}`,
      );
      return out;
    };

    /** What nginx issued, per file and version: its client session and the opened session. */
    const issued = new Map<string, { client: SslSession; server: SslSession }>();

    for (const [i, { layout, raw }] of files.entries()) {
      const key = await TicketKey.import(raw, layout);
      const wrongRaw = raw.slice();
      wrongRaw.set(randomBytes(raw.length - 16), 16);
      const wrongKey = await TicketKey.import(wrongRaw, layout);
      for (const version of VERSIONS) {
        const tls13 = version === "1.3";
        const tag = `${layout} TLS ${version}`;

        await t.step(`${tag}: tickets nginx issued open here`, async () => {
          const path = `${certs.dir}/nginx_${i}_${version}.pem`;
          const out = await sClient(ports[i], version, ["-sess_out", path]);
          assert.equal(out.handshake, "New");
          assert.equal(out.body, ".");
          const client = sessionFromPem(await Deno.readTextFile(path));
          assert.ok(client.ticket !== null);
          const opened = await key.open(client.ticket!);
          assert.equal(opened.status, TicketStatus.SUCCESS);
          assert.equal(opened.keyName.toHex(), raw.subarray(0, 16).toHex());
          const s = opened.session!;
          assert.equal(s.masterKey.toHex(), client.masterKey.toHex());
          assert.equal(s.sslVersion, tls13 ? 0x0304 : 0x0303);
          assert.equal(s.cipherId, client.cipherId);
          assert.equal(s.cipherId, tls13 ? 0x1302 : 0xc030);
          assert.equal(s.timeout, 300); // nginx's ssl_session_timeout default, 5m
          assert.equal(s.getTicketAppData(), null);
          // nginx always sets a session-id context (ngx_ssl_session_id_context).
          assert.ok(s.sessionIdContext.length > 0);
          // The layout trap: the same bytes in another product's order open nothing.
          const other: TicketKeyLayout = layout === "nginx-48" ? "node-48" : "haproxy-80";
          const material = layout === "nginx-48" ? raw : `${raw.toBase64()}\n`;
          const trap = await (await TicketKey.import(material, other)).open(client.ticket!);
          assert.equal(trap.status, TicketStatus.NO_DECRYPT);
          assert.equal(trap.failure, "badMac");
          issued.set(`${layout}/${version}`, { client, server: s });
        });

        const sidCtx = () => {
          const got = issued.get(`${layout}/${version}`);
          assert.ok(got, "needs the previous step");
          return got.server.sessionIdContext;
        };
        const resume = async (session: SslSession, ticket: Uint8Array) => {
          const path = `${certs.dir}/ours.pem`;
          await Deno.writeTextFile(path, sessionToPem(await clientSessionFor(session, ticket)));
          return await sClient(ports[i], version, ["-sess_in", path]);
        };

        await t.step(`${tag}: a ticket sealed here resumes against nginx (Reused)`, async () => {
          const session = serverSession({
            version,
            sessionIdContext: sidCtx(),
            appData: "sealed for nginx",
          });
          const out = await resume(session, await key.seal(session));
          assert.equal(out.handshake, "Reused");
          assert.equal(out.body, "r");
        });

        await t.step(`${tag}: negative: flipped byte, wrong key, expired → New`, async () => {
          const sessionIdContext = sidCtx();
          const a = serverSession({ version, sessionIdContext });
          const flipped = await resume(a, flipByte(await key.seal(a), 40));
          const b = serverSession({ version, sessionIdContext });
          const wrong = await resume(b, await wrongKey.seal(b));
          const c = serverSession({ version, sessionIdContext, time: nowSeconds() - 30 * 86400 });
          const expired = await resume(c, await key.seal(c));
          for (const out of [flipped, wrong, expired]) {
            assert.equal(out.handshake, "New");
            assert.equal(out.body, ".");
          }
        });
      }
    }

    const [, nginx48] = files;
    for (const version of VERSIONS) {
      await t.step({
        name: `nginx-48 key converted to node-48 works in Node (TLS ${version})`,
        ignore: whyNode !== null,
        fn: async () => {
          const fromNginx = await TicketKey.import(nginx48.raw, "nginx-48");
          // What an operator runs: cli.ts convert --from nginx-48 --to node-48.
          const out: Uint8Array[] = [];
          const code = await cliMain(["convert", "--from", "nginx-48", "--to", "node-48"], {
            stdin: () => Promise.resolve(nginx48.raw.slice()),
            stdout: (b: Uint8Array) => void out.push(b.slice()),
            stderr: (e: string) => console.error(e),
            stdoutIsTerminal: false,
          });
          assert.equal(code, 0);
          const nodeKeys = Uint8Array.from(out.flatMap((b) => [...b]));
          // name|aes|hmac → name|hmac|aes: the two 16-byte halves swap.
          const r = nginx48.raw;
          assert.equal(
            nodeKeys.toHex(),
            r.subarray(0, 16).toHex() + r.subarray(32, 48).toHex() + r.subarray(16, 32).toHex(),
          );
          const asNode = await TicketKey.import(nodeKeys, "node-48");
          const got = issued.get(`nginx-48/${version}`);
          assert.ok(got, "needs the nginx-48 steps");
          // nginx's ticket opens with the converted key.
          const opened = await asNode.open(got.client.ticket!);
          assert.equal(opened.status, TicketStatus.SUCCESS);
          assert.equal(opened.session!.masterKey.toHex(), got.client.masterKey.toHex());
          // The real nginx session, moved to Node's session-id context and re-sealed under the
          // converted key, with s_client's own client session carrying the new ticket.
          const moved = got.server.dup();
          moved.sessionIdContext = utf8(NODE_SID_CTX);
          const client = got.client.dup();
          client.ticket = await asNode.seal(moved);
          const { results, server } = await runNodePeer({
            version,
            certPath: certs.certPath,
            keyPath: certs.keyPath,
            ticketKeys: nodeKeys,
            sessionIdContext: NODE_SID_CTX,
            clients: [null, encodeSession(client)],
          });
          assert.deepEqual(results.map((x) => [x.error, x.reused]), [[null, false], [null, true]]);
          assert.deepEqual(server, [{ reused: false }, { reused: true }]);
          // Node's own ticket under the converted key opens with the nginx-48 import.
          const nodeClient = decodeSession(results[0].sessions[0]);
          const fromNode = await fromNginx.open(nodeClient.ticket!);
          assert.equal(fromNode.status, TicketStatus.SUCCESS);
          assert.equal(fromNode.session!.masterKey.toHex(), nodeClient.masterKey.toHex());
          nodeKeys.fill(0);
        },
      });
    }
  } finally {
    await nginx?.stop();
    await certs.remove();
  }
});
