/**
 * Test helper: one fleet process for `fleet_process_test.ts`. It joins a fleet (Deno KV file or
 * etcd), serves `POST /ticket` on 127.0.0.1, seals a ticket every `sealEveryMs` and sends it to
 * every peer (peers announce their port as `<dir>/<id>.port`), opens every ticket it receives,
 * re-opens a sample of them until (and just after) their key's decrypt life ends, watches the
 * schedule, and at `endAt` writes `<dir>/<id>.report.json`.
 *
 * Run: `deno run --unstable-kv --allow-read --allow-write --allow-env --allow-net=127.0.0.1
 * tests/_fleet_worker.ts '<config JSON>'` with `SESSION_TICKETS_KEK` set.
 *
 * @module
 */

import { FleetRing } from "../src/fleet/fleet_ring.ts";
import type { KeyStore } from "../src/fleet/key_store.ts";
import { DenoKvKeyStore } from "../src/fleet/deno_kv_store.ts";
import { EtcdKeyStore } from "../src/fleet/etcd_store.ts";
import { loadKek } from "../src/fleet/key_wrap.ts";
import { SslSession } from "../src/session/ssl_session.ts";
import { SslContext } from "../src/server/ssl_context.ts";
import { handshake, TestClient } from "../testing.ts";
import { TicketStatus } from "../src/ticket/status.ts";

/**
 * The worker's configuration (its only argument, as JSON).
 *
 * @example
 * ```ts
 * import type { WorkerConfig } from "./_fleet_worker.ts";
 * const c: Pick<WorkerConfig, "id"> = { id: "w0" };
 * console.log(c.id);
 * ```
 */
export interface WorkerConfig {
  /** Worker name, unique in `dir`. */
  id: string;
  /** `kv:PATH` or `etcd:URL,URL,...`. */
  store: string;
  /** Fleet prefix. */
  prefix: string;
  /** Shared directory (ports, reports). */
  dir: string;
  /** Real time (Date.now) at which to stop. */
  endAt: number;
  /** How far this process's clock is ahead (ms). */
  skewMs: number;
  /** Schedule. */
  rotationInterval: number;
  /** Schedule. */
  decryptPeriod: number;
  /** Schedule. */
  propagationDelay: number;
  /** Schedule. */
  maxClockSkew: number;
  /** Schedule. */
  publishLead: number;
  /** Seal period (ms). */
  sealEveryMs: number;
  /** Serve `POST /ticket` and open the peers' tickets (default true). */
  receive?: boolean;
  /** The fleet's maxProcesses (default: the fleet's). */
  maxProcesses?: number;
  /** Also run one in-memory TLS 1.3 handshake per seal through an SslContext on the ring. */
  handshakes?: boolean;
}

/**
 * What a worker reports at the end.
 *
 * @example
 * ```ts
 * import type { WorkerReport } from "./_fleet_worker.ts";
 * const r: Pick<WorkerReport, "sealed"> = { sealed: 0 };
 * console.log(r.sealed);
 * ```
 */
