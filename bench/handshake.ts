// TLS handshake benchmark: this project's server (`listenTls`, ../tls.ts), Node's
// `tls.createServer` (OpenSSL) and `Deno.listenTls` (rustls), each loaded by the same Node client
// (bench/_handshake_client.mjs) in the same run, with full and with resumed handshakes, in TLS 1.3
// and in TLS 1.2 (the client pins the version; a server or version that fails is reported as
// unavailable, the others still run).
//
// Run: deno run -A bench/handshake.ts [--n 2000] [--concurrency 16] [--rounds 2] [--warmup 300]
//        [--servers ours,ours-like-node,node,deno] [--versions 1.3,1.2] [--max-ms 15000] [--json]
//
// All servers start together and take turns: after a warm-up each, every round runs a full and a
// resumed phase on each server in order, so drift in the machine's load is shared between them.
// Each server is a child process (bench/_handshake_server.ts) that reports its own CPU time
// (`process.cpuUsage()`, user + system) on request; the driver reads it just before and just
// after each phase, so a phase's server CPU is the delta and "server µs per handshake" is that
// delta over the handshakes the client completed. On a small shared machine the load client is
// usually the bottleneck, so handshakes per second mostly measure the client; the CPU per
// handshake is the figure to compare. A phase stops starting handshakes after --max-ms (warm-up:
// 5 s), so a slow server costs at most about 5 × max-ms. All sockets are on 127.0.0.1; every
// child process is stopped before the driver exits.

type Kind = "ours" | "ours-like-node" | "node" | "deno";
const KINDS: readonly Kind[] = ["ours", "ours-like-node", "node", "deno"];
type Version = "1.3" | "1.2";
const VERSIONS: readonly Version[] = ["1.3", "1.2"];
type Mode = "full" | "resumed";
const MODES: readonly Mode[] = ["full", "resumed"];

interface Options {
  n: number;
  concurrency: number;
  rounds: number;
  warmup: number;
  maxMs: number;
  servers: Kind[];
  versions: Version[];
  json: boolean;
}

function parseOptions(args: string[]): Options {
  const o: Options = {
    n: 2000,
    concurrency: 16,
    rounds: 2,
    warmup: 300,
    maxMs: 15_000,
    servers: [...KINDS],
    versions: [...VERSIONS],
    json: false,
  };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split("=", 2);
    const value = () => inline ?? args[++i];
    const int = (min: number) => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < min) throw new TypeError(`${flag} wants an integer ≥ ${min}`);
      return v;
    };
    switch (flag) {
      case "--n":
        o.n = int(1);
        break;
      case "--concurrency":
      case "-c":
        o.concurrency = int(1);
        break;
      case "--rounds":
        o.rounds = int(1);
        break;
      case "--warmup":
        o.warmup = int(0);
        break;
      case "--max-ms":
        o.maxMs = int(1);
        break;
      case "--servers": {
        const list = value().split(",").map((s) => s.trim()).filter(Boolean);
        const bad = list.filter((s) => !KINDS.includes(s as Kind));
        if (bad.length || !list.length) throw new TypeError(`--servers: one or more of ${KINDS}`);
        o.servers = list as Kind[];
        break;
      }
      case "--versions": {
        const list = value().split(",").map((s) => s.trim()).filter(Boolean);
        const bad = list.filter((s) => !VERSIONS.includes(s as Version));
        if (bad.length || !list.length) {
          throw new TypeError(`--versions: one or more of ${VERSIONS}`);
        }
        o.versions = list as Version[];
        break;
      }
      case "--json":
        o.json = true;
        break;
      case "--help":
      case "-h":
        console.log(
          "deno run -A bench/handshake.ts [--n 2000] [--concurrency 16] [--rounds 2] " +
            "[--warmup 300] [--servers ours,ours-like-node,node,deno] [--versions 1.3,1.2] [--max-ms 15000] [--json]",
        );
        Deno.exit(0);
        break;
      default:
        throw new TypeError(`unknown option ${args[i]}`);
    }
  }
  return o;
}

/** A child process spoken to in lines: one command line in, one JSON line out. */
class LineChild {
  #proc: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  #stderr = "";
  #stderrDone: Promise<void>;

