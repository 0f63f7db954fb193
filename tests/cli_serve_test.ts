/**
 * Tests of `cli.ts serve`, run as a real process: a session `openssl s_client -sess_out` saved
 * resumes with `-sess_in` after a restart on the same ticket key file, and not on a server with
 * other keys; curl's second request resumes; each handshake is printed with its `dec_cb` status
 * and return, app data and tickets; SIGTERM stops it cleanly; usage errors are one line. Also
 * the demo's self-signed certificate, checked with `openssl x509` and `openssl verify`.
 * Ignored, saying why, without openssl 3.x or curl (under CI=true a missing one fails).
 */
import assert from "node:assert/strict";
import { main } from "../cli.ts";
import { selfSignedCertificate } from "../src/cli/_self_signed.ts";
import { sClient, startServe } from "./_cli_serve.ts";
import { testCredentials } from "./_tls_certs.ts";
import { findOpenssl, runOpenssl } from "./interop/_openssl.ts";
import { missing } from "./interop/_peers.ts";
import { runCommand } from "./_process.ts";

const whyOpenssl = await missing(["openssl"]);
const openssl = await findOpenssl();
const OPENSSL = openssl.bin ?? "openssl";
if (whyOpenssl !== null) console.warn(`cli_serve_test: skipping s_client tests: ${whyOpenssl}`);

async function curlMissing(): Promise<string | null> {
  let why: string | null = null;
  try {
    const r = await runCommand("curl", ["--version"], { timeoutMs: 5000 });
    if (r.code !== 0) why = `\`curl --version\` exited with ${r.code}`;
  } catch (e) {
    why = e instanceof Deno.errors.NotFound ? "`curl` not found" : String(e);
  }
  if (why !== null && Deno.env.get("CI") === "true") {
    throw new Error(`CI must skip nothing: curl: ${why}`);
  }
  return why;
}
const whyCurl = await curlMissing();
if (whyCurl !== null) console.warn(`cli_serve_test: skipping curl tests: ${whyCurl}`);

/** A fresh temporary directory, removed after `fn`. */
async function inTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "session_tickets_serve_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs `main(args)` in-process with captured streams. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, {
    stdout: (b) => void (out += new TextDecoder().decode(b)),
    stderr: (t) => void (err += t),
  });
  return { code, out, err };
}

const SUITE = "TLS_AES_256_GCM_SHA384"; // the first suite s_client and curl offer
const APP_DATA = (pid: number) => `"served-by=${pid};t=\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z"`;

