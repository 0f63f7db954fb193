// One TLS server (1.3 and 1.2) of bench/handshake.ts, as a child process:
//
//   deno run -A bench/_handshake_server.ts <ours|ours-like-node|node|deno> <cert.pem> <key.pem>
//
// - ours: `listenTls` from ../tls.ts with `await SslContext.create(...)` (imported dynamically,
//   so the other kinds run before tls.ts exists); ours-like-node: the same server with Node's
//   ticket policy (a key callback returning 1, so no new ticket on a resumed TLS 1.3 handshake);
// - node: Node's `tls.createServer` (OpenSSL), a small script run by the `node` binary, which
//   inherits this process's stdin and stdout;
// - deno: `Deno.listenTls` (rustls).
//
// Each one listens on 127.0.0.1, port 0, and prints `{"port":…}` as its first stdout line. Per
// connection it completes the handshake, reads "ping\n", writes "pong\n" and closes. On stdin it
// answers each line "cpu" with one JSON line `{"user":…,"system":…,"errors":…}` from
// `process.cpuUsage()` (microseconds, whole process); "ours" adds the ticket sealer's call
// counts (`seals`, `opens`) and answers "ticketcost" with the CPU of one seal and one open,
// measured in place. End of stdin stops the server.
import process from "node:process";
import type { SslSession, TicketOpenResult, TicketSealer } from "../mod.ts";

const [kind, certPath, keyPath] = Deno.args;
if (!kind || !certPath || !keyPath) {
  console.error("usage: _handshake_server.ts <ours|ours-like-node|node|deno> <cert.pem> <key.pem>");
  Deno.exit(2);
}
const HOST = "127.0.0.1";
const enc = new TextEncoder();
const PONG = enc.encode("pong\n");
let errors = 0;

/** Reads stdin lines and answers them; exits when stdin ends. */
async function commands(answer: (line: string) => Promise<object | undefined>): Promise<never> {
  let buf = "";
  for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      const out = await answer(line);
      if (out) console.log(JSON.stringify(out));
    }
  }
  Deno.exit(0);
}

function cpu(extra: object = {}): object {
  const { user, system } = process.cpuUsage();
  return { user, system, errors, ...extra };
}

/** True once a "\n" arrived (or the peer closed). */
function hasNewline(chunk: Uint8Array): boolean {
  return chunk.includes(0x0a);
}

// ---------------------------------------------------------------------------------------------
// node: Node's tls.createServer, run by `node`; stdin and stdout go straight to it.

const NODE_SERVER = `
import tls from "node:tls";
import fs from "node:fs";
import crypto from "node:crypto";
import process from "node:process";
import readline from "node:readline";
let errors = 0;
const server = tls.createServer({
  key: fs.readFileSync(process.env.BENCH_KEY),
  cert: fs.readFileSync(process.env.BENCH_CERT),
  ticketKeys: crypto.randomBytes(48),
  minVersion: "TLSv1.2",
}, (sock) => {
  let done = false;
  sock.on("data", (d) => {
    if (!done && d.includes(10)) { done = true; sock.end("pong\\n"); }
  });
  sock.on("error", () => errors++);
});
server.on("tlsClientError", () => errors++);
server.listen(0, "${HOST}", () => console.log(JSON.stringify({ port: server.address().port })));
const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  if (line.trim() === "cpu") {
    const { user, system } = process.cpuUsage();
    console.log(JSON.stringify({ user, system, errors }));
  }
});
rl.on("close", () => process.exit(0));
`;

