// The load client of bench/handshake.ts: Node's TLS client (OpenSSL), run by `node`, the same one
// against every server. It reads one JSON command a line on stdin and answers each with one JSON
// line on stdout:
//
//   {"mode":"full"|"resumed"|"prime","version":"TLSv1.3"|"TLSv1.2","host":"127.0.0.1",
//    "port":1234,"n":2000,"concurrency":16,"maxMs":20000}
//   → {"mode":..,"count":..,"reused":..,"failed":..,"elapsedMs":..,"clientCpuUs":..,
//      "pool":..,"errors":[..]}
//
// Every handshake is of the given version (default TLS 1.3; min and max pinned) followed by a tiny exchange: the client writes "ping\n" and waits
// for "pong\n", which the server sends after its NewSessionTickets, so every ticket has been
// read (and Node's "session" event fired) before the client closes. "full" offers no session.
// "resumed" offers a session from the pool: tickets received on earlier connections, newest
// first, each used once (RFC 8446 §C.4; rustls keeps TLS 1.3 tickets single-use) unless the
// server sent no new ticket on resumption (OpenSSL in TLS 1.3; any TLS 1.2 server that does not
// renew), when the same one is offered again. Pools are per server and version. "prime"
// runs full handshakes until the pool for that server holds `concurrency` sessions. At most
// `concurrency` handshakes are in flight; no new one starts after `maxMs`.
import tls from "node:tls";
import process from "node:process";
import readline from "node:readline";

const PING = "ping\n";
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Sessions kept per server (oldest dropped first). */
const POOL_MAX = 256;

/** @type {Map<string, unknown[]>} server "host:port" → sessions, newest last */
const pools = new Map();

function pool(host, port, version) {
  const id = `${host}:${port}:${version}`;
  let p = pools.get(id);
  if (!p) pools.set(id, p = []);
  return p;
}

/**
 * One connection: resolves `{ reused, sessions }` once the server's "pong" arrived and the
 * socket closed.
 */
function connectOnce(host, port, session, version) {
  return new Promise((resolve, reject) => {
    const sessions = [];
    let reused = false;
    let got = "";
    let ponged = false;
    const sock = tls.connect({
      host,
      port,
      rejectUnauthorized: false,
      minVersion: version,
      maxVersion: version,
      session,
    });
    const timer = setTimeout(() => sock.destroy(new Error("timeout")), HANDSHAKE_TIMEOUT_MS);
    sock.on("session", (s) => sessions.push(s));
    sock.once("secureConnect", () => {
      reused = sock.isSessionReused();
      sock.write(PING);
    });
    sock.on("data", (d) => {
      got += d.toString("latin1");
      if (!ponged && got.includes("pong\n")) {
        ponged = true;
        sock.end();
      }
    });
    sock.on("end", () => sock.end());
    sock.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.once("close", () => {
      clearTimeout(timer);
      if (ponged) resolve({ reused, sessions });
      else reject(new Error(`closed before "pong" (got ${JSON.stringify(got.slice(0, 40))})`));
    });
  });
}

async function run(cmd) {
  const { mode, host, port } = cmd;
  const version = cmd.version ?? "TLSv1.3";
  if (version !== "TLSv1.3" && version !== "TLSv1.2") throw new Error(`bad version ${version}`);
  const concurrency = Math.max(1, cmd.concurrency | 0);
  const sessions = pool(host, port, version);
  if (mode === "prime") sessions.length = 0;
  const n = mode === "prime" ? Number.MAX_SAFE_INTEGER : cmd.n | 0;
  const deadline = Date.now() + (cmd.maxMs ?? 60_000);
  const errors = [];
  let started = 0;
  let count = 0;
  let reused = 0;
  let failed = 0;
  const done = () => {
    if (Date.now() > deadline) return true;
    if (mode === "prime") return sessions.length >= concurrency || started >= 10 * concurrency;
    return started >= n;
  };

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  async function worker() {
    while (!done()) {
      started++;
      const offer = mode === "resumed" ? sessions.pop() : undefined;
      try {
        const r = await connectOnce(host, port, offer, version);
        count++;
        if (r.reused) reused++;
        if (mode !== "full") {
          // OpenSSL sends no new ticket on a resumed TLS 1.3 handshake (its stateless tickets
          // stay valid): then the offered session goes back for another connection.
          if (r.reused && r.sessions.length === 0) sessions.unshift(offer);
          sessions.push(...r.sessions);
          if (sessions.length > POOL_MAX) sessions.splice(0, sessions.length - POOL_MAX);
        }
      } catch (e) {
        failed++;
        if (errors.length < 5) errors.push(String(e?.message ?? e));
        if (failed > 50 && failed > count) break; // the server is down: stop early
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    mode,
    count,
    reused,
    failed,
    elapsedMs,
    clientCpuUs: cpu.user + cpu.system,
    pool: sessions.length,
    errors,
  };
}

const rl = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
rl.on("line", (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    let out;
    try {
      out = await run(JSON.parse(line));
    } catch (e) {
      out = { error: String(e?.stack ?? e) };
    }
    process.stdout.write(JSON.stringify(out) + "\n");
  });
});
rl.on("close", () => queue.then(() => process.exit(0)));
