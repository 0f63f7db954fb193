/**
 * Other real TLS 1.3 and TLS 1.2 clients against this module's server: Node's `tls.connect`
 * (OpenSSL inside) with `session` resumption and every cipher suite (TLS 1.2 with
 * `maxVersion`), `curl` (OpenSSL) fetching two URLs in one
 * run (the second connection resumes) against a bare HTTP answer and against `serveHttps`, and
 * Deno's own client (rustls): `Deno.connectTls` and `fetch` with `Deno.createHttpClient`.
 *
 * Node and curl tests are ignored, with the reason printed, when the program is missing (a
 * failure under `CI=true`); Deno's client needs only the openssl tool (test certificates).
 *
 * @module
 */
import assert from "node:assert/strict";
import { SslContext } from "../../mod.ts";
import { type HandshakeInfo, serveHttps, type TlsConnection } from "../../tls.ts";
import { type ServedConnection, startTlsServer, type TestTlsServer } from "../_tls_server.ts";
import { testChain, testCredentials } from "../_tls_certs.ts";
import { missing, run } from "./_peers.ts";
import { CLIENT_TIMEOUT_MS, nodeConnect } from "./_tls_clients.ts";

const whyNode = await missing(["node"]);
const whyCurl = await curlMissing();
const whyOpenssl = await missing(["openssl"]);
for (const [name, why] of [["node", whyNode], ["curl", whyCurl], ["openssl", whyOpenssl]]) {
  if (why !== null) console.warn(`tls_clients_test: skipping ${name} tests: ${why}`);
}

