/**
 * The fleet key stores (src/fleet/key_store.ts): one contract, run against MemoryKeyStore,
 * DenoKvKeyStore and EtcdKeyStore (a private etcd on 127.0.0.1, tests/_etcd.ts), then each
 * store's own failure behaviour: the memory store's `down` switch; Deno KV shared by real
 * `deno` subprocesses; etcd failover, watch reconnects and KeyStoreUnavailableError.
 *
 * No OpenSSL test corresponds: libssl keeps ticket keys per SSL_CTX
 * (`ssl/s3_lib.c:ssl3_ctx_ctrl`, SSL_CTRL_SET_TLSEXT_TICKET_KEYS) and has no shared store.
 *
 * etcd tests are ignored, with the reason printed, when etcd is missing, except under CI=true
 * where a missing etcd fails the run. Deno KV tests likewise need `--unstable-kv`.
 */

import assert from "node:assert/strict";
import { DenoKvKeyStore } from "../src/fleet/deno_kv_store.ts";
import { EtcdKeyStore } from "../src/fleet/etcd_store.ts";
import {
  type KeyStore,
  KeyStoreError,
  KeyStoreUnavailableError,
  MAX_STORE_KEY_BYTES,
  MAX_STORE_VALUE_BYTES,
} from "../src/fleet/key_store.ts";
import { MemoryKeyStore } from "../src/fleet/memory_store.ts";
import { type EtcdCluster, findEtcd, startEtcdCluster } from "./_etcd.ts";

const etcd = await findEtcd();
if (etcd.bin === null) console.log(`fleet_store_test: etcd tests ignored: ${etcd.reason}`);

const kvEnabled = typeof (Deno as { openKv?: unknown }).openKv === "function";
const kvReason = 'Deno KV needs --unstable-kv (or "unstable": ["kv"] in deno.json)';
if (!kvEnabled) {
  if (Deno.env.get("CI") === "true") throw new Error(`CI=true but ${kvReason}`);
  console.log(`fleet_store_test: Deno KV tests ignored: ${kvReason}`);
}

const KV_POLL_MS = 100;
const ETCD_TIMINGS = {
  requestTimeoutMs: 1_000,
  reconnectDelayMs: 50,
  maxReconnectDelayMs: 400,
  watchCheckIntervalMs: 300,
};

