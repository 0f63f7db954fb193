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
import { FleetRing } from "../src/fleet/fleet_ring.ts";
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

  await t.step(
    "replaceIf: compare-and-swap on the version read; 20 racers, exactly one wins",
    async () => {
      assert.equal(await a.createIfAbsent(`${ns}/cas`, bytes(1)), true);
      const v1 = (await b.get(`${ns}/cas`))!.version;
      assert.equal(await b.replaceIf(`${ns}/cas`, v1, bytes(2)), true);
      const v2 = (await a.get(`${ns}/cas`))!;
      assert.deepEqual([...v2.value], [2]);
      assert.notEqual(v2.version, v1);
      assert.equal(await a.replaceIf(`${ns}/cas`, v1, bytes(3)), false); // stale version
      assert.deepEqual([...(await a.get(`${ns}/cas`))!.value], [2]);
      const results = await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => (i % 2 === 0 ? a : b).replaceIf(`${ns}/cas`, v2.version, bytes(10 + i)),
        ),
      );
      const winners = results.flatMap((won, i) => (won ? [i] : []));
      assert.equal(winners.length, 1, `winners: ${winners}`);
      assert.deepEqual([...(await b.get(`${ns}/cas`))!.value], [10 + winners[0]]);
      await a.delete(`${ns}/cas`);
      assert.equal(await a.replaceIf(`${ns}/cas`, v2.version, bytes(4)), false); // vanished
      assert.equal(await a.get(`${ns}/cas`), null);
    },
  );

  await t.step(
    "time(): the store's own clock where it gives one (etcd's Date header)",
    async () => {
      await a.list(`${ns}/`);
      const time = a.time?.() ?? null;
      if (label === "etcd") {
        assert.notEqual(time, null);
        assert.ok(Math.abs(time! - Date.now()) < 2000, `${time} vs ${Date.now()}`);
      } else assert.equal(time, null);
    },
  );

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

// ---------------------------------------------------------------------------------------------
// Issue 13: store answers are untrusted input. A fake etcd gateway on 127.0.0.1 answers what
// etcd never would; values of the wrong type are written straight into a Deno KV file.

const enc = new TextEncoder();
const b64 = (s: string) => enc.encode(s).toBase64();
const HEADER = { revision: "7" };
const MiB = 1024 * 1024;

/** Asserts a typed error with exactly `message`, on one line. */
function assertTyped(
  e: unknown,
  type: typeof KeyStoreError | typeof KeyStoreUnavailableError,
  message: string,
): asserts e is KeyStoreError {
  assert.ok(e instanceof type, `not a ${type.name}: ${e}`);
  if (type === KeyStoreError) assert.ok(!(e instanceof KeyStoreUnavailableError), String(e));
  assert.equal(e.message, message);
  assert.ok(!/[\r\n]/.test(e.message), "one line");
}

/** What a fake etcd gateway saw: requests per path, bytes streamed, streams cancelled. */
interface FakeEtcd {
  endpoint: string;
  hits: Record<string, number>;
  sent: number;
  cancelled: number;
  close(): Promise<void>;
}

/**
 * A fake etcd JSON gateway on 127.0.0.1: `answer` gives the Response for each request path
 * ("kv/range", "watch", ...). `stream` builds a lazily pulled body that counts what it sent and
 * whether the client cancelled it.
 */
function fakeEtcd(
  answer: (path: string, fake: FakeEtcd, stream: typeof lazyBody) => Response | Promise<Response>,
): FakeEtcd {
  const fake: FakeEtcd = {
    endpoint: "",
    hits: {},
    sent: 0,
    cancelled: 0,
    close: () => server.shutdown(),
  };
  function lazyBody(
    head: string,
    chunk: Uint8Array,
    total: number,
  ): ReadableStream<Uint8Array> {
    let left = total;
    let first = true;
    return new ReadableStream({
      pull(controller) {
        if (first) {
          first = false;
          const h = enc.encode(head);
          fake.sent += h.length;
          controller.enqueue(h);
          return;
        }
        if (left <= 0) return controller.close();
        const piece = chunk.subarray(0, Math.min(chunk.length, left));
        left -= piece.length;
        fake.sent += piece.length;
        controller.enqueue(piece);
      },
      cancel() {
        fake.cancelled++;
      },
    }, { highWaterMark: 0 });
  }
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname.replace(/^\/v3\//, "");
    await req.body?.cancel();
    fake.hits[path] = (fake.hits[path] ?? 0) + 1;
    return await answer(path, fake, lazyBody);
  });
  fake.endpoint = `http://127.0.0.1:${server.addr.port}`;
  return fake;
}