  constructor(readonly name: string, command: string, args: string[]) {
    const proc = new Deno.Command(command, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#proc = proc;
    this.#writer = proc.stdin.getWriter();
    this.#lines = lines(proc.stdout)[Symbol.asyncIterator]();
    this.#stderrDone = (async () => {
      for await (const chunk of proc.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr = (this.#stderr + chunk).slice(-4000);
      }
    })().catch(() => {});
  }

  /** The end of what the child wrote to stderr. */
  get stderr(): string {
    return stripAnsi(this.#stderr).trim();
  }

  async send(line: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(line + "\n"));
  }

  /** The next stdout line as JSON, within `timeoutMs`. */
  async next<T = Record<string, unknown>>(timeoutMs: number): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name}: no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      const r = await Promise.race([this.#lines.next(), timeout]);
      if (r.done) throw new Error(`${this.name} exited`);
      return JSON.parse(r.value) as T;
    } finally {
      clearTimeout(timer);
    }
  }

  async request<T = Record<string, unknown>>(line: string, timeoutMs: number): Promise<T> {
    await this.send(line);
    return await this.next<T>(timeoutMs);
  }

  /** Closes stdin (the children exit on end of input), then kills after a grace period. */
  async stop(): Promise<void> {
    await this.#writer.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      this.#proc.status.then(() => true),
      new Promise<boolean>((r) => timer = setTimeout(() => r(false), 3000)),
    ]);
    clearTimeout(timer);
    if (!exited) {
      try {
        this.#proc.kill("SIGKILL");
      } catch { /* gone */ }
      await this.#proc.status;
    }
    await this.#lines.return?.();
    await this.#stderrDone;
  }
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buf = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let i;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) yield line;
    }
  }
}

interface Cpu {
  user: number;
  system: number;
  errors: number;
  seals?: number;
  opens?: number;
}

interface ClientResult {
  mode: string;
  count: number;
  reused: number;
  failed: number;
  elapsedMs: number;
  clientCpuUs: number;
  errors: string[];
  error?: string;
}

/** Totals of one server and mode over all rounds. */
interface Phase {
  count: number;
  reused: number;
  failed: number;
  elapsedMs: number;
  serverCpuUs: number;
  clientCpuUs: number;
  serverErrors: number;
  seals: number;
  opens: number;
  clientErrors: string[];
}

/** One server's phases by version ("1.3", "1.2"), each with full and resumed totals. */
interface VersionResult {
  unavailable?: string;
  full?: Phase;
  resumed?: Phase;
}

interface ServerResult {
  kind: Kind;
  unavailable?: string;
  versions: Partial<Record<Version, VersionResult>>;
  ticketCost?: { sealUs: number | null; openUs: number | null; ticketBytes?: number };
  webCrypto?: { floorUs: number | null };
}

const emptyPhase = (): Phase => ({
  count: 0,
  reused: 0,
  failed: 0,
  elapsedMs: 0,
  serverCpuUs: 0,
  clientCpuUs: 0,
  serverErrors: 0,
  seals: 0,
  opens: 0,
  clientErrors: [],
});

const HOST = "127.0.0.1";
// deno-lint-ignore no-control-regex
const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");
const here = (file: string) => decodeURIComponent(new URL(file, import.meta.url).pathname);

async function makeCertificate(dir: string): Promise<{ cert: string; key: string }> {
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const out = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "2",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`openssl req failed: ${new TextDecoder().decode(out.stderr)}`);
  }
  return { cert, key };
}

/**
 * One server under test: its child process and its totals. All servers run at once, idle when
 * not loaded, and take turns round by round, so a change in the machine's load (two shared cores)
 * falls on all of them alike and the ratios between them stay fair.
 */
class ServerUnderTest {
  readonly result: ServerResult;
  #server: LineChild;
  #port = 0;