export interface WorkerReport {
  /** Worker name. */
  id: string;
  /** Real time when FleetRing.start resolved. */
  joinedAt: number;
  /** Key names held right after start, before any seal. */
  initialKeys: Record<string, string>;
  /** Real time of the first successful seal, or null. */
  firstSealAt: number | null;
  /** Tickets sealed. */
  sealed: number;
  /** Seals refused (no key yet). */
  sealRefused: number;
  /** Tickets delivered to a peer. */
  sent: number;
  /** Tickets received. */
  received: number;
  /** Received tickets that opened (SUCCESS or SUCCESS_RENEW). */
  opened: number;
  /** Of which SUCCESS_RENEW. */
  renewed: number;
  /** Re-opens of held tickets before their key's end that opened. */
  reopened: number;
  /** Of which SUCCESS_RENEW (the key had become decrypt-only). */
  reopenedRenewed: number;
  /** Re-opens after their key's end that were NO_DECRYPT, as they must be. */
  expiredChecked: number;
  /** Anything that went wrong. */
  failures: string[];
  /** interval → key name, as seen in status. */
  keys: Record<string, string>;
  /** interval → real time first seen. */
  firstSeen: Record<string, number>;
  /** Real times at which this process's proposalsWon went up. */
  creations: number[];
  /** Final metrics (fleet counters only). */
  proposalsWon: number;
  /** Proposal counters, for failure messages. */
  proposalStats: string;
  /** Whether storeReachable was ever seen false. */
  outageSeen: boolean;
  /** Seals while the store was reported unreachable. */
  sealedDuringOutage: number;
  /** Opens while the store was reported unreachable. */
  openedDuringOutage: number;
  /** Seals under a key other than the current interval's. */
  offSchedule: number;
  /** The last status().clockSkew message seen, or null. */
  clockSkew: string | null;
  /** Final fleet metrics. */
  proposals: number;
  /** Final fleet metrics. */
  storeDeletes: number;
  /** Final fleet metrics. */
  recordsVanished: number;
  /** Final fleet metrics. */
  recordsRestored: number;
  /** Final fleet metrics. */
  recordsRepaired: number;
  /** Every record named in status().badRecords. */
  badRecordNames: string[];
  /** Handshakes through the SslContext, and tickets they did not get (by reason). */
  handshakes: number;
  /** Tickets not sealed in those handshakes, by reason. */
  ticketsNotSealed: Record<string, number>;
  /** Seals refused, by reason. */
  sealRefusedReasons: Record<string, number>;
}

async function openStore(spec: string): Promise<KeyStore> {
  if (spec.startsWith("kv:")) {
    return await DenoKvKeyStore.open(spec.slice(3), { pollIntervalMs: 200 });
  }
  return new EtcdKeyStore({ endpoints: spec.slice(5).split(","), requestTimeoutMs: 1000 });
}