const json = (body: unknown, status = 200) =>
  new Response(typeof body === "string" ? body : JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });

Deno.test(
  'issue 13: an etcd endpoint answers {"kvs":{}} (and other shapes etcd never sends): typed error naming the field, one line, no TypeError',
  async () => {
    // [what, request path it answers, the answer, the call, the endpoint's reason]
    const kv = (key: string, extra: Record<string, unknown> = {}) => ({
      key: b64(key),
      value: b64("v"),
      mod_revision: "5",
      ...extra,
    });
    const cases: [
      string,
      string,
      string | unknown,
      (s: EtcdKeyStore) => Promise<unknown>,
      string,
    ][] = [
      [
        "kvs an object",
        "kv/range",
        { kvs: {} },
        (s) => s.list("p/"),
        "kvs is an object, not an array",
      ],
      [
        "kvs an object (get)",
        "kv/range",
        { kvs: {} },
        (s) => s.get("p/1"),
        "kvs is an object, not an array",
      ],
      [
        "key a number",
        "kv/range",
        { kvs: [{ key: 5 }] },
        (s) => s.list("p/"),
        "kvs[0].key is a number, not a base64 string",
      ],
      [
        "kvs[0] a string",
        "kv/range",
        { kvs: ["x"] },
        (s) => s.list("p/"),
        "kvs[0] is a string, not an object",
      ],
      [
        "key not base64",
        "kv/range",
        { kvs: [{ key: "%%%" }] },
        (s) => s.list("p/"),
        "kvs[0].key is not base64",
      ],
      [
        "value a boolean",
        "kv/range",
        { header: HEADER, kvs: [kv("p/1", { value: true })] },
        (s) => s.list("p/"),
        "kvs[0].value is a boolean, not a base64 string",
      ],
      [
        "no mod_revision",
        "kv/range",
        { header: HEADER, kvs: [kv("p/1", { mod_revision: undefined })] },
        (s) => s.list("p/"),
        "kvs[0].mod_revision is missing",
      ],
      [
        "revision a number",
        "kv/range",
        { header: HEADER, kvs: [kv("p/1", { mod_revision: 5 })] },
        (s) => s.list("p/"),
        "kvs[0].mod_revision is a number, not a decimal string",
      ],
      [
        "revision over int64",
        "kv/range",
        { header: HEADER, kvs: [kv("p/1", { mod_revision: "9223372036854775808" })] },
        (s) => s.list("p/"),
        "kvs[0].mod_revision is not a positive decimal int64",
      ],
      [
        "key outside the prefix",
        "kv/range",
        { header: HEADER, kvs: [kv("q/1")] },
        (s) => s.list("p/"),
        "kvs[0].key is outside the range asked for",
      ],
      [
        "another key for get",
        "kv/range",
        { header: HEADER, kvs: [kv("p/2")] },
        (s) => s.get("p/1"),
        "kvs[0].key is outside the range asked for",
      ],
      [
        "a key twice",
        "kv/range",
        { header: HEADER, kvs: [kv("p/1"), kv("p/1")] },
        (s) => s.list("p/"),
        "kvs[1].key is repeated",
      ],
      ["no header", "kv/range", { kvs: [] }, (s) => s.list("p/"), "header is missing"],
      [
        "header.revision a number",
        "kv/range",
        { header: { revision: 7 } },
        (s) => s.get("p/1"),
        "header.revision is a number, not a decimal string",
      ],
      ["an array", "kv/range", [], (s) => s.list("p/"), "answer is an array, not an object"],
      ["null", "kv/range", "null", (s) => s.list("p/"), "answer is null, not an object"],
      [
        "not JSON",
        "kv/range",
        "<html>\n<b>oops</b>\n</html>",
        (s) => s.list("p/"),
        "answer is not JSON (HTTP 200)",
      ],
      [
        "succeeded a string",
        "kv/txn",
        { header: HEADER, succeeded: "yes" },
        (s) => s.createIfAbsent("p/1", bytes(1)),
        "succeeded is a string, not a boolean",
      ],
      [
        "failed txn without its range",
        "kv/txn",
        { header: HEADER },
        (s) => s.createIfAbsent("p/1", bytes(1)),
        "responses holds 0 entries, not 1",
      ],
      [
        "failed txn, range kvs an object",
        "kv/txn",
        { header: HEADER, responses: [{ response_range: { kvs: {} } }] },
        (s) => s.createIfAbsent("p/1", bytes(1)),
        "responses[0].response_range.kvs is an object, not an array",
      ],
      [
        "lease ID a number",
        "lease/grant",
        { header: HEADER, ID: 12, TTL: "5" },
        (s) => s.createIfAbsent("p/1", bytes(1), { ttlSeconds: 5 }),
        "ID is a number, not a decimal string",
      ],
      [
        "deleterange without header",
        "kv/deleterange",
        {},
        (s) => s.delete("p/1"),
        "header is missing",
      ],
    ];
    let current: [string, string | unknown] = ["", ""];
    const fake = fakeEtcd((path) => {
      if (path !== current[0]) return json({ header: HEADER, ID: "99", TTL: "5" });
      return json(current[1] as string);
    });
    const store = etcdStore([fake.endpoint]);
    try {
      for (const [what, path, body, call, reason] of cases) {
        current = [path, body];
        const e = await call(store).catch((e) => e);
        assertTyped(
          e,
          KeyStoreUnavailableError,
          `etcd: ${path} failed on every endpoint (${fake.endpoint}: malformed answer: ${reason})`
            .replace("malformed answer: answer is not JSON", "answer is not JSON"),
        );
        assert.ok(!(e.cause instanceof TypeError), what);
      }
    } finally {
      await store.close();
      await fake.close();
    }
  },
);