  constructor(readonly kind: Kind, files: { cert: string; key: string }) {
    this.result = { kind, versions: {} };
    this.#server = new LineChild(kind, Deno.execPath(), [
      "run",
      "-A",
      here("./_handshake_server.ts"),
      kind,
      files.cert,
      files.key,
    ]);
  }

  /** Waits for the port; false (and `unavailable` set) when the server did not start. */
  async start(): Promise<boolean> {
    try {
      ({ port: this.#port } = await this.#server.next<{ port: number }>(60_000));
      return true;
    } catch (e) {
      const stderr = this.#server.stderr;
      const why = stderr.split("\n").find((l) => /error/i.test(l)) ?? stderr;
      this.result.unavailable = `${(e as Error).message}${why ? `: ${why.slice(0, 300)}` : ""}`;
      return false;
    }
  }

  /** Whether `version` still runs on this server (it did not fail before). */
  runs(version: Version): boolean {
    return !this.result.unavailable && !this.result.versions[version]?.unavailable;
  }

  #run(client: LineChild, o: Options, version: Version, mode: string, n: number, maxMs: number) {
    return client.request<ClientResult>(
      JSON.stringify({
        mode,
        version: `TLSv${version}`,
        host: HOST,
        port: this.#port,
        n,
        concurrency: o.concurrency,
        maxMs,
      }),
      o.maxMs + 30_000,
    ).then((r) => {
      if (r.error) throw new Error(`client: ${r.error}`);
      if (r.count === 0) {
        throw new Error(`${this.kind}: no handshake completed: ${r.errors.join("; ")}`);
      }
      return r;
    });
  }

  /** Runs `phases` for `version`, recording a failure as that version being unavailable. */
  async #guard(version: Version, phases: () => Promise<void>): Promise<void> {
    try {
      await phases();
    } catch (e) {
      this.result.versions[version] = { unavailable: (e as Error).message.slice(0, 300) };
    }
  }

  /** Unmeasured full and resumed handshakes (JIT, caches, pools). */
  warmUp(client: LineChild, o: Options, version: Version): Promise<void> {
    return this.#guard(version, async () => {
      const warmMs = Math.min(o.maxMs, 5000);
      await this.#run(client, o, version, "full", o.warmup, warmMs);
      await this.#run(client, o, version, "prime", 0, warmMs);
      await this.#run(client, o, version, "resumed", o.warmup, warmMs);
    });
  }

  /** One measured round: a full phase, then a resumed one, each between two CPU readings. */
  round(client: LineChild, o: Options, version: Version): Promise<void> {
    return this.#guard(version, async () => {
      const v = this.result.versions[version] ??= { full: emptyPhase(), resumed: emptyPhase() };
      for (const mode of MODES) {
        if (mode === "resumed") await this.#run(client, o, version, "prime", 0, o.maxMs);
        const c0 = await this.#cpu();
        const r = await this.#run(client, o, version, mode, o.n, o.maxMs);
        const c1 = await this.#cpu();
        const p = v[mode]!;
        p.count += r.count;
        p.reused += r.reused;
        p.failed += r.failed;
        p.elapsedMs += r.elapsedMs;
        p.clientCpuUs += r.clientCpuUs;
        p.serverCpuUs += c1.user + c1.system - c0.user - c0.system;
        p.serverErrors += c1.errors - c0.errors;
        p.seals += (c1.seals ?? 0) - (c0.seals ?? 0);
        p.opens += (c1.opens ?? 0) - (c0.opens ?? 0);
        p.clientErrors.push(...r.errors.slice(0, 3 - p.clientErrors.length));
      }
    });
  }

  #cpu(): Promise<Cpu> {
    return this.#server.request<Cpu>("cpu", 10_000);
  }

  /** ours: the in-place cost of one ticket seal and open, and of the other Web Crypto calls. */
  async extras(): Promise<void> {
    if (this.kind !== "ours" || this.result.unavailable) return;
    try {
      this.result.ticketCost = await this.#server.request("ticketcost", 60_000);
      this.result.webCrypto = await this.#server.request("webcrypto", 60_000);
    } catch (e) {
      console.error(`ours: ticket and Web Crypto costs not measured: ${(e as Error).message}`);
    }
  }

  async stop(): Promise<void> {
    await this.#server.stop();
  }
}

const perHs = (p: Phase) => p.serverCpuUs / p.count;
const fmt = (x: number, digits = 0) =>
  Number.isFinite(x) ? x.toFixed(digits).replace(/\B(?=(\d{3})+(?!\d))/g, ",") : "–";