/** Why curl cannot be used (a failure under CI=true, like `missing`), or `null`. */
async function curlMissing(): Promise<string | null> {
  let reason: string | null = null;
  try {
    const r = await run("curl", ["--version"], { timeoutMs: 10_000 });
    if (r.code !== 0) reason = `\`curl --version\` exited with ${r.code}`;
    else if (!/^Protocols:.*\bhttps\b/m.test(r.stdout)) reason = "curl has no HTTPS support";
  } catch (e) {
    reason = e instanceof Deno.errors.NotFound
      ? "`curl` is not installed (not on PATH)"
      : `\`curl\` cannot run: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (reason !== null && Deno.env.get("CI") === "true") {
    throw new Error(`CI must skip nothing: curl: ${reason}`);
  }
  return reason;
}

/** The `n`th connection (1-based) once it has finished. */
async function served(server: TestTlsServer, n: number): Promise<ServedConnection> {
  const all = await server.waitFor(n);
  assert.ok(all.length >= n, `the server saw ${all.length} connections, expected ${n}`);
  return all[n - 1];
}

/** A minimal HTTP/1.1 server app: reads the request head, answers, closes. */
async function httpApp(conn: TlsConnection, info: HandshakeInfo): Promise<void> {
  const reader = conn.readable.getReader();
  let head = "";
  const decoder = new TextDecoder();
  while (!head.includes("\r\n\r\n")) {
    const { value, done } = await reader.read();
    if (done) return;
    head += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  const path = /^GET (\S+) HTTP\/1\.1\r\n/.exec(head)?.[1] ?? "?";
  const body = `${path} resumed=${info.resumed}\n`;
  const writer = conn.writable.getWriter();
  await writer.write(
    new TextEncoder().encode(
      `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n` +
        `Connection: close\r\n\r\n${body}`,
    ),
  );
  writer.releaseLock();
}

/** Runs curl once with a time limit (TLS 1.3 unless `args` say otherwise); `-w` lines follow each body. */
async function curl(args: string[]) {
  const version = args.includes("--tls-max") ? [] : ["--tlsv1.3"];
  return await run("curl", ["-sS", "-k", ...version, "--max-time", "8", ...args], {
    timeoutMs: CLIENT_TIMEOUT_MS,
  });
}

Deno.test({
  name: "RFC 5077 §3.1 Node tls.connect({ session, maxVersion: 'TLSv1.2' }) resumes by ticket; " +
    "ECDSA and RSA certificates, both AES-GCM suites",
  ignore: whyNode !== null || whyOpenssl !== null,
}, async () => {
  for (const kind of ["P-256", "RSA"] as const) {
    const { certPem, keyPem } = await testCredentials(kind);
    const server = await startTlsServer({
      cert: certPem,
      key: keyPem,
      context: await SslContext.create(),
    });
    try {
      const auth = kind === "RSA" ? "RSA" : "ECDSA";
      const suites = [`ECDHE-${auth}-AES128-GCM-SHA256`, `ECDHE-${auth}-AES256-GCM-SHA384`];
      const results = await nodeConnect(
        server.port,
        suites.flatMap((ciphers) => [
          { ciphers, maxVersion: "TLSv1.2" as const },
          { ciphers, maxVersion: "TLSv1.2" as const, resume: true },
        ]),
      );
      assert.deepEqual(results.map((r) => r.error), [null, null, null, null]);
      assert.deepEqual(results.map((r) => r.protocol), Array(4).fill("TLSv1.2"));
      assert.deepEqual(results.map((r) => r.reused), [false, true, false, true]);
      assert.deepEqual(
        results.map((r) => r.data),
        ["hello new\n", "hello resumed\n", "hello new\n", "hello resumed\n"],
      );
      const conns = await server.waitFor(4);
      assert.deepEqual(conns.map((c) => c.error), [null, null, null, null]);
      assert.deepEqual(conns.map((c) => c.info!.version), Array(4).fill("TLSv1.2"));
      assert.deepEqual(conns.map((c) => c.info!.resumed), [false, true, false, true]);
      assert.deepEqual(conns.map((c) => c.info!.cipherSuite), suites.flatMap((s) => [s, s]));
      // One ticket per full handshake; a resumed SUCCESS ticket is not renewed (no dec_cb).
      assert.deepEqual(conns.map((c) => c.info!.ticketsSent), [1, 0, 1, 0]);
    } finally {
      await server.stop();
    }
  }
});

Deno.test({
  name: "RFC 5077 §3.1 curl --tls-max 1.2 two URLs in one run: the second connection resumes",
  ignore: whyCurl !== null || whyOpenssl !== null,
}, async () => {
  const { certPem, keyPem } = await testCredentials("RSA");
  const server = await startTlsServer({
    cert: certPem,
    key: keyPem,
    context: await SslContext.create(),
    alpnProtocols: ["http/1.1"],
    app: httpApp,
  });
  try {
    const base = `https://127.0.0.1:${server.port}`;
    const r = await curl([
      "--tlsv1.2",
      "--tls-max",
      "1.2",
      "-w",
      "%{http_code} %{num_connects}\n",
      `${base}/a`,
      `${base}/b`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "/a resumed=false\n200 1\n/b resumed=true\n200 1\n");
    const conns = await server.waitFor(2);
    assert.deepEqual(conns.map((c) => c.info!.version), ["TLSv1.2", "TLSv1.2"]);
    assert.deepEqual(conns.map((c) => c.info!.resumed), [false, true]);
    assert.deepEqual(conns.map((c) => c.info!.alpnProtocol), ["http/1.1", "http/1.1"]);
  } finally {
    await server.stop();
  }
});