Deno.test(
  "issue 13: an etcd endpoint answers a 300 MB body: the read stops at 4 MiB, the stream is cancelled, KeyStoreUnavailableError",
  async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20); // JSON whitespace, forever
    const fake = fakeEtcd((path, _fake, stream) =>
      path === "kv/range"
        ? new Response(stream('{"header":{"revision":"7"},"kvs":[', chunk, 300 * MiB))
        : new Response(new Uint8Array(5 * MiB).fill(0x20), { status: 200 })
    );
    const store = new EtcdKeyStore({ endpoints: [fake.endpoint], requestTimeoutMs: 20_000 });
    try {
      const start = performance.now();
      const e = await store.list("p/").catch((e) => e);
      const took = performance.now() - start;
      record("etcd: 300 MB answer refused after", took);
      assertTyped(
        e,
        KeyStoreUnavailableError,
        `etcd: kv/range failed on every endpoint (${fake.endpoint}: answer is larger than 4194304 bytes (maxResponseBytes))`,
      );
      assert.ok(took < 5_000, `took ${took} ms`);
      await eventually("the server saw its stream cancelled", () => fake.cancelled === 1);
      // What the server produced before the cancel: the cap plus what sockets buffer.
      assert.ok(fake.sent < 32 * MiB, `server streamed ${fake.sent} bytes`);
      // A Content-Length over the cap is refused before the body is read.
      const del = await store.delete("p/1").catch((e) => e);
      assertTyped(
        del,
        KeyStoreUnavailableError,
        `etcd: kv/deleterange failed on every endpoint (${fake.endpoint}: answer is larger than 4194304 bytes (maxResponseBytes))`,
      );
    } finally {
      await store.close();
      await fake.close();
    }
  },
);

Deno.test(
  "issue 13: etcd error answers are quoted on one line, cut short, and HTML bodies not at all",
  async () => {
    const long = `line one\nline two\r\n\t${"x".repeat(300)}`;
    let answer = () => json({ code: 3, message: long, error: long }, 400);
    const fake = fakeEtcd(() => answer());
    const store = etcdStore([fake.endpoint]);
    try {
      const quoted = `line one line two ${"x".repeat(120 - 19)}…`;
      assertTyped(
        await store.get("p/1").catch((e) => e),
        KeyStoreError,
        `etcd: kv/range refused: ${quoted} (HTTP 400)`,
      );
      answer = () => json({ code: 14, message: long }, 503);
      assertTyped(
        await store.get("p/1").catch((e) => e),
        KeyStoreUnavailableError,
        `etcd: kv/range failed on every endpoint (${fake.endpoint}: ${quoted} (HTTP 503))`,
      );
      answer = () => new Response("<html>\n<h1>502 Bad Gateway</h1>\n</html>", { status: 502 });
      assertTyped(
        await store.list("p/").catch((e) => e),
        KeyStoreUnavailableError,
        `etcd: kv/range failed on every endpoint (${fake.endpoint}: HTTP 502, body is not JSON)`,
      );
      answer = () => json({ header: HEADER, error: "etcdserver:\nno lease" });
      assertTyped(
        await store.createIfAbsent("p/1", bytes(1), { ttlSeconds: 5 }).catch((e) => e),
        KeyStoreError,
        "etcd: lease/grant refused: etcdserver: no lease",
      );
    } finally {
      await store.close();
      await fake.close();
    }
  },
);