Deno.test({
  name:
    "cli serve with TLS 1.2 clients (RFC 5077 §3.1, RFC 5246 §7.4.1.2): s_client -tls1_2 resumes by ticket, and with -no_ticket from the session-id cache; the page says which",
  ignore: whyOpenssl !== null,
  async fn() {
    await inTemp(async (dir) => {
      const { certFile, keyFile } = await testCredentials("P-256");
      const s = await startServe(["--cert", certFile, "--key", keyFile, "--port", "0"]);
      try {
        const sess = `${dir}/s.pem`, sid = `${dir}/sid.pem`;
        const full = await sClient(OPENSSL, s.port, ["-tls1_2", "-sess_out", sess]);
        assert.equal(full.handshake, "New", full.stdout + full.stderr);
        assert.match(full.stdout, /^TLSv1\.2 ECDHE-ECDSA-AES256-GCM-SHA384, key exchange x25519,/m);
        assert.match(full.stdout, /^dec_cb: EMPTY->IGNORE_RENEW /m);
        assert.match(full.stdout, /^tickets sent in the handshake: 1$/m);
        const byTicket = await sClient(OPENSSL, s.port, ["-tls1_2", "-sess_in", sess]);
        assert.equal(byTicket.handshake, "Reused", byTicket.stdout + byTicket.stderr);
        assert.match(byTicket.stdout, /^resumed: yes \(from the client's session ticket\)$/m);
        const first = await sClient(OPENSSL, s.port, ["-tls1_2", "-no_ticket", "-sess_out", sid]);
        assert.equal(first.handshake, "New");
        assert.match(first.stdout, /^tickets sent in the handshake: 0$/m);
        const byId = await sClient(OPENSSL, s.port, ["-tls1_2", "-no_ticket", "-sess_in", sid]);
        assert.equal(byId.handshake, "Reused", byId.stdout + byId.stderr);
        assert.match(byId.stdout, /^resumed: yes \(from the session-id cache\)$/m);
        assert.match(byId.stdout, /^dec_cb: not called /m);
      } finally {
        const exit = await s.stop();
        assert.match(exit.stdout, /^stopped \(SIGTERM\) after 4 handshakes, 2 resumed$/m);
      }
    });
  },
});

Deno.test({
  name:
    "cli serve --keys (RFC 8446 §2.2, §4.6.1): s_client -sess_out, restart on the same key file, -sess_in is Reused; the lines show full, then resumed with dec_cb SUCCESS_RENEW->USE_RENEW and the first process's app data",
  ignore: whyOpenssl !== null,
  async fn() {
    await inTemp(async (dir) => {
      const { certFile, keyFile } = await testCredentials("P-256");
      const ticketKey = `${dir}/ticket.key`;
      const keygen = await cli(["keygen", "--layout", "openssl-80", "--out", ticketKey]);
      assert.equal(keygen.code, 0, keygen.err);
      const args = ["--cert", certFile, "--key", keyFile, "--port", "0"];
      const withKeys = [...args, "--keys", ticketKey, "--layout", "openssl-80"];
      const sess = `${dir}/session.pem`;

      const a = await startServe(withKeys);
      let aExit;
      try {
        const r = await sClient(OPENSSL, a.port, ["-sess_out", sess]);
        assert.equal(r.handshake, "New", r.stdout + r.stderr);
        assert.match(
          r.stdout,
          /^resumed: no \(full handshake, signed with ecdsa_secp256r1_sha256\)$/m,
        );
        assert.match(r.stdout, /^dec_cb: not called \(the client offered no ticket\)$/m);
        assert.match(r.stdout, /^tickets sent after the handshake: 2$/m);
        await a.waitForLine(/^handshake /);
      } finally {
        aExit = await a.stop();
      }
      const aLines = aExit.stdout.split("\n");
      assert.equal(aExit.code, 0, aExit.stderr);
      assert.equal(aExit.stderr, "");
      assert.equal(aLines[0], `listening on https://127.0.0.1:${a.port}/`);
      assert.match(
        aLines[1],
        /^ticket keys: .*ticket\.key \(openssl-80, 1 key, sealing with [0-9a-f]{8}\.\.\.\): a restart with this file resumes sessions$/,
      );
      assert.match(
        aLines[2],
        new RegExp(`^handshake 127\\.0\\.0\\.1:\\d+ full ${SUITE} x25519 tickets=2$`),
      );
      assert.equal(aLines[3], "stopped (SIGTERM) after 1 handshake, 0 resumed");

      // The same key file after a restart: the session resumes, with the app data gen_cb set
      // in the first process.
      const b = await startServe(withKeys);
      let bExit;
      try {
        const r = await sClient(OPENSSL, b.port, ["-sess_in", sess]);
        assert.equal(r.handshake, "Reused", r.stdout + r.stderr);
        assert.match(
          r.stdout,
          /^resumed: yes \(from the client's session ticket, PSK identity 0\)$/m,
        );
        assert.match(r.stdout, /^dec_cb: SUCCESS_RENEW->USE_RENEW /m);
        assert.match(r.stdout, new RegExp(`^ticket app data: ${APP_DATA(a.pid)} \\(carried`, "m"));
        await b.waitForLine(/^handshake /);
      } finally {
        bExit = await b.stop();
      }
      assert.equal(bExit.code, 0, bExit.stderr);
      assert.deepEqual(
        bExit.stdout.split("\n").filter((l) => l.startsWith("handshake ")).length,
        1,
      );
      assert.match(
        bExit.stdout,
        new RegExp(
          `^handshake 127\\.0\\.0\\.1:\\d+ resumed ${SUITE} x25519 dec_cb SUCCESS_RENEW->USE_RENEW app-data=${
            APP_DATA(a.pid)
          } tickets=1$`,
          "m",
        ),
      );
      assert.match(bExit.stdout, /^stopped \(SIGTERM\) after 1 handshake, 1 resumed$/m);

      // Random keys (no --keys): the ticket does not open, dec_cb sees NO_DECRYPT and asks for
      // a fresh ticket; a full handshake.
      const c = await startServe(args);
      let cExit;
      try {
        const r = await sClient(OPENSSL, c.port, ["-sess_in", sess]);
        assert.equal(r.handshake, "New", r.stdout + r.stderr);
        await c.waitForLine(/^handshake /);
      } finally {
        cExit = await c.stop();
      }
      assert.match(
        cExit.stdout,
        /^ticket keys: random, made at start \(sessions resume only while this process runs\)$/m,
      );
      assert.match(
        cExit.stdout,
        new RegExp(
          `^handshake 127\\.0\\.0\\.1:\\d+ full ${SUITE} x25519 dec_cb NO_DECRYPT->IGNORE_RENEW tickets=2$`,
          "m",
        ),
      );
    });
  },
});

Deno.test({
  name:
    "cli serve: curl's second request (Connection: close, so a new connection) resumes the session of its first; the page says so, with the app data",
  ignore: whyCurl !== null,
  async fn() {
    const { certFile, keyFile } = await testCredentials("P-256");
    const s = await startServe(["--cert", certFile, "--key", keyFile, "--port", "0"]);
    let exit;
    try {
      const url = `https://127.0.0.1:${s.port}/`;
      const r = await runCommand(
        "curl",
        ["-sSk", "--max-time", "10", "-H", "Connection: close", url, url],
        { timeoutMs: 15_000 },
      );
      assert.equal(r.code, 0, r.stderr);
      const pages = r.stdout.split(/^(?=session-tickets serve )/m);
      assert.equal(pages.length, 2, r.stdout);
      assert.match(pages[0], new RegExp(`^session-tickets serve \\(process ${s.pid}\\)$`, "m"));
      assert.match(pages[0], /^connection: 127\.0\.0\.1:\d+, request 1 on this connection$/m);
      assert.match(pages[0], /^resumed: no /m);
      assert.match(
        pages[0],
        new RegExp(`^TLSv1\\.3 ${SUITE}, key exchange x25519, ALPN http/1\\.1, SNI none$`, "m"),
      );
      assert.match(pages[0], /^tickets sent after the handshake: 2$/m);
      assert.match(
        pages[1],
        /^resumed: yes \(from the client's session ticket, PSK identity 0\)$/m,
      );
      assert.match(pages[1], /^dec_cb: SUCCESS_RENEW->USE_RENEW /m);
      assert.match(pages[1], new RegExp(`^ticket app data: ${APP_DATA(s.pid)} \\(carried`, "m"));
      assert.match(pages[1], /^tickets sent after the handshake: 1$/m);
      const app0 = /^ticket app data: (".*?")/m.exec(pages[0])![1];
      const app1 = /^ticket app data: (".*?")/m.exec(pages[1])![1];
      assert.equal(app1, app0, "the resumed session carries the app data of the first");
      await s.waitForLine(/^handshake .* resumed /);
    } finally {
      exit = await s.stop();
    }
    const lines = exit.stdout.split("\n").filter((l) => l.startsWith("handshake "));
    assert.equal(lines.length, 2, exit.stdout);
    assert.match(
      lines[0],
      new RegExp(`^handshake 127\\.0\\.0\\.1:\\d+ full ${SUITE} x25519 alpn=http/1\\.1 tickets=2$`),
    );
    assert.match(
      lines[1],
      new RegExp(
        `^handshake 127\\.0\\.0\\.1:\\d+ resumed ${SUITE} x25519 alpn=http/1\\.1 dec_cb SUCCESS_RENEW->USE_RENEW app-data=${
          APP_DATA(s.pid)
        } tickets=1$`,
      ),
    );
    assert.match(exit.stdout, /^stopped \(SIGTERM\) after 2 handshakes, 1 resumed$/m);
  },
});

Deno.test({
  name:
    "cli serve keeps a connection open until the client closes it: curl's two requests share one connection (one handshake, request 2 on it)",
  ignore: whyCurl !== null,
  async fn() {
    const { certFile, keyFile } = await testCredentials("P-256");
    const s = await startServe(["--cert", certFile, "--key", keyFile, "--port", "0"]);
    let exit;
    try {
      const url = `https://127.0.0.1:${s.port}/`;
      const r = await runCommand("curl", ["-sSk", "--max-time", "10", url, url], {
        timeoutMs: 15_000,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /request 1 on this connection[^]*request 2 on this connection/);
    } finally {
      exit = await s.stop();
    }
    assert.equal(exit.stdout.split("\n").filter((l) => l.startsWith("handshake ")).length, 1);
  },
});

Deno.test("cli serve: usage errors and unusable files are one error line with exit 2 or 1", async () => {
  const { certFile, keyFile } = await testCredentials("P-256");
  const base = ["serve", "--cert", certFile, "--key", keyFile, "--port", "0"];
  const cases: [string[], number, string][] = [
    [["serve"], 2, "error: serve needs --cert FILE and --key FILE"],
    [["serve", "--cert", certFile], 2, "error: serve needs --cert FILE and --key FILE"],
    [[...base, "extra"], 2, 'error: serve takes no arguments, got "extra"'],
    [["serve", "--cert", certFile, "--key", keyFile, "--port", "65536"], 2, "error: --port takes"],
    [[...base, "--keys", "k", "--store", "kv:x"], 2, "error: give --keys FILE or --store S"],
    [[...base, "--layout", "openssl-80"], 2, "error: --layout goes with --keys FILE"],
    [[...base, "--prefix", "p"], 2, "error: --prefix goes with --store"],
    [[...base, "--keys", "k"], 2, "error: serve --keys needs --layout L"],
    [[...base, "--keys", "k", "--layout", "x"], 2, 'error: unknown ticket key layout "x"'],
    [[...base, "--store", "zk:x"], 2, "error: --store must be kv:PATH or etcd:"],
    [[...base, "--store", "kv:x", "--rotation-interval", "soon"], 2, "error: --rotation-interval"],
    [[...base, "--alpn", ""], 2, "error: --alpn takes protocol names"],
    [
      ["serve", "--cert", "/nonexistent/c", "--key", keyFile],
      1,
      "error: cannot read certificate file /nonexistent/c: no such file",
    ],
    [
      [...base, "--keys", "/nonexistent/k", "--layout", "openssl-80"],
      1,
      "error: cannot read key file /nonexistent/k",
    ],
    [
      ["serve", "--cert", keyFile, "--key", keyFile, "--port", "0"],
      1,
      `error: cannot use --cert ${keyFile} with --key ${keyFile}: `,
    ],
  ];
  for (const [args, code, start] of cases) {
    const r = await cli(args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.err}`);
    assert.ok(r.err.startsWith(start), `${args.join(" ")}: stderr ${JSON.stringify(r.err)}`);
    assert.equal(r.err.split("\n").length, 2, "one line");
    assert.equal(r.out, "");
  }
  // A key file of the wrong size names the layout that fits.
  await inTemp(async (dir) => {
    await Deno.writeFile(`${dir}/k`, new Uint8Array(48));
    const r = await cli([...base, "--keys", `${dir}/k`, "--layout", "openssl-80"]);
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: openssl-80 keys are 80 bytes, got 48 from .*; did you mean --layout openssl-48/,
    );
  });
  // A port in use.
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const r = await cli([...base.slice(0, -1), String(taken.addr.port)]);
    assert.equal(r.code, 1);
    assert.equal(
      r.err,
      `error: port ${taken.addr.port} on 127.0.0.1 is in use; pick another with --port (0: any free port)\n`,
    );
  } finally {
    taken.close();
  }
  const help = await cli(["serve", "--help"]);
  assert.equal(help.code, 0);
  assert.ok(help.out.startsWith("Usage: serve --cert FILE --key FILE"));
});

Deno.test({
  name:
    "the demo's self-signed certificate (RFC 5280 §4.1): openssl x509 reads v3, ecdsa-with-SHA256, CN=localhost, not a CA, SAN DNS:localhost and IP 127.0.0.1; openssl verify accepts its signature",
  ignore: whyOpenssl !== null,
  async fn() {
    await inTemp(async (dir) => {
      const { certPem, certDer } = await selfSignedCertificate();
      assert.equal(certDer[0], 0x30);
      await Deno.writeTextFile(`${dir}/cert.pem`, certPem);
      const text =
        (await runOpenssl(OPENSSL, ["x509", "-in", `${dir}/cert.pem`, "-noout", "-text"]))
          .stdout;
      assert.match(text, /Version: 3 \(0x2\)/);
      assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
      assert.match(text, /Issuer: CN = localhost/);
      assert.match(text, /Subject: CN = localhost/);
      assert.match(text, /NIST CURVE: P-256/);
      assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE/);
      assert.match(text, /DNS:localhost, IP Address:127\.0\.0\.1/);
      const v = await runOpenssl(OPENSSL, [
        "verify",
        "-CAfile",
        `${dir}/cert.pem`,
        "-check_ss_sig",
        `${dir}/cert.pem`,
      ], { check: false });
      assert.equal(v.stdout.trim(), `${dir}/cert.pem: OK`, v.stderr);
    });
  },
});