async function main(cfg: WorkerConfig): Promise<void> {
  const now = () => Date.now() + cfg.skewMs;
  const store = await openStore(cfg.store);
  const kek = await loadKek();
  const I = cfg.rotationInterval;
  const D = cfg.decryptPeriod;
  const report: WorkerReport = {
    id: cfg.id,
    joinedAt: 0,
    initialKeys: {},
    firstSealAt: null,
    sealed: 0,
    sealRefused: 0,
    sent: 0,
    received: 0,
    opened: 0,
    renewed: 0,
    reopened: 0,
    reopenedRenewed: 0,
    expiredChecked: 0,
    failures: [],
    keys: {},
    firstSeen: {},
    creations: [],
    proposalsWon: 0,
    proposalStats: "",
    outageSeen: false,
    sealedDuringOutage: 0,
    openedDuringOutage: 0,
    offSchedule: 0,
    clockSkew: null,
    proposals: 0,
    storeDeletes: 0,
    recordsVanished: 0,
    recordsRestored: 0,
    recordsRepaired: 0,
    badRecordNames: [],
    handshakes: 0,
    ticketsNotSealed: {},
    sealRefusedReasons: {},
  };
  const fail = (m: string) => {
    if (report.failures.length < 50) report.failures.push(`${cfg.id} @${now()}: ${m}`);
  };
  let ring: FleetRing;
  for (let attempt = 0;; attempt++) {
    try {
      ring = await FleetRing.start({
        store,
        kek,
        prefix: cfg.prefix,
        rotationInterval: I,
        decryptPeriod: D,
        propagationDelay: cfg.propagationDelay,
        maxClockSkew: cfg.maxClockSkew,
        publishLead: cfg.publishLead,
        maxProcesses: cfg.maxProcesses,
        now,
      });
      break;
    } catch (e) {
      if (attempt > 20) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  report.joinedAt = Date.now();
  const nameToInterval = new Map<string, number>();
  /** Each key's erase time as last reported (Infinity while it has no successor). */
  const nameToErase = new Map<string, number>();
  const observe = () => {
    const st = ring.status();
    if (!st.storeReachable) report.outageSeen = true;
    if (st.clockSkew !== null) report.clockSkew = st.clockSkew.message;
    for (const b of st.badRecords) {
      if (!report.badRecordNames.includes(b.record)) report.badRecordNames.push(b.record);
    }
    for (const k of [...st.keys, ...st.superseded]) nameToErase.set(k.name, k.eraseAt ?? Infinity);
    for (const k of st.keys) {
      const n = String(k.interval);
      if (report.keys[n] === undefined) {
        report.keys[n] = k.name;
        report.firstSeen[n] = Date.now();
        nameToInterval.set(k.name, k.interval);
      } else if (report.keys[n] !== k.name) {
        fail(`interval ${n} has two keys: ${report.keys[n]} and ${k.name}`);
      }
    }
    const won = ring.metrics().proposalsWon;
    while (report.creations.length < won) report.creations.push(Date.now());
    return st;
  };
  for (const k of observe().keys) report.initialKeys[String(k.interval)] = k.name;

  /** When a ticket stops opening: its key's erase time, or the schedule's if not reported. */
  const endOf = (name: string, n: number) => Math.max((n + 1) * I + D, nameToErase.get(name) ?? 0);
  const held: { ticket: Uint8Array; name: string }[] = [];
  const receive = cfg.receive !== false;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const ticket = new Uint8Array(await req.arrayBuffer());
      const from = req.headers.get("x-from") ?? "?";
      const sealedAt = Number(req.headers.get("x-sealed-at"));
      report.received++;
      const st = observe();
      const name = ticket.subarray(0, 16).toHex();
      const r = await ring.open(ticket);
      if (r.status === TicketStatus.SUCCESS || r.status === TicketStatus.SUCCESS_RENEW) {
        report.opened++;
        if (r.status === TicketStatus.SUCCESS_RENEW) report.renewed++;
        if (!st.storeReachable) report.openedDuringOutage++;
        if (held.length < 400) held.push({ ticket, name });
        else if (Math.random() < 0.1) {
          held[Math.floor(Math.random() * held.length)] = { ticket, name };
        }
      } else {
        const n = nameToInterval.get(name);
        if (Date.now() < sealedAt + D - 500) {
          // Every ticket opens everywhere for decryptPeriod after it was sealed.
          fail(
            `ticket from ${from} under ${name} (interval ${n ?? "never seen here"}) sealed ` +
              `${Date.now() - sealedAt} ms ago did not open: ${r.status}; held here: ` +
              st.keys.map((k) => `${k.interval}:${k.name.slice(0, 8)}:${k.state}`).join(" ") +
              `; lastError ${st.lastError}`,
          );
        } else if (n === undefined) {
          fail(`ticket from ${from} under unknown key ${name}: status ${r.status}`);
        } else if (now() < (n + 1) * I + D) {
          fail(
            `ticket from ${from} under live key ${name} (interval ${n}) did not open: ${r.status}`,
          );
        }
      }
      return new Response(String(r.status));
    },
  );
  const port = server.addr.port;
  if (receive) {
    await Deno.writeTextFile(`${cfg.dir}/${cfg.id}.port.tmp`, String(port));
    await Deno.rename(`${cfg.dir}/${cfg.id}.port.tmp`, `${cfg.dir}/${cfg.id}.port`);
  }

  let peers: { id: string; port: number }[] = [];
  let peersAt = 0;
  const refreshPeers = async () => {
    if (Date.now() - peersAt < 500) return;
    peersAt = Date.now();
    const list: { id: string; port: number }[] = [];
    for await (const e of Deno.readDir(cfg.dir)) {
      if (!e.name.endsWith(".port") || e.name === `${cfg.id}.port`) continue;
      const p = Number(await Deno.readTextFile(`${cfg.dir}/${e.name}`).catch(() => "NaN"));
      if (Number.isInteger(p)) list.push({ id: e.name.slice(0, -5), port: p });
    }
    peers = list;
  };

  const observer = setInterval(observe, 100);
  let checking = false;
  const recheck = setInterval(async () => {
    if (checking) return;
    checking = true;
    for (let i = held.length - 1; i >= 0; i--) {
      const h = held[i];
      const n = nameToInterval.get(h.name);
      if (n === undefined) continue;
      const end = endOf(h.name, n);
      const t = now();
      if (t < end - 300) {
        const r = await ring.open(h.ticket);
        if (r.status === TicketStatus.SUCCESS || r.status === TicketStatus.SUCCESS_RENEW) {
          report.reopened++;
          if (r.status === TicketStatus.SUCCESS_RENEW) report.reopenedRenewed++;
        } else if (now() < end - 100) {
          fail(`held ticket under ${h.name} (interval ${n}) stopped opening ${end - t} ms early`);
        }
      } else if (t > end + 300 && Number.isFinite(end)) {
        const r = await ring.open(h.ticket);
        if (r.status !== TicketStatus.NO_DECRYPT) {
          fail(`ticket under ${h.name} (interval ${n}) still opens ${t - end} ms after its end`);
        } else report.expiredChecked++;
        held.splice(i, 1);
      }
    }
    checking = false;
  }, 700);

  const session = new SslSession({ sslVersion: 0x0304, cipherId: 0x1301, time: 1, timeout: 7200 });
  const ctx = cfg.handshakes === true ? await SslContext.create({ ticketKeys: ring, now }) : null;
  while (Date.now() < cfg.endAt) {
    const tick = Date.now();
    const st = observe();
    if (ctx !== null) {
      // No handshake through a context on the ring fails for lack of a key.
      const h = await handshake(ctx, new TestClient({ version: "1.3" }));
      report.handshakes++;
      if (h.alert !== null) fail(`handshake alert ${h.alert}: ${h.error}`);
      for (const x of h.connection.ticketsNotSealed) {
        report.ticketsNotSealed[x.reason] = (report.ticketsNotSealed[x.reason] ?? 0) + 1;
      }
    }
    let ticket: Uint8Array | null = null;
    let sealedAt = 0;
    try {
      session.time = Math.floor(now() / 1000);
      sealedAt = Date.now();
      ticket = await ring.seal(session);
    } catch (e) {
      report.sealRefused++;
      const why = (e as { reason?: string }).reason ?? "error";
      report.sealRefusedReasons[why] = (report.sealRefusedReasons[why] ?? 0) + 1;
    }
    if (ticket !== null) {
      report.sealed++;
      report.firstSealAt ??= Date.now();
      if (!st.storeReachable) report.sealedDuringOutage++;
      if (st.sealing !== null && st.sealing.interval !== st.currentInterval) report.offSchedule++;
      await refreshPeers();
      await Promise.all(peers.map(async (p) => {
        try {
          const res = await fetch(`http://127.0.0.1:${p.port}/ticket`, {
            method: "POST",
            body: ticket as Uint8Array<ArrayBuffer>,
            headers: { "x-from": cfg.id, "x-sealed-at": String(sealedAt) },
          });
          await res.text();
          report.sent++;
        } catch {
          // the peer has finished
        }
      }));
    }
    const wait = cfg.sealEveryMs - (Date.now() - tick);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  clearInterval(observer);
  clearInterval(recheck);
  await ring.stop(); // no more syncs, so no more proposals: the count below is final
  observe();
  const m = ring.metrics();
  report.proposalsWon = m.proposalsWon;
  report.proposals = m.proposals;
  report.storeDeletes = m.storeDeletes;
  report.recordsVanished = m.recordsVanished;
  report.recordsRestored = m.recordsRestored;
  report.recordsRepaired = m.recordsRepaired;
  report.proposalStats = `proposals ${m.proposals} won ${m.proposalsWon} lost ${m.proposalsLost} ` +
    `syncFailures ${m.syncFailures} badRecords ${m.badRecords}`;
  await Deno.remove(`${cfg.dir}/${cfg.id}.port`).catch(() => {});
  await new Promise((r) => setTimeout(r, 300)); // let in-flight deliveries land
  await server.shutdown();
  await store.close().catch(() => {});
  await Deno.writeTextFile(`${cfg.dir}/${cfg.id}.report.json`, JSON.stringify(report));
}

if (import.meta.main) {
  await main(JSON.parse(Deno.args[0]) as WorkerConfig);
  Deno.exit(0);
}
