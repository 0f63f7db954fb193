/**
 * Test helper: a private etcd cluster (1 or 3 members) on 127.0.0.1 with free ports, each
 * member with its own temporary data directory, for the fleet store tests. Members can be
 * killed and restarted; {@link EtcdCluster.stopAll} (called in `finally`) stops every member
 * (SIGTERM, then SIGKILL) and removes the data.
 *
 * The members run with a 50 ms heartbeat and a 500 ms election timeout, so a lost leader is
 * replaced within about a second and the smallest lease TTL is 1 s.
 *
 * @module
 */

const decoder = new TextDecoder();

/**
 * Where the `etcd` binary is, or why the etcd tests are skipped.
 *
 * @example
 * ```ts
 * import { findEtcd } from "./_etcd.ts";
 * const etcd = await findEtcd();
 * Deno.test({ name: "x", ignore: etcd.bin === null, fn() {} });
 * ```
 */
export interface EtcdInfo {
  /** Binary to run (`$ETCD_BIN`, `etcd` on `PATH` or `/usr/bin/etcd`), or null. */
  bin: string | null;
  /** First line of `etcd --version`. */
  version: string;
  /** Why `bin` is null; empty when usable. */
  reason: string;
}

/**
 * Finds etcd 3.4 or later (the JSON gateway at `/v3/`). When it is missing and
 * `CI` is `"true"`, throws instead: CI installs etcd (`.ci/install-etcd`), so nothing is skipped
 * there.
 *
 * @returns The binary, or `bin: null` and the reason.
 *
 * @example
 * ```ts
 * import { findEtcd } from "./_etcd.ts";
 * const { bin, reason } = await findEtcd();
 * if (bin === null) console.log(`skipping etcd tests: ${reason}`);
 * ```
 */
export async function findEtcd(): Promise<EtcdInfo> {
  const candidates = [Deno.env.get("ETCD_BIN"), "etcd", "/usr/bin/etcd"].filter(
    (c): c is string => c !== undefined && c !== "",
  );
  let reason = "etcd not found (install Debian's etcd-server: .ci/install-etcd)";
  for (const bin of candidates) {
    try {
      const out = await new Deno.Command(bin, {
        args: ["--version"],
        stdout: "piped",
        stderr: "piped",
      })
        .output();
      const text = decoder.decode(out.stdout);
      const m = /etcd Version: (\d+)\.(\d+)\.(\d+)/.exec(text);
      if (!out.success || m === null) {
        reason = `${bin} --version failed`;
        continue;
      }
      if (Number(m[1]) < 3 || (Number(m[1]) === 3 && Number(m[2]) < 4)) {
        reason = `${bin} is etcd ${m[0]}; 3.4 or later is needed`;
        continue;
      }
      return { bin, version: text.split("\n")[0], reason: "" };
    } catch {
      // not this one
    }
  }
  if (Deno.env.get("CI") === "true") {
    throw new Error(`CI=true but ${reason}`);
  }
  return { bin: null, version: "", reason };
}

/**
 * A free TCP port on 127.0.0.1 (bound, then released).
 *
 * @returns The port number.
 *
 * @example
 * ```ts
 * import { freeTcpPort } from "./_etcd.ts";
 * const port = freeTcpPort();
 * ```
 */
export function freeTcpPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * One member of an {@link EtcdCluster}.
 *
 * @example
 * ```ts ignore
 * import { startEtcdCluster } from "./_etcd.ts";
 * const cluster = await startEtcdCluster("/usr/bin/etcd", 1);
 * console.log(cluster.members[0].clientUrl, cluster.members[0].running);
 * await cluster.stopAll();
 * ```
 */
export interface EtcdMember {
  /** Member name (`m0`, `m1`, ...). */
  name: string;
  /** Client URL (`http://127.0.0.1:<port>`), what the stores talk to. */
  clientUrl: string;
  /** Peer URL. */
  peerUrl: string;
  /** Data directory. */
  dataDir: string;
  /** Whether the member's process is running. */
  running: boolean;
}

/**
 * A running etcd cluster on 127.0.0.1.
 *
 * @example
 * ```ts ignore
 * import { startEtcdCluster } from "./_etcd.ts";
 * const cluster = await startEtcdCluster("/usr/bin/etcd", 3);
 * try {
 *   await cluster.killMember(0);
 *   await cluster.restartMember(0);
 * } finally {
 *   await cluster.stopAll();
 * }
 * ```
 */
export interface EtcdCluster {
  /** The members' client URLs, in member order. */
  endpoints: string[];
  /** The members. */
  members: EtcdMember[];
  /** Directory holding the data directories and `m<i>.log`. */
  dir: string;
  /** SIGKILLs member `i` and waits for it to exit. */
  killMember(i: number): Promise<void>;
  /** Stops member `i` cleanly (SIGTERM, SIGKILL after 5 s). */
  stopMember(i: number): Promise<void>;
  /** Starts member `i` again on its data directory and ports; waits until it serves reads. */
  restartMember(i: number): Promise<void>;
  /** Stops every member and removes all data (idempotent). */
  stopAll(): Promise<void>;
  /** Index of the current leader (asked of the running members; waits up to 5 s for one). */
  leader(): Promise<number>;
  /** The last lines of member `i`'s log (for failure messages). */
  log(i: number): Promise<string>;
}