/** The measured phases of a server and version, or undefined when it did not run. */
function phases(r: ServerResult | undefined, version: Version): Record<Mode, Phase> | undefined {
  const v = r?.versions[version];
  return v?.full && v.resumed ? { full: v.full, resumed: v.resumed } : undefined;
}

function report(results: ServerResult[], o: Options): void {
  console.log(
    `\nTLS ${o.versions.join(" and ")} handshakes on ${HOST}: ${o.n} per phase × ${o.rounds} ` +
      `rounds, ${o.concurrency} in flight, P-256 certificate, client: Node ${nodeVersion}\n`,
  );
  const rows: string[][] = [[
    "server",
    "TLS",
    "mode",
    "handshakes",
    "resumed",
    "hs/s",
    "server µs/hs",
    "client µs/hs",
  ]];
  for (const r of results) {
    if (r.unavailable) {
      rows.push([r.kind, "", "unavailable", "", "", "", "", ""]);
      continue;
    }
    for (const version of o.versions) {
      const ph = phases(r, version);
      if (!ph) {
        rows.push([r.kind, version, "unavailable", "", "", "", "", ""]);
        continue;
      }
      for (const mode of MODES) {
        const p = ph[mode];
        rows.push([
          r.kind,
          version,
          mode,
          fmt(p.count) + (p.failed ? ` (${p.failed} failed)` : ""),
          fmt(p.reused),
          fmt(p.count / (p.elapsedMs / 1000)),
          fmt(perHs(p)),
          fmt(p.clientCpuUs / p.count),
        ]);
      }
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const [i, row] of rows.entries()) {
    console.log(row.map((c, j) => j < 3 ? c.padEnd(widths[j]) : c.padStart(widths[j])).join("  "));
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }

  const by = Object.fromEntries(results.filter((r) => !r.unavailable).map((r) => [r.kind, r]));
  console.log("\nServer CPU, resumed ÷ full:");
  for (const r of Object.values(by)) {
    for (const version of o.versions) {
      const ph = phases(r, version);
      if (ph) {
        console.log(
          `  ${r.kind.padEnd(14)} TLS ${version}  ${fmt(perHs(ph.resumed) / perHs(ph.full), 2)}`,
        );
      }
    }
  }
  for (const r of results) {
    if (r.unavailable) console.log(`\n${r.kind}: unavailable — ${r.unavailable}`);
    for (const [version, v] of Object.entries(r.versions)) {
      if (v.unavailable) console.log(`\n${r.kind} TLS ${version}: unavailable — ${v.unavailable}`);
    }
  }
  for (const r of Object.values(by)) {
    for (const version of o.versions) {
      const ph = phases(r, version);
      for (const mode of ph ? MODES : []) {
        const p = ph![mode];
        const notes = [];
        if (mode === "resumed" && p.reused < p.count) {
          notes.push(`${p.count - p.reused} not resumed`);
        }
        if (mode === "full" && p.reused > 0) notes.push(`${p.reused} resumed`);
        if (p.failed) notes.push(`${p.failed} failed (${p.clientErrors.join("; ")})`);
        if (p.serverErrors) notes.push(`${p.serverErrors} server-side connection errors`);
        if (notes.length) {
          console.log(`  note: ${r.kind} TLS ${version} ${mode}: ${notes.join(", ")}`);
        }
      }
    }
  }

  const ours = by.ours;
  console.log("\nours ÷ others, server CPU per handshake:");
  for (const mineKind of [ours, by["ours-like-node"]]) {
    for (const version of o.versions) {
      const mine = phases(mineKind, version);
      for (const other of [by.node, by.deno]) {
        const theirs = phases(other, version);
        if (!mine || !theirs) continue;
        console.log(
          `  ${mineKind!.kind} TLS ${version} ÷ ${other!.kind.padEnd(5)} full ` +
            `${fmt(perHs(mine.full) / perHs(theirs.full), 2)}×, ` +
            `resumed ${fmt(perHs(mine.resumed) / perHs(theirs.resumed), 2)}×`,
        );
      }
    }
  }
  if (!ours) return;
  // The issue's goals are about TLS 1.3.
  const ph = phases(ours, "1.3");
  if (!ph) return;
  const full = perHs(ph.full);
  const resumed = perHs(ph.resumed);
  const r = ph.resumed;
  const t = ours.ticketCost;
  let ticketShare = NaN;
  if (t?.sealUs != null && t.openUs != null) {
    const ticketUs = (r.opens * t.openUs + r.seals * t.sealUs) / r.count;
    ticketShare = ticketUs / resumed;
    console.log(
      `\nours, ticket work per resumed TLS 1.3 handshake: ${fmt(r.opens / r.count, 2)} opens × ` +
        `${fmt(t.openUs, 1)} µs + ${fmt(r.seals / r.count, 2)} seals × ${fmt(t.sealUs, 1)} µs ` +
        `= ${fmt(ticketUs, 1)} µs (${fmt(100 * ticketShare, 1)}% of ${fmt(resumed)} µs; ` +
        `seal/open CPU measured in the server after the run, ${t.ticketBytes} B tickets)`,
    );
  }
  const w = ours.webCrypto;
  if (w?.floorUs != null && Number.isFinite(ticketShare)) {
    const ticketUs = ticketShare * resumed;
    console.log(
      `ours, the other Web Crypto calls of a resumed TLS 1.3 handshake (x25519, 4 AES-GCM key ` +
        `imports, 6 record operations): ${fmt(w.floorUs)} µs; with the ticket work, ` +
        `${fmt(w.floorUs + ticketUs)} µs = ${fmt(100 * (w.floorUs + ticketUs) / resumed)}% of it`,
    );
  }
  if (t && t.sealUs == null) {
    console.log("\nours: the ticket sealer was never called (no ticket sealed or opened)");
  }
  console.log("\nGoals (ours, TLS 1.3):");
  const goal = (ok: boolean, text: string) => console.log(`  ${ok ? "met " : "MISS"}  ${text}`);
  goal(resumed / full <= 0.6, `resumed ≤ 0.6 × full server CPU: ${fmt(resumed / full, 2)}`);
  if (Number.isFinite(ticketShare)) {
    goal(
      ticketShare <= 0.1,
      `ticket work ≤ 10% of a resumed handshake: ${fmt(100 * ticketShare, 1)}%`,
    );
  }
  const node = phases(by.node, "1.3");
  if (node) {
    const x = resumed / perHs(node.resumed);
    goal(x <= 2, `resumed ≤ 2 × Node's server CPU: ${fmt(x, 2)}×`);
    const alike = phases(by["ours-like-node"], "1.3");
    if (alike) {
      const y = perHs(alike.resumed) / perHs(node.resumed);
      goal(
        y <= 2,
        `the same with Node's ticket policy (ours-like-node, no ticket on resumption): ${
          fmt(y, 2)
        }×`,
      );
    }
  }
}

let nodeVersion = "?";

async function main(): Promise<void> {
  const o = parseOptions(Deno.args);
  const dir = await Deno.makeTempDir({ prefix: "tls-handshake-bench-" });
  let client: LineChild | undefined;
  try {
    const files = await makeCertificate(dir);
    const v = await new Deno.Command("node", { args: ["--version"], stdout: "piped" }).output();
    nodeVersion = new TextDecoder().decode(v.stdout).trim();
    client = new LineChild("client", "node", [here("./_handshake_client.mjs")]);
    const servers = o.servers.map((kind) => new ServerUnderTest(kind, files));
    try {
      const started = await Promise.all(servers.map((s) => s.start()));
      const live = servers.filter((_, i) => started[i]);
      for (const version of o.versions) {
        for (const s of live) {
          console.error(`${s.kind} TLS ${version}: warming up…`);
          if (o.warmup > 0) await s.warmUp(client, o, version);
        }
        for (let round = 0; round < o.rounds; round++) {
          for (const s of live) {
            if (!s.runs(version)) continue;
            console.error(`${s.kind} TLS ${version}: round ${round + 1} of ${o.rounds}…`);
            await s.round(client, o, version);
          }
        }
      }
      for (const s of live) await s.extras();
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
    const results = servers.map((s) => s.result);
    report(results, o);
    if (o.json) console.log(JSON.stringify({ options: o, results }, null, 2));
  } finally {
    await client?.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

await main();
