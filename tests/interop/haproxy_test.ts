/**
 * Interop with HAProxy (Debian's package, built with OpenSSL) and its `tls-ticket-keys` file:
 * base64 lines of 80 bytes (name16|aes32|hmac32, AES-256-CBC; our `haproxy-80`) or 48 bytes
 * (name16|aes16|hmac16, AES-128-CBC; our `haproxy-48`), read by
 * `src/ssl_sock.c:ssl_sock_load_tlskeys` and used through `ssl_tlsext_ticket_key_cb`, which
 * seals with the middle of the last three lines and renews tickets of the other two. HAProxy runs
 * in the foreground (`haproxy -db`) on 127.0.0.1 with a private config; every key, ticket and
 * session is made by the command-line tool run as an operator runs it (`deno run -A cli.ts`).
 *
 * For each key size, and TLS 1.2 and 1.3:
 * - HAProxy's ticket (`openssl s_client -sess_out`) opens with `cli open` as SUCCESS under the
 *   middle line's key name, with the master key s_client holds;
 * - a session sealed by `cli seal` (which also takes the middle line) and wrapped by
 *   `cli client-session` resumes against HAProxy (`s_client -sess_in`: `Reused`, and HAProxy's
 *   `ssl_fc_is_resumed` is 1);
 * - a ticket under the first or the last line alone resumes too, and the ticket HAProxy sends
 *   back is renewed under the middle line;
 * - negative control: a ticket under a key that is not in the file gives a full handshake.
 *
 * Ignored, with the reason printed, when haproxy or openssl is missing (CI installs both with
 * `.ci/install-peers` and fails instead).
 */
import assert from "node:assert/strict";
import { sessionFromPem, sessionToPem } from "../../src/session/codec.ts";
import { makeCertDir, parseSessionText, runClient } from "./_openssl.ts";
import { cliOk, missing, parseSClient, runCli, serverSession, startHaproxy } from "./_peers.ts";

const why = await missing(["haproxy", "openssl"]);
if (why !== null) console.warn(`haproxy_test: skipping (CI installs these): ${why}`);

type Version = "1.2" | "1.3";
const VERSIONS: Version[] = ["1.2", "1.3"];

/** What `cli open` prints (the fields this test reads). */
interface Opened {
  status: number;
  statusName: string;
  keyName: string;
  failure: string | null;
  session: {
    sslVersion: number;
    cipherId: number;
    masterKey: string;
    sessionIdContext: string;
  } | null;
}

/** The base64 lines of a haproxy key file, decoded. */
async function keyLines(path: string): Promise<Uint8Array[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => Uint8Array.fromBase64(l));
}