Deno.test({
  name: "Node tls.connect: full handshake, then { session } resumes; both TLS 1.3 suites",
  ignore: whyNode !== null || whyOpenssl !== null,
}, async () => {
  const { certPem, keyPem } = await testCredentials("P-256");
  const server = await startTlsServer({
    cert: certPem,
    key: keyPem,
    context: await SslContext.create(),
  });
  try {
    const suites = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"];
    const results = await nodeConnect(
      server.port,
      suites.flatMap((ciphers) => [{ ciphers }, { ciphers, resume: true }]),
    );
    assert.deepEqual(results.map((r) => r.error), [null, null, null, null]);
    assert.deepEqual(results.map((r) => r.protocol), Array(4).fill("TLSv1.3"));
    assert.deepEqual(results.map((r) => r.cipher), suites.flatMap((s) => [s, s]));
    assert.deepEqual(results.map((r) => r.reused), [false, true, false, true]);
    assert.deepEqual(
      results.map((r) => r.data),
      ["hello new\n", "hello resumed\n", "hello new\n", "hello resumed\n"],
    );
    // Two NewSessionTickets after a full handshake, one after a resumption (dec_cb absent:
    // SUCCESS_RENEW renews).
    assert.deepEqual(results.map((r) => r.sessions), [2, 1, 2, 1]);
    const conns = await server.waitFor(4);
    assert.deepEqual(conns.map((c) => c.error), [null, null, null, null]);
    assert.deepEqual(conns.map((c) => c.info!.resumed), [false, true, false, true]);
    assert.deepEqual(conns.map((c) => c.info!.cipherSuite), suites.flatMap((s) => [s, s]));
    assert.deepEqual(conns.map((c) => c.info!.ticketsSent), [2, 1, 2, 1]);
  } finally {
    await server.stop();
  }
});

Deno.test({
  name: "curl --tlsv1.3 two URLs in one run: the second connection resumes (bare HTTP/1.1 answer)",
  ignore: whyCurl !== null || whyOpenssl !== null,
}, async () => {
  const { certPem, keyPem } = await testCredentials("P-256");
  const server = await startTlsServer({
    cert: certPem,
    key: keyPem,
    context: await SslContext.create(),
    alpnProtocols: ["http/1.1"],
    app: httpApp,
  });
  try {
    const base = `https://127.0.0.1:${server.port}`;
    const r = await curl(["-w", "%{http_code} %{num_connects}\n", `${base}/a`, `${base}/b`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "/a resumed=false\n200 1\n/b resumed=true\n200 1\n");
    const conns = await server.waitFor(2);
    assert.deepEqual(conns.map((c) => c.info!.resumed), [false, true]);
    assert.deepEqual(conns.map((c) => c.info!.alpnProtocol), ["http/1.1", "http/1.1"]);
    assert.equal(conns[1].info!.pskIdentity, 0);
  } finally {
    await server.stop();
  }
});

Deno.test({
  name: "serveHttps with curl: 200, and the body shows the second connection resumed",
  ignore: whyCurl !== null || whyOpenssl !== null,
}, async () => {
  const { certPem, keyPem } = await testCredentials("P-256");
  const seen: boolean[] = [];
  const server = await serveHttps(
    { port: 0, cert: certPem, key: keyPem, context: await SslContext.create() },
    (req, { handshake }) => {
      seen.push(handshake.resumed);
      return new Response(`${new URL(req.url).pathname} resumed=${handshake.resumed}\n`);
    },
  );
  try {
    const base = `https://127.0.0.1:${server.addr.port}`;
    // Connection: close makes curl open a second connection, which offers the ticket.
    const r = await curl([
      "-H",
      "Connection: close",
      "-w",
      "%{http_code} %{http_version}\n",
      `${base}/a`,
      `${base}/b`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "/a resumed=false\n200 1.1\n/b resumed=true\n200 1.1\n");
    assert.deepEqual(seen, [false, true]);
  } finally {
    await server.shutdown();
  }
});

Deno.test({
  // Deno's node:http destroys the socket after a response unless `server.listening`;
  // serveHttps reports its node:http server as listening so keep-alive works.
  ignore: whyCurl !== null || whyOpenssl !== null,
  name: "serveHttps keeps an HTTP/1.1 connection open (RFC 9112 §9.3): curl reuses it for /b",
}, async () => {
  const { certPem, keyPem } = await testCredentials("P-256");
  const server = await serveHttps(
    { port: 0, cert: certPem, key: keyPem, context: await SslContext.create() },
    (req, { handshake }) =>
      new Response(`${new URL(req.url).pathname} resumed=${handshake.resumed}\n`),
  );
  try {
    const base = `https://127.0.0.1:${server.addr.port}`;
    const r = await curl(["-w", "%{http_code} %{num_connects}\n", `${base}/a`, `${base}/b`]);
    assert.equal(r.code, 0, r.stderr);
    // Same connection: no new connect, and (same handshake) not resumed.
    assert.equal(r.stdout, "/a resumed=false\n200 1\n/b resumed=false\n200 0\n");
  } finally {
    await server.shutdown();
  }
});

Deno.test({
  name: "Deno.connectTls (rustls) completes handshakes; a second connectTls is not resumed",
  ignore: whyOpenssl !== null,
}, async () => {
  // rustls (webpki) rejects a self-signed CA certificate used as the server's own
  // (CaUsedAsEndEntity), so the server presents a leaf issued by a test CA.
  const chain = await testChain("P-256");
  const server = await startTlsServer({
    cert: chain.certPem,
    key: chain.keyPem,
    context: await SslContext.create(),
    alpnProtocols: ["http/1.1"],
  });
  try {
    const greetings: string[] = [];
    const alpn: (string | null)[] = [];
    for (let i = 0; i < 2; i++) {
      const conn = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: server.port,
        caCerts: [chain.caPem],
        alpnProtocols: ["h2", "http/1.1"],
      });
      try {
        alpn.push((await conn.handshake()).alpnProtocol);
        const buf = new Uint8Array(64);
        const n = await conn.read(buf);
        greetings.push(new TextDecoder().decode(buf.subarray(0, n ?? 0)));
      } finally {
        conn.close();
      }
      await served(server, i + 1);
    }
    assert.deepEqual(alpn, ["http/1.1", "http/1.1"]);
    const conns = await server.waitFor(2);
    for (const c of conns) {
      assert.equal(c.info?.version, "TLSv1.3");
      assert.equal(c.info!.signatureScheme, "ecdsa_secp256r1_sha256");
    }
    // Observed with Deno 2.9.6: each Deno.connectTls has its own client config and session
    // store, so the second connection offers no ticket and is a full handshake.
    assert.deepEqual(conns.map((c) => c.info!.resumed), [false, false]);
    assert.deepEqual(conns.map((c) => c.info!.decCbCalls.length), [0, 0]);
    assert.deepEqual(greetings, ["hello new\n", "hello new\n"]);
  } finally {
    await server.stop();
  }
});