const bytes = (...b: number[]) => new Uint8Array(b);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true (or throws at the deadline). Returns the time taken. */
async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
): Promise<number> {
  const start = performance.now();
  for (;;) {
    let ok = false;
    try {
      ok = await check();
    } catch {
      ok = false;
    }
    if (ok) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

/** A watch whose calls are counted. */
function counter(store: KeyStore, prefix: string) {
  const stop = new AbortController();
  const w = { calls: 0, stop: () => stop.abort() };
  store.watch(prefix, () => w.calls++, stop.signal);
  return w;
}

const timings: Record<string, number> = {};
function record(name: string, ms: number): void {
  timings[name] = Math.round(ms);
}

/**
 * The KeyStore contract. `a` and `b` are two clients of one store (two processes of a fleet).
 * `ns` keeps runs apart.
 */
async function contract(t: Deno.TestContext, label: string, a: KeyStore, b: KeyStore, ns: string) {
  await t.step("list / get / createIfAbsent / delete", async () => {
    assert.equal(await a.createIfAbsent(`${ns}/keys/002`, bytes(2)), true);
    assert.equal(await a.createIfAbsent(`${ns}/keys/002`, bytes(9)), false);
    assert.equal(await b.createIfAbsent(`${ns}/keys/002`, bytes(9)), false);
    assert.equal(await b.createIfAbsent(`${ns}/keys/001`, bytes(1, 1)), true);
    assert.equal(await a.createIfAbsent(`${ns}/keysX`, bytes(3)), true);
    assert.equal(await a.createIfAbsent(`${ns}/other/1`, bytes(4)), true);

    const listed = await b.list(`${ns}/keys/`);
    assert.deepEqual(listed.map((r) => [r.key, [...r.value]]), [
      [`${ns}/keys/001`, [1, 1]],
      [`${ns}/keys/002`, [2]],
    ]);
    for (const r of listed) assert.ok(typeof r.version === "string" && r.version.length > 0);
    assert.deepEqual((await a.list(`${ns}/keys/00`)).map((r) => r.key), [
      `${ns}/keys/001`,
      `${ns}/keys/002`,
    ]);
    assert.deepEqual((await a.list(`${ns}/keys/001`)).map((r) => r.key), [`${ns}/keys/001`]);
    assert.deepEqual((await a.list(`${ns}/key`)).map((r) => r.key), [
      `${ns}/keys/001`,
      `${ns}/keys/002`,
      `${ns}/keysX`,
    ]);
    assert.deepEqual(await a.list(`${ns}/none/`), []);
    assert.deepEqual((await b.list("")).map((r) => r.key), [
      `${ns}/keys/001`,
      `${ns}/keys/002`,
      `${ns}/keysX`,
      `${ns}/other/1`,
    ]);

    const got = await a.get(`${ns}/keys/002`);
    assert.deepEqual(got && [got.key, [...got.value], got.version], [
      `${ns}/keys/002`,
      [2],
      listed[1].version,
    ]);
    assert.equal(await a.get(`${ns}/keys/003`), null);
    assert.equal(await a.get(`${ns}/keys`), null);

    await b.delete(`${ns}/keys/001`);
    await b.delete(`${ns}/keys/001`); // already gone: no error
    await a.delete(`${ns}/never`);
    assert.equal(await a.get(`${ns}/keys/001`), null);
    assert.deepEqual((await a.list(`${ns}/keys/`)).map((r) => r.key), [`${ns}/keys/002`]);
    assert.equal(await a.createIfAbsent(`${ns}/keys/001`, bytes(5)), true);
    const again = await b.get(`${ns}/keys/001`);
    assert.deepEqual(again && [...again.value], [5]);
    assert.notEqual(again?.version, listed[0].version);

    // Returned bytes are copies: mutating them changes nothing stored.
    again!.value[0] = 99;
    assert.deepEqual([...(await b.get(`${ns}/keys/001`))!.value], [5]);
  });

  await t.step("50 concurrent createIfAbsent for one key: exactly one true", async () => {
    const start = performance.now();
    const calls = Array.from(
      { length: 50 },
      (_, i) => (i % 2 === 0 ? a : b).createIfAbsent(`${ns}/race`, bytes(i >> 8, i & 0xff, 7)),
    );
    const results = await Promise.all(calls);
    record(`${label}: 50-way createIfAbsent race`, performance.now() - start);
    const winners = results.flatMap((won, i) => (won ? [i] : []));
    assert.equal(winners.length, 1, `winners: ${winners}`);
    const stored = await a.get(`${ns}/race`);
    assert.deepEqual(stored && [...stored.value], [winners[0] >> 8, winners[0] & 0xff, 7]);
  });

  await t.step("watch fires after a write by another client; stops on abort", async () => {
    const all = counter(a, "");
    const w = counter(a, `${ns}/w/`);
    try {
      await eventually("watch established (first onChange)", () => w.calls >= 1);
      // Quiet while nothing changes (longer than etcd's watch check and KV's poll interval).
      await sleep(700);
      assert.equal(w.calls, 1, "exactly one onChange (established) while nothing changed");
      const before = w.calls;
      const start = performance.now();
      assert.equal(await b.createIfAbsent(`${ns}/w/1`, bytes(1)), true);
      await eventually("onChange after b's create", () => w.calls > before);
      record(`${label}: watch latency (other client's create)`, performance.now() - start);
      const beforeDelete = w.calls;
      await b.delete(`${ns}/w/1`);
      await eventually("onChange after b's delete", () => w.calls > beforeDelete);
      // A watch on "" sees everything.
      await eventually("the watch on every key fired too", () => all.calls >= 3);
    } finally {
      w.stop();
      all.stop();
    }
    const stopped = w.calls;
    await b.createIfAbsent(`${ns}/w/2`, bytes(2));
    await sleep(300);
    assert.equal(w.calls, stopped, "no onChange after abort");
  });

  await t.step("TTL: the record expires, then counts as absent", async () => {
    const start = performance.now();
    assert.equal(await a.createIfAbsent(`${ns}/ttl/1`, bytes(1), { ttlSeconds: 1 }), true);
    assert.equal(await b.createIfAbsent(`${ns}/ttl/1`, bytes(2), { ttlSeconds: 1 }), false);
    assert.deepEqual([...(await b.get(`${ns}/ttl/1`))!.value], [1]);
    await eventually("TTL record gone", async () => (await b.get(`${ns}/ttl/1`)) === null, 6_000);
    record(`${label}: 1 s TTL observed gone after`, performance.now() - start);
    assert.deepEqual(await a.list(`${ns}/ttl/`), []);
    assert.equal(await b.createIfAbsent(`${ns}/ttl/1`, bytes(3)), true);
    assert.deepEqual([...(await a.get(`${ns}/ttl/1`))!.value], [3]);
  });

  await t.step("bad input rejects with KeyStoreError, not unavailability", async () => {
    const bad: [string, () => Promise<unknown>][] = [
      ["empty key", () => a.get("")],
      ["long key", () => a.get("k".repeat(MAX_STORE_KEY_BYTES + 1))],
      ["long prefix", () => a.list("k".repeat(MAX_STORE_KEY_BYTES + 1))],
      ["zero ttl", () => a.createIfAbsent(`${ns}/bad`, bytes(1), { ttlSeconds: 0 })],
      ["fractional ttl", () => a.createIfAbsent(`${ns}/bad`, bytes(1), { ttlSeconds: 1.5 })],
      [
        "big value",
        () => a.createIfAbsent(`${ns}/bad`, new Uint8Array(MAX_STORE_VALUE_BYTES + 1)),
      ],
      ["not bytes", () => a.createIfAbsent(`${ns}/bad`, "x" as unknown as Uint8Array)],
    ];
    for (const [what, call] of bad) {
      await assert.rejects(call, (e) => {
        assert.ok(e instanceof KeyStoreError, what);
        assert.ok(!(e instanceof KeyStoreUnavailableError), what);
        return true;
      });
    }
    assert.equal(await a.get(`${ns}/bad`), null);
    // The largest value and key are accepted.
    const big = new Uint8Array(MAX_STORE_VALUE_BYTES).fill(0xab);
    assert.equal(await a.createIfAbsent(`${ns}/big`, big), true);
    assert.deepEqual((await b.get(`${ns}/big`))!.value, big);
    const longKey = `${ns}/` + "k".repeat(MAX_STORE_KEY_BYTES - ns.length - 1);
    assert.equal(await a.createIfAbsent(longKey, bytes(1)), true);
    assert.equal((await b.get(longKey))?.key, longKey);
  });
}

// ---------------------------------------------------------------------------------------------
// MemoryKeyStore

Deno.test("MemoryKeyStore: KeyStore contract", async (t) => {
  const a = new MemoryKeyStore();
  const b = a.connect();
  try {
    await contract(t, "memory", a, b, "mem");
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("MemoryKeyStore: down switch makes one client unavailable, then reconnects", async () => {
  const a = new MemoryKeyStore();
  const b = a.connect();
  const w = counter(a, "p/");
  try {
    await eventually("established", () => w.calls === 1);
    a.down = true;
    for (
      const call of [
        () => a.list("p/"),
        () => a.get("p/1"),
        () => a.createIfAbsent("p/1", bytes(1)),
        () => a.delete("p/1"),
      ]
    ) {
      await assert.rejects(call, KeyStoreUnavailableError);
    }
    // The other client still works; the cut-off client's watch stays quiet.
    assert.equal(await b.createIfAbsent("p/1", bytes(1)), true);
    await sleep(50);
    assert.equal(w.calls, 1);
    a.down = false;
    await eventually("onChange once on reconnect", () => w.calls === 2);
    await sleep(50);
    assert.equal(w.calls, 2);
    assert.deepEqual((await a.list("p/")).map((r) => r.key), ["p/1"]);
    // A closed client is unavailable, the others are not.
    await b.close();
    await assert.rejects(() => b.get("p/1"), KeyStoreUnavailableError);
    assert.notEqual(await a.get("p/1"), null);
  } finally {
    w.stop();
    await a.close();
  }
});

Deno.test("MemoryKeyStore: TTL follows the injected clock", async () => {
  let now = 1_000_000;
  const store = new MemoryKeyStore({ now: () => now });
  assert.equal(await store.createIfAbsent("t/1", bytes(1), { ttlSeconds: 30 }), true);
  now += 29_999;
  assert.notEqual(await store.get("t/1"), null);
  now += 1;
  assert.equal(await store.get("t/1"), null);
  assert.equal(await store.createIfAbsent("t/1", bytes(2)), true);
  await store.close();
});

// ---------------------------------------------------------------------------------------------
// DenoKvKeyStore

const storeModule = new URL("../src/fleet/deno_kv_store.ts", import.meta.url).href;

/** Runs `code` in a fresh `deno` process with Deno KV enabled; returns its stdout. */
async function denoEval(code: string, env: Record<string, string>): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--unstable-kv", "--quiet", code],
    env: { ...env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `subprocess failed: ${stderr}`);
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name: "DenoKvKeyStore: KeyStore contract (two handles on one file)",
  ignore: !kvEnabled,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "kv_store_test_" });
    const a = await DenoKvKeyStore.open(`${dir}/keys.kv`, { pollIntervalMs: KV_POLL_MS });
    const b = await DenoKvKeyStore.open(`${dir}/keys.kv`, { pollIntervalMs: KV_POLL_MS });
    try {
      await contract(t, "deno kv", a, b, "kv");
    } finally {
      await a.close();
      await b.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "DenoKvKeyStore: two deno processes race createIfAbsent on one file; one wins each key",
  ignore: !kvEnabled,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kv_race_test_" });
    const path = `${dir}/keys.kv`;
    const keys = 40;
    const perProcess = 25;
    const code = `
      const { DenoKvKeyStore } = await import(${JSON.stringify(storeModule)});
      const store = await DenoKvKeyStore.open(Deno.env.get("KV_PATH"));
      const id = Number(Deno.env.get("ID"));
      await new Promise((r) => setTimeout(r, Number(Deno.env.get("START_AT")) - Date.now()));
      const out = {};
      // Key after key, so the two processes stay interleaved for the whole run.
      for (let k = 0; k < ${keys}; k++) {
        const won = await Promise.all(Array.from({ length: ${perProcess} }, (_, j) =>
          store.createIfAbsent("race/" + k, new Uint8Array([id, j]))));
        out[k] = won.flatMap((w, j) => w ? [j] : []);
      }
      await store.close();
      console.log(JSON.stringify(out));
    `;
    try {
      const startAt = String(Date.now() + 1_500);
      const started = performance.now();
      const outputs = await Promise.all(
        [1, 2].map((id) => denoEval(code, { KV_PATH: path, ID: String(id), START_AT: startAt })),
      );
      record(
        "deno kv: 2 processes x 40 keys x 25 racing calls (wall, incl. startup)",
        performance.now() - started,
      );
      const results = outputs.map((o) => JSON.parse(o) as Record<string, number[]>);
      const store = await DenoKvKeyStore.open(path);
      try {
        const byProcess = [0, 0];
        for (let k = 0; k < keys; k++) {
          const wins = results.flatMap((r, p) => r[k].map((j) => [p + 1, j]));
          assert.equal(wins.length, 1, `key ${k}: winners ${JSON.stringify(wins)}`);
          byProcess[wins[0][0] - 1]++;
          const stored = await store.get(`race/${k}`);
          assert.deepEqual(stored && [...stored.value], wins[0]);
        }
        console.log(`  keys won per process: ${byProcess.join(" / ")}`);
        assert.equal((await store.list("race/")).length, keys);
      } finally {
        await store.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "DenoKvKeyStore: a watch sees writes made by another process (polling)",
  ignore: !kvEnabled,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kv_watch_test_" });
    const path = `${dir}/keys.kv`;
    const store = await DenoKvKeyStore.open(path, { pollIntervalMs: KV_POLL_MS });
    const w = counter(store, "fleet/keys/");
    try {
      await eventually("established", () => w.calls === 1);
      const code = `
        const { DenoKvKeyStore } = await import(${JSON.stringify(storeModule)});
        const store = await DenoKvKeyStore.open(Deno.env.get("KV_PATH"));
        await store.createIfAbsent("fleet/keys/1", new Uint8Array([1]));
        console.log(Date.now());
        await store.createIfAbsent("other/1", new Uint8Array([1]));
        await store.close();
      `;
      await denoEval(code, { KV_PATH: path });
      const waited = await eventually("onChange for the other process's write", () => w.calls >= 2);
      record("deno kv: cross-process watch, seen after the writer exited", waited);
      assert.equal(w.calls, 2, "the write under other/ does not fire a fleet/keys/ watch");
      assert.deepEqual((await store.list("fleet/keys/")).map((r) => r.key), ["fleet/keys/1"]);
    } finally {
      w.stop();
      await store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "DenoKvKeyStore: closed store is unavailable; bad options are KeyStoreError",
  ignore: !kvEnabled,
  async fn() {
    const path = await Deno.makeTempFile({ suffix: ".kv" });
    const store = await DenoKvKeyStore.open(path);
    await store.close();
    await assert.rejects(() => store.get("x"), KeyStoreUnavailableError);
    await assert.rejects(
      () => DenoKvKeyStore.open(path, { pollIntervalMs: 0 }),
      (e) => e instanceof KeyStoreError && !(e instanceof KeyStoreUnavailableError),
    );
    await assert.rejects(
      () => DenoKvKeyStore.open("/nonexistent-dir/x/keys.kv"),
      KeyStoreUnavailableError,
    );
    await Deno.remove(path);
  },
});

// ---------------------------------------------------------------------------------------------
// EtcdKeyStore

function etcdStore(endpoints: string[], extra: Partial<typeof ETCD_TIMINGS> = {}): EtcdKeyStore {
  return new EtcdKeyStore({ endpoints, ...ETCD_TIMINGS, ...extra });
}

async function withCluster(size: 1 | 3, fn: (c: EtcdCluster) => Promise<void>): Promise<void> {
  const started = performance.now();
  const cluster = await startEtcdCluster(etcd.bin!, size);
  record(`etcd: start ${size}-member cluster`, performance.now() - started);
  try {
    await fn(cluster);
  } catch (e) {
    const logs = await Promise.all(cluster.members.map((_, i) => cluster.log(i)));
    console.error(logs.join("\n---\n"));
    throw e;
  } finally {
    await cluster.stopAll();
  }
}

Deno.test({
  name: "EtcdKeyStore: KeyStore contract (1-member cluster)",
  ignore: etcd.bin === null,
  async fn(t) {
    await withCluster(1, async (cluster) => {
      const a = etcdStore(cluster.endpoints);
      const b = etcdStore(cluster.endpoints);
      try {
        await contract(t, "etcd", a, b, "etcd");

        await t.step(
          "a create applied by a member whose answer was lost still counts",
          async () => {
            // A proxy in front of the member passes requests on, then withholds the answers
            // longer than the client's time limit: the put is applied, the client never hears.
            const server = Deno.serve(
              { hostname: "127.0.0.1", port: 0, onListen() {} },
              async (req) => {
                const res = await fetch(`${cluster.endpoints[0]}${new URL(req.url).pathname}`, {
                  method: "POST",
                  body: await req.text(),
                });
                const text = await res.text();
                await sleep(400);
                return new Response(text, { status: res.status });
              },
            );
            const proxy = `http://127.0.0.1:${server.addr.port}`;
            const c = etcdStore([proxy, cluster.endpoints[0]], { requestTimeoutMs: 200 });
            try {
              const mine = bytes(1, 2, 3, 4);
              assert.equal(await c.createIfAbsent("etcd/lost/1", mine), true);
              assert.deepEqual([...(await a.get("etcd/lost/1"))!.value], [...mine]);
              // Someone else's record is still not ours, even after an ambiguous attempt.
              assert.equal(await a.createIfAbsent("etcd/lost/2", bytes(9)), true);
              const d = etcdStore([proxy, cluster.endpoints[0]], { requestTimeoutMs: 200 });
              try {
                assert.equal(await d.createIfAbsent("etcd/lost/2", mine), false);
              } finally {
                await d.close();
              }
            } finally {
              await c.close();
              await server.shutdown();
            }
          },
        );
      } finally {
        await a.close();
        await b.close();
      }
    });
  },
});

Deno.test({
  name: "EtcdKeyStore: 3 members: failover, watch reconnect, unavailable when all are down",
  ignore: etcd.bin === null,
  async fn(t) {
    await withCluster(3, async (cluster) => {
      // The leader is the member whose loss hurts most: it goes first.
      const lead = await cluster.leader();
      const other = (lead + 1) % 3;
      const third = (lead + 2) % 3;
      const [eL, eO, eT] = [lead, other, third].map((i) => cluster.endpoints[i]);
      const a = etcdStore([eL, eO, eT]);
      const b = etcdStore([eT, eO, eL]);
      const watchB = counter(b, "f/");
      try {
        await t.step("the 50-way race across members: one winner", async () => {
          const results = await Promise.all(
            Array.from(
              { length: 50 },
              (_, i) => (i % 2 ? a : b).createIfAbsent("f/race", bytes(i)),
            ),
          );
          assert.equal(results.filter((x) => x).length, 1);
        });

        await t.step("kill the leader: operations go on through the others", async () => {
          assert.equal(await a.createIfAbsent("f/1", bytes(1)), true);
          await cluster.killMember(lead);
          const start = performance.now();
          // A new leader is being elected (election timeout 500 ms): allow that, no more.
          await eventually("create via another member", async () => {
            return (await a.createIfAbsent("f/2", bytes(2))) || (await a.get("f/2")) !== null;
          }, 5_000);
          record("etcd: first write after killing the leader", performance.now() - start);
          assert.deepEqual([...(await b.get("f/2"))!.value], [2]);
          assert.deepEqual((await a.list("f/")).map((r) => r.key), ["f/1", "f/2", "f/race"]);
          await a.delete("f/1");
          assert.equal(await b.get("f/1"), null);
          assert.equal(await a.createIfAbsent("f/2", bytes(9)), false);
          assert.notEqual(await cluster.leader(), lead);
        });

        await t.step("a watch whose first endpoint is dead connects to another one", async () => {
          const c = etcdStore([eL, eO]);
          const w2 = counter(c, "f/");
          try {
            await eventually("established", () => w2.calls >= 1);
            const before = w2.calls;
            const start = performance.now();
            await b.createIfAbsent("f/3", bytes(3));
            await eventually("event", () => w2.calls > before);
            record("etcd: watch latency after failover", performance.now() - start);
          } finally {
            w2.stop();
            await c.close();
          }
        });

        await t.step(
          "restart the old leader; a watch survives its own member's restart",
          async () => {
            await cluster.restartMember(lead);
            const c = etcdStore([eO, eL]);
            const w = counter(c, "f/");
            try {
              await eventually("established", () => w.calls >= 1);
              const before = w.calls;
              const start = performance.now();
              await cluster.restartMember(other);
              await eventually("onChange after reconnect", () => w.calls > before, 8_000);
              record("etcd: watch onChange after its member restarted", performance.now() - start);
              const afterReconnect = w.calls;
              await a.createIfAbsent("f/4", bytes(4));
              await eventually("event after reconnect", () => w.calls > afterReconnect, 8_000);
            } finally {
              w.stop();
              await c.close();
            }
            // b's long-running watch saw all of this too, once it has caught up: its own
            // member may have been the one restarted, so its last event can come later than c's.
            await eventually("b's watch caught up", () => watchB.calls >= 4, 8_000);
            assert.ok(watchB.calls >= 4, `b's watch calls: ${watchB.calls}`);
          },
        );

        await t.step("quorum lost (2 of 3 down): KeyStoreUnavailableError, bounded", async () => {
          await cluster.killMember(lead);
          await cluster.killMember(third);
          const c = etcdStore([eO], { requestTimeoutMs: 500 });
          try {
            const start = performance.now();
            await assert.rejects(() => c.createIfAbsent("f/5", bytes(5)), KeyStoreUnavailableError);
            const took = performance.now() - start;
            record("etcd: createIfAbsent without quorum -> unavailable", took);
            assert.ok(took < 2_000, `took ${took} ms`);
            // A watch does not count a member without quorum as a reconnect: no onChange.
            const quiet = watchB.calls;
            await sleep(1_000);
            assert.equal(watchB.calls, quiet, "no onChange while the quorum is lost");
          } finally {
            await c.close();
          }
        });

        await t.step(
          "all members down: every call fails fast with KeyStoreUnavailableError",
          async () => {
            await cluster.killMember(other);
            const start = performance.now();
            await assert.rejects(() => a.list("f/"), KeyStoreUnavailableError);
            await assert.rejects(() => a.get("f/1"), KeyStoreUnavailableError);
            await assert.rejects(() => a.createIfAbsent("f/9", bytes(9)), KeyStoreUnavailableError);
            await assert.rejects(
              () => a.createIfAbsent("f/9", bytes(9), { ttlSeconds: 5 }),
              KeyStoreUnavailableError,
            );
            await assert.rejects(() => a.delete("f/1"), KeyStoreUnavailableError);
            const took = performance.now() - start;
            record("etcd: 5 calls with all members down", took);
            assert.ok(took < 2_000, `took ${took} ms`);
          },
        );

        await t.step("the cluster comes back: b's watch reconnects by itself", async () => {
          const before = watchB.calls;
          const start = performance.now();
          await Promise.all([0, 1, 2].map((i) => cluster.restartMember(i)));
          await eventually("b's watch back", () => watchB.calls > before, 8_000);
          record(
            "etcd: watch back after restarting all members (incl. their start)",
            performance.now() - start,
          );
          await eventually(
            "writes work",
            async () => await a.createIfAbsent("f/6", bytes(6)),
            5_000,
          );
          assert.deepEqual((await b.list("f/")).map((r) => r.key), [
            "f/2",
            "f/3",
            "f/4",
            "f/6",
            "f/race",
          ]);
        });
      } finally {
        watchB.stop();
        await a.close();
        await b.close();
      }
    });
  },
});

Deno.test("EtcdKeyStore: endpoints that never answer time out into KeyStoreUnavailableError", async () => {
  // Two listeners that accept connections and never reply; one port with nothing listening.
  const silent = [
    Deno.listen({ hostname: "127.0.0.1", port: 0 }),
    Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  ];
  const held: Deno.Conn[] = [];
  const accepting = silent.map(async (l) => {
    try {
      for await (const conn of l) held.push(conn);
    } catch {
      // closed
    }
  });
  const dead = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (dead.addr as Deno.NetAddr).port;
  dead.close();
  const endpoints = [
    ...silent.map((l) => `http://127.0.0.1:${(l.addr as Deno.NetAddr).port}`),
    `http://127.0.0.1:${deadPort}`,
  ];
  const store = new EtcdKeyStore({ endpoints, requestTimeoutMs: 200 });
  try {
    const start = performance.now();
    const err = await store.get("k").catch((e) => e);
    const took = performance.now() - start;
    record("etcd: 2 silent + 1 refused endpoints -> unavailable", took);
    assert.ok(err instanceof KeyStoreUnavailableError);
    assert.match(err.message, /no answer in 200 ms/);
    assert.ok(took >= 390 && took < 1_500, `took ${took} ms`);
    // A watch on such endpoints keeps retrying quietly and stops on close.
    const w = counter(store, "k/");
    await sleep(300);
    assert.equal(w.calls, 0);
  } finally {
    await store.close();
    for (const l of silent) l.close();
    for (const c of held) c.close();
    await Promise.all(accepting);
  }
});

Deno.test("EtcdKeyStore: bad options are KeyStoreError", () => {
  for (
    const options of [
      { endpoints: [] },
      { endpoints: ["not a url"] },
      { endpoints: ["ftp://127.0.0.1:2379"] },
      { endpoints: ["http://127.0.0.1:2379"], requestTimeoutMs: 0 },
    ]
  ) {
    assert.throws(() => new EtcdKeyStore(options), KeyStoreError, JSON.stringify(options));
  }
});

Deno.test("fleet stores: measured timings", () => {
  for (const [name, ms] of Object.entries(timings)) console.log(`  ${name}: ${ms} ms`);
});