Deno.test({
  name:
    "HAProxy tls-ticket-keys (haproxy-80, haproxy-48): seals with the middle line; its tickets open with cli open; cli seal tickets resume (TLS 1.2, 1.3)",
  ignore: why !== null,
}, async (t) => {
  const certs = await makeCertDir("openssl", "rsa");
  let haproxy: Awaited<ReturnType<typeof startHaproxy>> | null = null;
  try {
    // HAProxy's `crt` takes the certificate and its key in one file.
    const pem = `${certs.dir}/haproxy.pem`;
    await Deno.writeTextFile(
      pem,
      (await Deno.readTextFile(certs.certPath)) + (await Deno.readTextFile(certs.keyPath)),
    );
    let n = 0;
    const fresh = (name: string) => `${certs.dir}/${++n}_${name}`;

    for (const size of [80, 48] as const) {
      const layout = `haproxy-${size}`;
      const rawLayout = `openssl-${size}`; // name|hmac|aes: one key, for sealing under one line
      const keys = fresh(`${layout}.keys`);
      if (size === 80) {
        // As the issue did it: three keys converted into one haproxy file, oldest first.
        const parts = [fresh("old.key"), fresh("cur.key"), fresh("next.key")];
        await Promise.all(parts.map((p) => cliOk(["keygen", "--layout", "nginx-80", "--out", p])));
        await cliOk([
          "convert",
          "--from",
          "nginx-80",
          "--to",
          layout,
          ...parts.flatMap((p) => ["--in", p]),
          "--out",
          keys,
        ]);
        const raws = await Promise.all(parts.map((p) => Deno.readFile(p)));
        const lines = await keyLines(keys);
        assert.deepEqual(
          lines.map((l) => l.subarray(0, 16).toHex()),
          raws.map((r) => r.subarray(0, 16).toHex()),
        );
      } else {
        await cliOk(["keygen", "--layout", layout, "--out", keys]);
      }
      const lines = await keyLines(keys);
      assert.deepEqual(lines.map((l) => l.length), [size, size, size]);
      const names = lines.map((l) => l.subarray(0, 16).toHex());
      const middle = names[1];
      // The first and the last line alone, in a raw layout, to seal under that line's key.
      const single = [fresh("line1.key"), fresh("line3.key")];
      const foreign = fresh("foreign.keys"); // keys HAProxy does not hold: another haproxy file
      await Promise.all([
        cliOk(["keygen", "--layout", layout, "--out", foreign]),
        ...[1, 3].map((line, i) =>
          cliOk([
            "convert",
            "--from",
            layout,
            "--to",
            rawLayout,
            "--in",
            keys,
            "--line",
            String(line),
            "--out",
            single[i],
          ])
        ),
      ]);

      haproxy = await startHaproxy(pem, keys);
      const hp = haproxy;
      const sClient = async (version: Version, extra: string[]) => {
        const r = await runClient("openssl", hp.port, [
          version === "1.3" ? "-tls1_3" : "-tls1_2",
          ...extra,
        ]);
        const out = parseSClient(r.stdout);
        assert.equal(
          out.protocol,
          version === "1.3" ? "TLSv1.3" : "TLSv1.2",
          `${r.stdout}${r.stderr}\n${hp.output()}`,
        );
        // The session s_client prints after the handshake (`SSL_SESSION_print`): in TLS 1.2 it
        // carries a ticket renewed during the resumption, which -sess_out does not write then.
        return { ...out, printedTicket: parseSessionText(r.stdout).ticket };
      };
      /** The client session s_client wrote with -sess_out; it must carry a ticket. */
      const ticketOf = async (sessionPem: string) => {
        const client = sessionFromPem(await Deno.readTextFile(sessionPem));
        assert.ok(client.ticket !== null && client.ticket.length > 0, "s_client got no ticket");
        return client;
      };
      /** `cli client-session` for a ticket sealed by `cli seal`: the PEM s_client resumes with. */
      const clientSession = async (ticket: string, server: string) => {
        const pem = fresh("client.pem");
        await cliOk(["client-session", "--ticket", ticket, "--session", server, "--out", pem]);
        return pem;
      };
      /** `s_client -sess_in` (and `-sess_out`) against HAProxy. */
      const resume = async (version: Version, clientPem: string, sessOut?: string) =>
        await sClient(version, ["-sess_in", clientPem, ...(sessOut ? ["-sess_out", sessOut] : [])]);
      /**
       * The ticket HAProxy sent on a resumption: in TLS 1.2 the renewed ticket of the
       * resumption handshake (printed), in TLS 1.3 the post-handshake ticket (-sess_out).
       */
      const renewedTicket = async (
        version: Version,
        out: { printedTicket: Uint8Array | null },
        sessOut: string,
      ) => version === "1.2" ? out.printedTicket : (await ticketOf(sessOut)).ticket;

      for (const version of VERSIONS) {
        const tag = `${layout} TLS ${version}`;
        let sidCtx: Uint8Array | null = null;

        await t.step(`${tag}: HAProxy seals with the middle line; cli open opens it`, async () => {
          const sessOut = fresh("haproxy_session.pem");
          const first = await sClient(version, ["-sess_out", sessOut]);
          assert.equal(first.handshake, "New");
          assert.equal(first.body, "0");
          const client = await ticketOf(sessOut);
          const ticket = fresh("haproxy_ticket.bin");
          await Deno.writeFile(ticket, client.ticket!);
          const opened = JSON.parse(
            await cliOk(["open", "--key", keys, "--layout", layout, "--show-secrets", ticket]),
          ) as Opened;
          assert.equal(opened.status, 5);
          assert.equal(opened.statusName, "SUCCESS"); // the sealing line: no renewal
          assert.equal(opened.keyName, middle);
          assert.equal(client.ticket!.subarray(0, 16).toHex(), middle);
          const s = opened.session!;
          assert.equal(s.masterKey, client.masterKey.toHex());
          assert.equal(s.sslVersion, version === "1.3" ? 0x0304 : 0x0303);
          assert.equal(s.cipherId, client.cipherId);
          // HAProxy sets its session-id context (SSL_CTX_set_session_id_context, "haproxy").
          assert.ok(s.sessionIdContext.length > 0);
          sidCtx = Uint8Array.fromHex(s.sessionIdContext);
          // And HAProxy resumes its own ticket.
          const again = await sClient(version, ["-sess_in", sessOut]);
          assert.equal(again.handshake, "Reused");
          assert.equal(again.body, "1");
        });

        const serverPem = async () => {
          assert.ok(sidCtx !== null, "needs the previous step");
          const path = fresh("server.pem");
          const session = serverSession({ version, sessionIdContext: sidCtx });
          await Deno.writeTextFile(path, sessionToPem(session));
          return path;
        };

        await t.step(`${tag}: a ticket sealed by cli seal resumes against HAProxy`, async () => {
          const server = await serverPem();
          const ticket = fresh("sealed.bin");
          await cliOk(["seal", "--key", keys, "--layout", layout, "--out", ticket, server]);
          // The tool seals with the middle line too, as HAProxy does.
          assert.equal((await Deno.readFile(ticket)).subarray(0, 16).toHex(), middle);
          const out = await resume(version, await clientSession(ticket, server));
          assert.equal(out.handshake, "Reused");
          assert.equal(out.body, "1");
        });

        await t.step(
          `${tag}: tickets under the first and the last line resume, renewed under the middle one`,
          async () => {
            // Sealed by the tool under the first and under the last line...
            const prepared = await Promise.all(single.map(async (keyFile, i) => {
              const server = await serverPem();
              const ticket = fresh("sealed_line.bin");
              await cliOk([
                "seal",
                "--key",
                keyFile,
                "--layout",
                rawLayout,
                "--out",
                ticket,
                server,
              ]);
              assert.equal((await Deno.readFile(ticket)).subarray(0, 16).toHex(), names[i * 2]);
              return { line: i * 2 + 1, client: await clientSession(ticket, server) };
            }));
            // ...each resumes, and HAProxy sends a ticket under the middle line back.
            for (const { line, client } of prepared) {
              const renewed = fresh("renewed.pem");
              const out = await resume(version, client, renewed);
              assert.equal(out.handshake, "Reused", `line ${line}`);
              assert.equal(out.body, "1");
              const next = await renewedTicket(version, out, renewed);
              assert.ok(next !== null && next.length > 0, `no renewed ticket: line ${line}`);
              assert.equal(next.subarray(0, 16).toHex(), middle, `line ${line}`);
            }
          },
        );

        await t.step(`${tag}: negative: a ticket under a key not in the file → New`, async () => {
          const server = await serverPem();
          const ticket = fresh("foreign.bin");
          await cliOk(["seal", "--key", foreign, "--layout", layout, "--out", ticket, server]);
          const [r, client] = await Promise.all([
            runCli(["open", "--key", keys, "--layout", layout, ticket]),
            clientSession(ticket, server),
          ]);
          // The tool itself says the ticket's key is not in HAProxy's file...
          assert.equal(r.code, 1);
          assert.equal((JSON.parse(r.stdout) as Opened).failure, "unknownKey");
          // ...and HAProxy makes a full handshake.
          const out = await resume(version, client);
          assert.equal(out.handshake, "New");
          assert.equal(out.body, "0");
        });
      }
      await haproxy.stop();
      haproxy = null;
    }
  } finally {
    await haproxy?.stop();
    await certs.remove();
  }
});