/** A watch message line. */
const watchLine = (result: Record<string, unknown>) =>
  JSON.stringify({ result: { header: HEADER, ...result } }) + "\n";
const CREATED = watchLine({ created: true });
const EVENT = watchLine({ events: [{ kv: { key: b64("p/1"), mod_revision: "8" } }] });

Deno.test(
  "issue 13: an etcd watch stream with garbage lines is dropped and reconnected with growing backoff; nothing after the garbage is delivered",
  async (t) => {
    let lines: string[] = [];
    const fake = fakeEtcd((path) => {
      if (path !== "watch") return json({ header: HEADER });
      // The lines, then the stream stays open (until the client drops it).
      const queued = lines.map((l) => enc.encode(l));
      return new Response(
        new ReadableStream({
          pull(c) {
            const next = queued.shift();
            if (next !== undefined) c.enqueue(next);
            else return new Promise(() => {});
          },
          cancel() {
            fake.cancelled++;
          },
        }),
      );
    });
    const store = etcdStore([fake.endpoint], { reconnectDelayMs: 50, maxReconnectDelayMs: 1_000 });
    try {
      for (
        const [what, garbage] of [
          ["not JSON", "garbage, not JSON\n"],
          ["events an object", watchLine({ events: {} })],
          ["an event without kv", watchLine({ events: [{ type: "PUT" }] })],
          ["an event of an unknown type", watchLine({ events: [{ type: "EXPLODE", kv: {} }] })],
          ["no header", JSON.stringify({ result: { events: [] } }) + "\n"],
          ["result a string", JSON.stringify({ result: "x" }) + "\n"],
        ]
      ) {
        await t.step(`after created: ${what}`, async () => {
          lines = [CREATED, garbage, EVENT, EVENT];
          fake.hits = {};
          fake.cancelled = 0;
          const w = counter(store, "p/");
          try {
            await sleep(1_200);
            const streams = fake.hits.watch ?? 0;
            // Each stream is established once (one onChange), then dropped at the garbage:
            // the events after it are never delivered.
            assert.ok(streams >= 2, `${streams} streams`);
            assert.equal(w.calls, streams);
            // The backoff grows (50, 100, 200, 400 ms...) instead of restarting at 50 ms.
            assert.ok(streams <= 6, `${streams} streams in 1.2 s`);
            assert.ok(fake.cancelled >= streams - 1, `${fake.cancelled} cancelled`);
          } finally {
            w.stop();
          }
        });
      }
      await t.step("garbage before created: never established, no onChange", async () => {
        lines = ["garbage\n", CREATED, EVENT];
        fake.hits = {};
        const w = counter(store, "p/");
        try {
          await sleep(600);
          assert.ok((fake.hits.watch ?? 0) >= 2);
          assert.equal(fake.hits["kv/range"] ?? 0, 0, "no probe: the watch was never created");
          assert.equal(w.calls, 0);
        } finally {
          w.stop();
        }
      });
      await t.step("a well-formed stream still works: created, then events", async () => {
        lines = [
          CREATED,
          EVENT,
          watchLine({ events: [{ type: "DELETE", kv: { key: b64("p/1") } }] }),
        ];
        const w = counter(store, "p/");
        try {
          await eventually("created and two events", () => w.calls === 3);
          await sleep(300);
          assert.equal(w.calls, 3);
        } finally {
          w.stop();
        }
      });
    } finally {
      await store.close();
      await fake.close();
    }
  },
);