async function runNode(): Promise<never> {
  const child = new Deno.Command("node", {
    args: ["--input-type=module", "-e", NODE_SERVER],
    env: { BENCH_CERT: certPath, BENCH_KEY: keyPath },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const stop = () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  const status = await child.status;
  Deno.exit(status.code);
}

// ---------------------------------------------------------------------------------------------
// deno: Deno.listenTls (rustls).

async function runDeno(): Promise<never> {
  const listener = Deno.listenTls({
    hostname: HOST,
    port: 0,
    cert: await Deno.readTextFile(certPath),
    key: await Deno.readTextFile(keyPath),
  });
  console.log(JSON.stringify({ port: listener.addr.port }));
  (async () => {
    for await (const conn of listener) serveDeno(conn);
  })();
  return await commands((line) => Promise.resolve(line === "cpu" ? cpu() : undefined));
}

async function serveDeno(conn: Deno.TlsConn): Promise<void> {
  try {
    await conn.handshake();
    const buf = new Uint8Array(256);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null || hasNewline(buf.subarray(0, n))) break;
    }
    await conn.write(PONG);
  } catch {
    errors++;
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

// ---------------------------------------------------------------------------------------------
// ours: listenTls from ../tls.ts with a random 80-byte OpenSSL-layout ticket key (Node's ticket
// format), wrapped to count calls and to time them in place.

/** Counts seal and open calls of an inner sealer and keeps a sealed session for "ticketcost". */
class CountingSealer implements TicketSealer {
  seals = 0;
  opens = 0;
  lastSession: SslSession | null = null;
  lastTicket: Uint8Array | null = null;
  constructor(readonly inner: TicketSealer) {}
  async seal(session: SslSession): Promise<Uint8Array> {
    this.seals++;
    this.lastSession = session;
    const ticket = await this.inner.seal(session);
    this.lastTicket = ticket;
    return ticket;
  }
  open(ticket: Uint8Array): Promise<TicketOpenResult> {
    this.opens++;
    return this.inner.open(ticket);
  }
  lifetimeHint(sessionTimeout: number): number {
    return this.inner.lifetimeHint?.(sessionTimeout) ?? sessionTimeout;
  }
}

/**
 * CPU µs (user + system, whole process) of one seal and one open: the median of five samples,
 * each `rounds` × 16 calls in flight (a median, as one sample can catch a neighbour's burst).
 */
async function ticketCost(sealer: CountingSealer, rounds = 20): Promise<object> {
  const session = sealer.lastSession;
  const ticket = sealer.lastTicket;
  if (!session || !ticket) return { sealUs: null, openUs: null };
  const inner = sealer.inner;
  const batch = 16;
  const sample = async (op: () => Promise<unknown>) => {
    const c0 = process.cpuUsage();
    for (let r = 0; r < rounds; r++) await Promise.all(Array.from({ length: batch }, op));
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / (rounds * batch);
  };
  const time = async (op: () => Promise<unknown>) => {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) samples.push(await sample(op));
    return samples.sort((a, b) => a - b)[2];
  };
  await time(() => inner.seal(session)); // warm-up
  const sealUs = await time(() => inner.seal(session));
  const openUs = await time(() => inner.open(ticket));
  return { sealUs, openUs, ticketBytes: ticket.length };
}

/**
 * CPU µs (whole process) of the Web Crypto calls a resumed TLS_AES_256_GCM_SHA384 handshake of
 * this server makes besides the ticket's: the x25519 exchange (generate, import the client's
 * share, derive, export), four AES-GCM key imports (handshake and application keys, both
 * directions) and six record operations (encrypt: the flight, the NewSessionTicket, the reply,
 * close_notify; decrypt: the client's Finished and its data), 16 handshakes' worth in flight.
 */
async function webCryptoFloor(rounds = 100): Promise<object> {
  const peer = await crypto.subtle.generateKey({ name: "X25519" }, true, [
    "deriveBits",
  ]) as CryptoKeyPair;
  const share = new Uint8Array(await crypto.subtle.exportKey("raw", peer.publicKey));
  const fixed = await crypto.subtle.importKey("raw", new Uint8Array(32), "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
  const iv = new Uint8Array(12);
  const sealed = (n: number) =>
    crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: new Uint8Array(5) },
      fixed,
      new Uint8Array(n),
    );
  const finished = await sealed(49), data = await sealed(6);
  const one = async () => {
    const kp = await crypto.subtle.generateKey({ name: "X25519" }, true, [
      "deriveBits",
    ]) as CryptoKeyPair;
    const pub = await crypto.subtle.importKey("raw", share, { name: "X25519" }, false, []);
    await crypto.subtle.deriveBits({ name: "X25519", public: pub }, kp.privateKey, 256);
    await crypto.subtle.exportKey("raw", kp.publicKey);
    const keys = await Promise.all(
      Array.from(
        { length: 4 },
        () =>
          crypto.subtle.importKey("raw", new Uint8Array(32), "AES-GCM", false, [
            "encrypt",
            "decrypt",
          ]),
      ),
    );
    for (const n of [62, 260, 6, 2]) {
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: new Uint8Array(5) },
        keys[0],
        new Uint8Array(n),
      );
    }
    for (const c of [finished, data]) {
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv, additionalData: new Uint8Array(5) },
        fixed,
        c,
      );
    }
  };
  const batch = 16;
  for (let r = 0; r < 10; r++) await Promise.all(Array.from({ length: batch }, one));
  const c0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) await Promise.all(Array.from({ length: batch }, one));
  const c = process.cpuUsage(c0);
  return { floorUs: (c.user + c.system) / (rounds * batch) };
}