/**
 * Starts a `size`-member cluster on free loopback ports and waits until it serves linearizable
 * reads on every member (at most `readyTimeoutMs`, default 20 s).
 *
 * @param bin The etcd binary (from {@link findEtcd}).
 * @param size 1 or 3 members.
 * @param options `readyTimeoutMs`.
 * @returns The running cluster.
 *
 * @example
 * ```ts ignore
 * import { findEtcd, startEtcdCluster } from "./_etcd.ts";
 * const { bin } = await findEtcd();
 * const cluster = await startEtcdCluster(bin!, 1);
 * await cluster.stopAll();
 * ```
 */
export async function startEtcdCluster(
  bin: string,
  size: 1 | 3,
  options: { readyTimeoutMs?: number } = {},
): Promise<EtcdCluster> {
  const dir = await Deno.makeTempDir({ prefix: "etcd_test_" });
  const token = `t${crypto.randomUUID().slice(0, 8)}`;
  const members: EtcdMember[] = [];
  for (let i = 0; i < size; i++) {
    members.push({
      name: `m${i}`,
      clientUrl: `http://127.0.0.1:${freeTcpPort()}`,
      peerUrl: `http://127.0.0.1:${freeTcpPort()}`,
      dataDir: `${dir}/m${i}`,
      running: false,
    });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(",");
  const children: (Deno.ChildProcess | null)[] = members.map(() => null);
  const readyMs = options.readyTimeoutMs ?? 20_000;

  const spawn = (i: number): void => {
    const m = members[i];
    const args = [
      "--name",
      m.name,
      "--data-dir",
      m.dataDir,
      "--listen-client-urls",
      m.clientUrl,
      "--advertise-client-urls",
      m.clientUrl,
      "--listen-peer-urls",
      m.peerUrl,
      "--initial-advertise-peer-urls",
      m.peerUrl,
      "--initial-cluster",
      initialCluster,
      "--initial-cluster-state",
      "new",
      "--initial-cluster-token",
      token,
      "--heartbeat-interval",
      "50",
      "--election-timeout",
      "500",
      "--logger",
      "zap",
      "--log-outputs",
      `${dir}/m${i}.log`,
    ];
    children[i] = new Deno.Command(bin, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    m.running = true;
  };

  const stop = async (i: number, signal: Deno.Signal): Promise<void> => {
    const child = children[i];
    if (child === null) return;
    children[i] = null;
    members[i].running = false;
    try {
      child.kill(signal);
    } catch {
      // already exited
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // exited meanwhile
        }
        resolve();
      }, 5_000);
    });
    await Promise.race([child.status, killed]);
    await child.status;
    clearTimeout(timer);
  };

  const waitReady = async (urls: string[]): Promise<void> => {
    const deadline = Date.now() + readyMs;
    for (const url of urls) {
      for (;;) {
        try {
          const res = await fetch(`${url}/v3/kv/range`, {
            method: "POST",
            body: JSON.stringify({ key: "AA==" }),
            signal: AbortSignal.timeout(1_000),
          });
          await res.body?.cancel();
          if (res.ok) break;
        } catch {
          // not yet
        }
        if (Date.now() > deadline) {
          throw new Error(`etcd at ${url} not ready after ${readyMs} ms`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };

  const log = async (i: number): Promise<string> => {
    try {
      return (await Deno.readTextFile(`${dir}/m${i}.log`)).split("\n").slice(-15).join("\n");
    } catch {
      return "(no log)";
    }
  };

  const leader = async (): Promise<number> => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const ids = await Promise.all(members.map(async (m) => {
        if (!m.running) return null;
        try {
          const res = await fetch(`${m.clientUrl}/v3/maintenance/status`, {
            method: "POST",
            body: "{}",
            signal: AbortSignal.timeout(1_000),
          });
          const json = await res.json();
          return { self: String(json.header?.member_id), leader: String(json.leader ?? "0") };
        } catch {
          return null;
        }
      }));
      const leaderId = ids.find((x) => x !== null && x.leader !== "0")?.leader;
      const index = ids.findIndex((x) => x !== null && x.self === leaderId);
      if (index >= 0) return index;
      if (Date.now() > deadline) throw new Error("etcd: no leader after 5 s");
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  let stopped = false;
  const cluster: EtcdCluster = {
    endpoints: members.map((m) => m.clientUrl),
    members,
    dir,
    killMember: (i) => stop(i, "SIGKILL"),
    stopMember: (i) => stop(i, "SIGTERM"),
    async restartMember(i) {
      await stop(i, "SIGTERM");
      spawn(i);
      await waitReady([members[i].clientUrl]);
    },
    async stopAll() {
      if (stopped) return;
      stopped = true;
      await Promise.all(members.map((_, i) => stop(i, "SIGTERM")));
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
    leader,
    log,
  };

  try {
    for (let i = 0; i < size; i++) spawn(i);
    await waitReady(cluster.endpoints);
  } catch (e) {
    const logs = await Promise.all(members.map((_, i) => log(i)));
    await cluster.stopAll();
    throw new Error(`${(e as Error).message}\n${logs.join("\n---\n")}`);
  }
  return cluster;
}