Deno.test(
  "issue 13: an etcd watch message of 300 MB is dropped at 4 MiB and its stream cancelled",
  async () => {
    const chunk = new Uint8Array(64 * 1024).fill(0x20); // one endless line of whitespace
    const fake = fakeEtcd((path, _fake, stream) =>
      path === "watch" ? new Response(stream(CREATED, chunk, 300 * MiB)) : json({ header: HEADER })
    );
    // No member checks during the test: only the size cap may end the stream.
    const store = etcdStore([fake.endpoint], {
      reconnectDelayMs: 5_000,
      watchCheckIntervalMs: 60_000,
    });
    const w = counter(store, "p/");
    try {
      const took = await eventually("the first stream cancelled", () => fake.cancelled >= 1, 3_000);
      record("etcd: 300 MB watch message dropped after", took);
      assert.equal(w.calls, 1, "established once, then dropped");
      assert.equal(fake.hits.watch, 1, "not reconnected yet (5 s backoff)");
      assert.ok(fake.sent < 32 * MiB, `server streamed ${fake.sent} bytes`);
    } finally {
      w.stop();
      await store.close();
      await fake.close();
    }
  },
);

Deno.test({
  name:
    "issue 13: an etcd endpoint answering malformed shapes is passed over for a member that answers well; FleetRing.status().lastError is one line",
  ignore: etcd.bin === null,
  async fn() {
    await withCluster(1, async (cluster) => {
      // A proxy that forwards to the member, or answers {"kvs":{}} while `broken`.
      let broken = false;
      const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
        const path = new URL(req.url).pathname;
        const body = await req.text();
        if (broken) return json({ kvs: {} });
        const res = await fetch(`${cluster.endpoints[0]}${path}`, { method: "POST", body });
        return new Response(await res.text(), { status: res.status });
      });
      const via = `http://127.0.0.1:${proxy.addr.port}`;
      const garbage = fakeEtcd(() => json({ kvs: {} }));
      const passOver = etcdStore([garbage.endpoint, cluster.endpoints[0]]);
      const store = etcdStore([via]);
      let ring: FleetRing | undefined;
      try {
        assert.equal(await passOver.createIfAbsent("f/1", bytes(1)), true);
        assert.deepEqual((await passOver.list("f/")).map((r) => r.key), ["f/1"]);
        ring = await FleetRing.start({
          store,
          prefix: "f/fleet",
          kek: new Uint8Array(32).fill(7),
          background: false,
        });
        assert.equal(ring.status().lastError, null);
        broken = true;
        await ring.sync();
        const st = ring.status();
        assert.equal(
          st.lastError,
          `etcd: kv/range failed on every endpoint (${via}: malformed answer: kvs is an object, not an array)`,
        );
        assert.equal(st.storeReachable, false);
        broken = false;
        await ring.sync();
        assert.equal(ring.status().storeReachable, true);
      } finally {
        await ring?.stop();
        await store.close();
        await passOver.close();
        await garbage.close();
        await proxy.shutdown();
      }
    });
  },
});