/**
 * ours: the default policy, plain ticket keys (OpenSSL's default path: a resumed TLS 1.3
 * handshake gets a new ticket). ours-like-node: the same key behind a ticket key callback that
 * answers 1 for its own key name, as Node's `ticketKeys` do, so a resumed TLS 1.3 handshake
 * gets no new ticket and the two servers do the same ticket work.
 */
async function runOurs(likeNode: boolean): Promise<never> {
  const { SslContext, TicketKey } = await import("../mod.ts");
  const { listenTls } = await import("../tls.ts");
  const key = await TicketKey.import(crypto.getRandomValues(new Uint8Array(80)), "openssl-80");
  const sealer = new CountingSealer(key);
  const keyName = key.name;
  const sameName = (name: Uint8Array) => name.every((b, i) => b === keyName[i]);
  const context = likeNode
    ? await SslContext.create({
      ticketKeyCb: (_conn, name, _iv, enc) => {
        if (enc) sealer.seals++;
        else sealer.opens++;
        return { ret: enc || sameName(name) ? 1 : 0, key };
      },
    })
    : await SslContext.create({ ticketKeys: sealer });
  const listener = await listenTls({
    hostname: HOST,
    port: 0,
    cert: await Deno.readTextFile(certPath),
    key: await Deno.readTextFile(keyPath),
    context,
  });
  console.log(JSON.stringify({ port: listener.addr.port }));
  (async () => {
    for await (const conn of listener) serveOurs(conn);
  })();
  return await commands(async (line) => {
    if (line === "cpu") return cpu({ seals: sealer.seals, opens: sealer.opens });
    if (line === "ticketcost") return await ticketCost(sealer);
    if (line === "webcrypto") return await webCryptoFloor();
    return undefined;
  });
}

/** The parts of a `TlsConnection` (../tls.ts) the benchmark uses. */
interface BenchConnection {
  handshake(): Promise<unknown>;
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  close(): Promise<void>;
}

async function serveOurs(conn: BenchConnection): Promise<void> {
  try {
    await conn.handshake();
    const reader = conn.readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done || hasNewline(value)) break;
    }
    reader.releaseLock();
    const writer = conn.writable.getWriter();
    await writer.write(PONG);
    writer.releaseLock();
  } catch {
    errors++;
  } finally {
    try {
      await conn.close();
    } catch { /* closed */ }
  }
}

// ---------------------------------------------------------------------------------------------

if (kind === "node") await runNode();
else if (kind === "deno") await runDeno();
else if (kind === "ours") await runOurs(false);
else if (kind === "ours-like-node") await runOurs(true);
else {
  console.error(`unknown server kind ${kind}: ours, ours-like-node, node or deno`);
  Deno.exit(2);
}