Deno.test({
  name:
    "fetch with Deno.createHttpClient against serveHttps: 200; the client's second connection resumes",
  ignore: whyOpenssl !== null,
}, async () => {
  const chain = await testChain("P-256");
  const server = await serveHttps(
    { port: 0, cert: chain.certPem, key: chain.keyPem, context: await SslContext.create() },
    (req, { handshake }) =>
      new Response(`${new URL(req.url).pathname} resumed=${handshake.resumed}`, {
        headers: { "x-alpn": handshake.alpnProtocol ?? "none" },
      }),
  );
  const client = Deno.createHttpClient({ caCerts: [chain.caPem] });
  try {
    const out: string[] = [];
    for (const path of ["/one", "/two"]) {
      // Connection: close, so the second request needs a new connection (and offers a ticket).
      const res = await fetch(`https://127.0.0.1:${server.addr.port}${path}`, {
        client,
        headers: { connection: "close" },
        signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
      });
      out.push(`${res.status} ${res.headers.get("x-alpn")} ${await res.text()}`);
    }
    // Observed with Deno 2.9.6: one HttpClient keeps its tickets, so its next connection
    // resumes (unlike two Deno.connectTls calls).
    assert.deepEqual(out, ["200 http/1.1 /one resumed=false", "200 http/1.1 /two resumed=true"]);
  } finally {
    client.close();
    await server.shutdown();
  }
});