Deno.test({
  name:
    "issue 13: Deno KV values of the wrong type under the fleet's prefix: KeyStoreError naming the record, not a TypeError",
  ignore: !kvEnabled,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kv_untrusted_test_" });
    const path = `${dir}/keys.kv`;
    const kv = await Deno.openKv(path);
    const store = await DenoKvKeyStore.open(path, { pollIntervalMs: KV_POLL_MS });
    const not = "is not a record of this store";
    try {
      const cases: [string, Deno.KvKey, unknown, string][] = [
        [
          "a string",
          ["fleet", "keys", "1"],
          "garbage",
          `record "fleet/keys/1" ${not}: its value is a string, not { value, expiresAt }`,
        ],
        [
          "bare bytes",
          ["fleet", "keys", "1"],
          bytes(1, 2),
          `record "fleet/keys/1" ${not}: its value is a Uint8Array, not { value, expiresAt }`,
        ],
        [
          "an array",
          ["fleet", "keys", "1"],
          [bytes(1)],
          `record "fleet/keys/1" ${not}: its value is an array, not { value, expiresAt }`,
        ],
        [
          "a KvU64",
          ["fleet", "keys", "1"],
          new Deno.KvU64(5n),
          `record "fleet/keys/1" ${not}: its value is a KvU64, not { value, expiresAt }`,
        ],
        [
          "value a string",
          ["fleet", "keys", "1"],
          { value: "x", expiresAt: null },
          `record "fleet/keys/1" ${not}: value is a string, not a Uint8Array`,
        ],
        [
          "value missing",
          ["fleet", "keys", "1"],
          { expiresAt: null },
          `record "fleet/keys/1" ${not}: value is missing, not a Uint8Array`,
        ],
        ["value too long", ["fleet", "keys", "1"], {
          value: new Uint8Array(MAX_STORE_VALUE_BYTES + 1),
          expiresAt: null,
        }, `record "fleet/keys/1" ${not}: value is longer than ${MAX_STORE_VALUE_BYTES} bytes`],
        [
          "expiresAt a string",
          ["fleet", "keys", "1"],
          { value: bytes(1), expiresAt: "soon" },
          `record "fleet/keys/1" ${not}: expiresAt is a string, not a number or null`,
        ],
        [
          "expiresAt missing",
          ["fleet", "keys", "1"],
          { value: bytes(1) },
          `record "fleet/keys/1" ${not}: expiresAt is missing, not a number or null`,
        ],
        [
          "a key part that is a number",
          ["fleet", "keys", 1],
          { value: bytes(1), expiresAt: null },
          `entry "fleet/keys/<a number>" ${not}: part 3 is a number, not a string`,
        ],
        [
          "a key part with a slash",
          ["fleet", "keys/1"],
          { value: bytes(1), expiresAt: null },
          `entry "fleet/keys/1" ${not}: part 2 holds "/"`,
        ],
        [
          "a newline in the key",
          ["fleet", "k\n1"],
          "x",
          `record "fleet/k\\n1" ${not}: its value is a string, not { value, expiresAt }`,
        ],
      ];
      for (const [what, parts, value, reason] of cases) {
        await kv.set(["key_store", "d", ...parts], value);
        const message = `deno kv: ${reason}`;
        assertTyped(await store.list("fleet/").catch((e) => e), KeyStoreError, message);
        if (parts.every((p) => typeof p === "string" && !p.includes("/"))) {
          const key = parts.join("/");
          assertTyped(await store.get(key).catch((e) => e), KeyStoreError, message);
          assertTyped(
            await store.createIfAbsent(key, bytes(9)).catch((e) => e),
            KeyStoreError,
            message,
          );
          await store.delete(key); // the way out: delete removes it
        } else {
          await kv.delete(["key_store", "d", ...parts]);
        }
        assert.deepEqual(await store.list("fleet/"), [], what);
      }

      // A change counter of the wrong type blocks nothing: it is overwritten, never summed.
      await kv.set(["key_store", "c", "fleet"], "not a counter");
      await kv.set(["key_store", "c"], { any: "thing" });
      const w = counter(store, "fleet/");
      try {
        await eventually("established", () => w.calls === 1);
        assert.equal(await store.createIfAbsent("fleet/keys/2", bytes(2)), true);
        await eventually("onChange", () => w.calls === 2);
        await store.delete("fleet/keys/2");
        await eventually("onChange", () => w.calls === 3);
      } finally {
        w.stop();
      }

      // A list is capped: more than 4 MiB of records is refused, not read whole.
      const big = new Uint8Array(MAX_STORE_VALUE_BYTES);
      for (let i = 0; i < 90; i++) assert.equal(await store.createIfAbsent(`big/${i}`, big), true);
      assertTyped(
        await store.list("big/").catch((e) => e),
        KeyStoreError,
        'deno kv: the records under "big/" are larger than 4194304 bytes',
      );
      assert.equal((await store.list("big/1")).length, 11);
    } finally {
      kv.close();
      await store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "issue 13: Deno KV value of the wrong type under a fleet's prefix: FleetRing.status().lastError names it on one line, and clears once it is gone",
  ignore: !kvEnabled,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kv_untrusted_ring_" });
    const path = `${dir}/keys.kv`;
    const store = await DenoKvKeyStore.open(path);
    const kv = await Deno.openKv(path);
    let ring: FleetRing | undefined;
    try {
      ring = await FleetRing.start({
        store,
        prefix: "t/fleet",
        kek: new Uint8Array(32).fill(7),
        background: false,
      });
      assert.equal(ring.status().lastError, null);
      await kv.set(["key_store", "d", "t", "fleet", "keys", "0000000000000001"], "garbage");
      await ring.sync();
      assert.equal(
        ring.status().lastError,
        'deno kv: record "t/fleet/keys/0000000000000001" is not a record of this store: its value is a string, not { value, expiresAt }',
      );
      // Once the bad record is gone, the next sync clears the error (it does not go stale).
      await kv.delete(["key_store", "d", "t", "fleet", "keys", "0000000000000001"]);
      await ring.sync();
      assert.equal(ring.status().lastError, null);
    } finally {
      await ring?.stop();
      kv.close();
      await store.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("fleet stores: measured timings", () => {
  for (const [name, ms] of Object.entries(timings)) console.log(`  ${name}: ${ms} ms`);
});
