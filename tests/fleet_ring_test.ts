// Tests for FleetRing (src/fleet/fleet_ring.ts), its schedule (src/fleet/_schedule.ts) and key
// wrapping (src/fleet/key_wrap.ts), with a fake clock and the in-memory store.
// OpenSSL has no fleet rotation; the states follow the renew-on-old-key behaviour of nginx's
// ngx_ssl_ticket_key_callback and HAProxy's ssl_tlsext_ticket_key_cb (SUCCESS_RENEW for a key
// that no longer seals), the export orders follow nginx (first ssl_session_ticket_key seals) and
// HAProxy (tls-ticket-keys: the penultimate line seals, the last is the staged next key), and the
// lifetime hint rule follows s2n (the hint never outlives the key).
import assert from "node:assert/strict";
import { FleetConfigError } from "../src/fleet/errors.ts";
import { NoSealingKeyError, TicketKeyError } from "../src/ticket/errors.ts";
import { encodeSessionTransient } from "../src/session/codec.ts";
import { SslSession } from "../src/session/ssl_session.ts";
import { TicketStatus } from "../src/ticket/status.ts";
import { TicketKey } from "../src/ticket/ticket_key.ts";
import { FleetRing } from "../src/fleet/fleet_ring.ts";
import type { FleetRingOptions } from "../src/fleet/fleet_types.ts";
import { MemoryKeyStore } from "../src/fleet/memory_store.ts";
import { WRITER_SLACK } from "../src/fleet/_clock.ts";
import { SslContext } from "../src/server/ssl_context.ts";
import { handshake, TestClient } from "../testing.ts";
import { importKek, loadKek, parseKek, unwrapRecord, wrapRecord } from "../src/fleet/key_wrap.ts";
import {
  checkSchedule,
  eraseAt,
  fleetKeyStates,
  keyRecordName,
  parseKeyRecordName,
  sealFrom,
  wantedIntervals,
} from "../src/fleet/_schedule.ts";

const I = 60_000; // rotation interval
const D = 120_000; // decrypt-only period
const P = 1_000; // propagation delay
const S = 2_000; // clock skew
const PREFIX = "test/fleet";
const KEK_BYTES = new Uint8Array(32).map((_, i) => i + 1);
const PT = Uint8Array.of(1, 2, 3);

function clock(start: number) {
  const c = { t: start, now: () => c.t };
  return c;
}

function fleet(
  store: MemoryKeyStore,
  now: () => number,
  extra: Partial<FleetRingOptions> = {},
): Promise<FleetRing> {
  return FleetRing.start({
    store,
    prefix: PREFIX,
    kek: KEK_BYTES,
    rotationInterval: I,
    decryptPeriod: D,
    propagationDelay: P,
    maxClockSkew: S,
    now,
    background: false,
    ...extra,
  });
}

async function storedIntervals(store: MemoryKeyStore): Promise<number[]> {
  return (await store.list(`${PREFIX}/keys/`)).map((r) => parseKeyRecordName(PREFIX, r.key)!);
}

const name = (t: Uint8Array) => t.subarray(0, 16).toHex();

Deno.test("schedule: defaults, validation, wanted intervals, late keys, record names", () => {
  const s = checkSchedule({});
  assert.deepEqual(s, {
    rotationInterval: 12 * 3600_000,
    decryptPeriod: 24 * 3600_000,
    publishLead: 12 * 3600_000,
    propagationDelay: 10_000,
    maxClockSkew: 60_000,
  });
  assert.throws(
    () => checkSchedule({ publishLead: 30_000, maxClockSkew: 30_000, propagationDelay: 0 }),
    (e) =>
      e instanceof FleetConfigError &&
      e.message.startsWith("publishLead (30000 ms) must exceed propagationDelay + maxClockSkew"),
  );
  assert.throws(() => checkSchedule({ rotationInterval: 0 }), FleetConfigError);
  assert.throws(() => checkSchedule({ decryptPeriod: -1 }), FleetConfigError);
  assert.throws(() => checkSchedule({ rotationInterval: 1.5 }), FleetConfigError);
  // I = 2 s with a 35 s lead: keys are published 17 intervals ahead, pending meanwhile.
  const fast = checkSchedule({
    rotationInterval: 2000,
    publishLead: 35_000,
    maxClockSkew: 30_000,
    propagationDelay: 2000,
  });
  assert.deepEqual(wantedIntervals(1_000_000, fast), [500, 517]);
  const t = checkSchedule({
    rotationInterval: 1000,
    publishLead: 500,
    maxClockSkew: 100,
    propagationDelay: 100,
  });
  assert.equal(sealFrom(10, 9_000, t), 10_000); // published on time
  assert.equal(sealFrom(10, 10_500, t), 10_700); // late: P + S after creation
  assert.equal(sealFrom(10, 10_800, t), null); // too late to ever seal
  assert.equal(eraseAt(10, checkSchedule({ rotationInterval: 1000, decryptPeriod: 5000 })), 16_000);
  assert.equal(keyRecordName("a/b", 7), "a/b/keys/0000000000000007");
  assert.equal(parseKeyRecordName("a/b", "a/b/keys/0000000000000007"), 7);
  assert.equal(parseKeyRecordName("a/b", "a/b/keys/7"), null);
  assert.equal(parseKeyRecordName("a/b", "a/c/keys/0000000000000007"), null);
});

Deno.test("key wrap: round trip, AAD binds the record key, KEK loading errors", async () => {
  const kek = await importKek(KEK_BYTES);
  const v = await wrapRecord(kek, "p/keys/1", Uint8Array.of(9, 8, 7), { n: 1 });
  const r = await unwrapRecord(kek, "p/keys/1", v);
  assert.deepEqual(r.header, { n: 1 });
  assert.deepEqual([...r.payload], [9, 8, 7]);
  await assert.rejects(
    () => unwrapRecord(kek, "p/keys/2", v),
    (e) =>
      e instanceof TicketKeyError &&
      e.message === "store record p/keys/2 does not open under this key-encryption key",
  );
  const other = await importKek(new Uint8Array(32));
  await assert.rejects(() => unwrapRecord(other, "p/keys/1", v), TicketKeyError);
  await assert.rejects(
    () => unwrapRecord(kek, "p/keys/1", Uint8Array.of(1, 2)),
    (e) =>
      e instanceof TicketKeyError &&
      e.message === "store record p/keys/1 is not a wrapped fleet record",
  );
  await assert.rejects(() => importKek(new Uint8Array(16)), FleetConfigError);
  await assert.rejects(
    () => parseKek("AAAA"),
    (e) =>
      e instanceof FleetConfigError &&
      e.message ===
        "SESSION_TICKETS_KEK decodes to 3 bytes; a key-encryption key is base64 of 32 bytes",
  );
  await assert.rejects(() => parseKek("!!"), FleetConfigError);
  await assert.rejects(
    () => loadKek({ env: "SESSION_TICKETS_TEST_UNSET_KEK" }),
    (e) => e instanceof FleetConfigError && e.message.startsWith("no key-encryption key: set"),
  );
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/kek`, KEK_BYTES.toBase64() + "\n");
    const fromFile = await loadKek({ file: `${dir}/kek` });
    assert.deepEqual([...(await unwrapRecord(fromFile, "p/keys/1", v)).payload], [9, 8, 7]);
    await assert.rejects(() => loadKek({ file: `${dir}/missing` }), FleetConfigError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("schedule in one ring: pending, active, decrypt-only (SUCCESS_RENEW), erased from memory and store", async () => {
  const c = clock(100 * I + 10_000); // 10 s into interval 100
  const store = new MemoryKeyStore({ now: c.now });
  const ring = await fleet(store, c.now);
  assert.deepEqual(await storedIntervals(store), [100, 101]);
  let st = ring.status();
  assert.equal(st.currentInterval, 100);
  assert.deepEqual(st.keys.map((k) => [k.interval, k.state, k.sealFrom]), [
    [100, "pending", c.t + P + S], // created late in its own interval: seals P + S after
    [101, "pending", 101 * I],
  ]);
  assert.equal(st.sealing, null);
  await assert.rejects(
    () => ring.sealBytes(PT),
    (e) => e instanceof TicketKeyError && e.message.includes("has no key sealing yet"),
  );
  c.t += P + S;
  const t100 = await ring.sealBytes(PT);
  assert.equal(name(t100), st.keys[0].name);
  assert.equal((await ring.openBytes(t100)).status, TicketStatus.SUCCESS);
  c.t = 101 * I;
  await ring.sync();
  assert.deepEqual(await storedIntervals(store), [100, 101, 102]);
  st = ring.status();
  assert.deepEqual(st.keys.map((k) => [k.interval, k.state]), [
    [100, "decrypt-only"],
    [101, "active"],
    [102, "pending"],
  ]);
  assert.equal(st.onSchedule, true);
  assert.deepEqual(st.keys[0], {
    interval: 100,
    name: name(t100),
    state: "decrypt-only",
    createdAt: 100 * I + 10_000,
    activateAt: 100 * I,
    sealFrom: 100 * I + 10_000 + P + S,
    deactivateAt: 101 * I,
    eraseAt: 101 * I + D,
  });
  assert.equal((await ring.openBytes(t100)).status, TicketStatus.SUCCESS_RENEW);
  const t101 = await ring.sealBytes(PT);
  assert.equal(name(t101), st.keys[1].name);
  c.t = 101 * I + D - 1;
  assert.equal((await ring.openBytes(t100)).status, TicketStatus.SUCCESS_RENEW);
  c.t = 101 * I + D; // key 100's decrypt life ends
  const gone = await ring.openBytes(t100);
  assert.equal(gone.status, TicketStatus.NO_DECRYPT);
  assert.equal(gone.failure, "unknownKey");
  assert.equal(ring.status().keys[0].interval, 101);
  await ring.sync();
  assert.ok((await storedIntervals(store)).includes(100)); // the store keeps it S longer
  c.t += S;
  await ring.sync();
  assert.ok((await storedIntervals(store)).includes(100)); // deleted only *more* than S after
  c.t += 1;
  await ring.sync();
  assert.ok(!(await storedIntervals(store)).includes(100));
  const m = ring.metrics();
  assert.equal(m.erased, 1);
  assert.equal(m.storeDeletes, 1);
  assert.equal(m.proposalsWon, 5); // 100..104
  await ring.stop();
});

Deno.test("10 rings racing: exactly one key per interval, all adopt the winner's", async () => {
  const c = clock(500 * I + 30_000);
  const first = new MemoryKeyStore({ now: c.now });
  const clients = [first, ...Array.from({ length: 9 }, () => first.connect())];
  const rings = await Promise.all(clients.map((s) => fleet(s, c.now)));
  const total = () => rings.reduce((n, r) => n + r.metrics().proposalsWon, 0);
  assert.deepEqual(await storedIntervals(first), [500, 501]);
  assert.equal(total(), 2);
  const names = (r: FleetRing) => r.status().keys.map((k) => `${k.interval}:${k.name}`).join();
  for (const r of rings) assert.equal(names(r), names(rings[0]));
  for (let step = 1; step <= 12; step++) {
    c.t = (500 + step) * I + (step % 3) * 1000;
    await Promise.all(rings.map((r) => r.sync()));
    for (const r of rings) assert.equal(names(r), names(rings[0]));
  }
  assert.equal(total(), 14); // intervals 500..513
  assert.equal(rings.reduce((n, r) => n + r.metrics().proposalsLost, 0) > 0, true);
  const ticket = await rings[3].sealBytes(PT);
  for (const r of rings) assert.equal((await r.openBytes(ticket)).status, TicketStatus.SUCCESS);
  await Promise.all(rings.map((r) => r.stop()));
});

Deno.test("wrong KEK refuses to start with a clear error; so does a different schedule", async () => {
  const c = clock(10 * I);
  const store = new MemoryKeyStore({ now: c.now });
  const ring = await fleet(store, c.now);
  const before = await storedIntervals(store);
  await assert.rejects(
    () => fleet(store.connect(), c.now, { kek: new Uint8Array(32).fill(9) }),
    (e) =>
      e instanceof FleetConfigError &&
      e.message ===
        "key-encryption key does not match the fleet's; check SESSION_TICKETS_KEK (store record test/fleet/kek-check)",
  );
  await assert.rejects(
    () => fleet(store.connect(), c.now, { rotationInterval: 2 * I, publishLead: 2 * I }),
    (e) =>
      e instanceof FleetConfigError &&
      e.message ===
        "the fleet at test/fleet runs rotationInterval 60000 ms, decryptPeriod 120000 ms, format aes-256-gcm, maxProcesses 16; " +
          "this process asked for rotationInterval 120000 ms, decryptPeriod 120000 ms, format aes-256-gcm, maxProcesses 16: use the fleet's settings",
  );
  await assert.rejects(
    () => fleet(store.connect(), c.now, { format: "openssl" }),
    (e) => e instanceof FleetConfigError && e.message.includes("format openssl AES-256"),
  );
  assert.deepEqual(await storedIntervals(store), before); // nothing created by the refused ones
  await assert.rejects(
    () => fleet(store, c.now, { publishLead: P + S }),
    (e) =>
      e instanceof FleetConfigError && e.message.startsWith("publishLead (3000 ms) must exceed"),
  );
  await ring.stop();
});

Deno.test("secrets: no stored value contains any key's raw bytes; inspect shows names only", async () => {
  const c = clock(42 * I);
  const store = new MemoryKeyStore({ now: c.now });
  const rings = [
    await fleet(store, c.now),
    await fleet(store.connect(), c.now, { prefix: "test/other", format: "openssl" }),
  ];
  for (let i = 1; i <= 3; i++) {
    c.t = (42 + i) * I;
    for (const r of rings) await r.sync();
  }
  const kek = await importKek(KEK_BYTES);
  const all = await store.list("test/");
  const secrets: Uint8Array[] = [];
  for (const r of all) {
    if (r.key.endsWith("/kek-check")) continue;
    const { payload } = await unwrapRecord(kek, r.key, r.value);
    secrets.push(payload.slice(16)); // the AES (and HMAC) key bytes, after the name
  }
  assert.equal(secrets.length, 10); // 5 + 5 keys
  const hay = all.map((r) => r.value);
  const includes = (h: Uint8Array, n: Uint8Array) => {
    outer: for (let i = 0; i + n.length <= h.length; i++) {
      for (let j = 0; j < n.length; j++) if (h[i + j] !== n[j]) continue outer;
      return true;
    }
    return false;
  };
  const te = new TextEncoder();
  for (const sec of secrets) {
    for (const part of [sec.subarray(0, 16), sec.subarray(sec.length - 16)]) {
      for (const h of hay) {
        assert.equal(includes(h, part), false);
        assert.equal(includes(h, te.encode(part.toHex())), false);
        assert.equal(includes(h, te.encode(part.toBase64().slice(0, 20))), false);
      }
    }
  }
  const shown = Deno.inspect(rings[0]) + JSON.stringify(rings[0]) +
    JSON.stringify(rings[0].status()) + JSON.stringify(rings[0].metrics());
  for (const sec of secrets) assert.equal(shown.includes(sec.toHex().slice(0, 16)), false);
  for (const r of rings) await r.stop();
});

Deno.test("store outage: keeps sealing and opening, reports it, creates nothing, erases on time, catches up", async () => {
  const c = clock(200 * I - 30_000);
  const store = new MemoryKeyStore({ now: c.now });
  const ring = await fleet(store, c.now); // keys 199 (late, never seals) and 200
  c.t = 200 * I + 1000;
  await ring.sync();
  const t200 = await ring.sealBytes(PT);
  assert.deepEqual(await storedIntervals(store), [199, 200, 201]);
  store.down = true;
  c.t = 200 * I + 5000;
  await ring.sync();
  let st = ring.status();
  assert.equal(st.storeReachable, false);
  assert.equal(st.unreachableSince, 200 * I + 5000);
  assert.match(st.lastError!, /unavailable|down|unreachable/i);
  const proposals = ring.metrics().proposals;
  // Through the boundary to 201 (published before the outage): on schedule.
  c.t = 201 * I + 10;
  await ring.sync();
  assert.equal(ring.status().sealing!.interval, 201);
  assert.equal((await ring.openBytes(t200)).status, TicketStatus.SUCCESS_RENEW);
  // Through the boundary to 202 (never published): 201 keeps sealing, off schedule.
  c.t = 202 * I + 10;
  await ring.sync();
  st = ring.status();
  assert.equal(st.sealing!.interval, 201);
  assert.equal(st.onSchedule, false);
  assert.equal(st.unreachableSince, 200 * I + 5000);
  const t201 = await ring.sealBytes(PT);
  assert.equal((await ring.openBytes(t201)).status, TicketStatus.SUCCESS);
  // Key 201 seals past its interval (no successor): it is erased only decryptPeriod after a
  // successor starts, so a ticket sealed now opens for D at least, and the hint says D.
  assert.equal(ring.status().keys.find((k) => k.interval === 201)!.eraseAt, null);
  assert.equal(ring.lifetimeHint(1_000_000), D / 1000);
  assert.equal(ring.metrics().proposals, proposals); // nothing created during the outage
  // Key 200's decrypt life ends during the outage: erased from memory all the same.
  c.t = 201 * I + D;
  await ring.sync();
  assert.equal((await ring.openBytes(t200)).status, TicketStatus.NO_DECRYPT);
  assert.deepEqual(ring.status().keys.map((k) => k.interval), [201]);
  assert.equal((await ring.openBytes(t201)).status, TicketStatus.SUCCESS);
  assert.deepEqual(
    await (async () => {
      store.down = false;
      const r = await storedIntervals(store);
      store.down = true;
      return r;
    })(),
    [199, 200, 201],
  );
  // The store returns: re-list, propose the due keys, adopt them.
  store.down = false;
  await ring.sync();
  st = ring.status();
  assert.equal(st.storeReachable, true);
  assert.equal(st.unreachableSince, null);
  const now = c.t; // 201·I + D = 203·I: keys 203 (late) and 204 are due
  assert.deepEqual(st.keys.map((k) => [k.interval, k.state, k.sealFrom]), [
    [201, "active", 201 * I],
    [203, "pending", now + P + S],
    [204, "pending", 204 * I],
  ]);
  c.t += P + S;
  assert.equal(ring.status().sealing!.interval, 203);
  assert.equal((await ring.openBytes(t201)).status, TicketStatus.SUCCESS_RENEW);
  // Long outages rule: key 201 sealed until 203 started (now): it opens D more, not to 202·I + D.
  assert.equal(ring.status().keys[0].eraseAt, now + P + S + D);
  c.t = now + P + S + D - 1;
  await ring.sync();
  assert.equal((await ring.openBytes(t201)).status, TicketStatus.SUCCESS_RENEW);
  c.t += 1;
  assert.equal((await ring.openBytes(t201)).status, TicketStatus.NO_DECRYPT);
  await ring.stop();
});

Deno.test("late joiner learns every live key before it seals and opens every live ticket", async () => {
  const c = clock(300 * I);
  const store = new MemoryKeyStore({ now: c.now });
  const a = await fleet(store, c.now);
  const tickets: Uint8Array[] = [];
  for (let i = 1; i <= 4; i++) {
    c.t = (300 + i) * I + 500;
    await a.sync();
    tickets.push(await a.sealBytes(PT));
  }
  const b = await fleet(store.connect(), c.now);
  const live = (r: FleetRing) => r.status().keys.map((k) => `${k.interval}:${k.name}:${k.state}`);
  assert.deepEqual(live(b), live(a));
  assert.deepEqual(a.status().keys.map((k) => k.interval), [302, 303, 304, 305]);
  const results = await Promise.all(tickets.map((t) => b.openBytes(t)));
  assert.deepEqual(results.map((r) => r.status), [
    TicketStatus.NO_DECRYPT, // key 301: erased at 302·I + D = 304·I
    TicketStatus.SUCCESS_RENEW,
    TicketStatus.SUCCESS_RENEW,
    TicketStatus.SUCCESS,
  ]);
  assert.equal(name(await b.sealBytes(PT)), name(tickets[3]));
  await a.stop();
  await b.stop();
});

Deno.test("lifetime hint: min(timeout, remaining seal time + decryptPeriod), 0 with nothing sealing", async () => {
  const c = clock(700 * I - 10_000);
  const store = new MemoryKeyStore({ now: c.now });
  const ring = await fleet(store, c.now);
  assert.equal(ring.lifetimeHint(7200), 0);
  c.t = 700 * I + 15_000;
  assert.equal(ring.lifetimeHint(100_000), (I - 15_000 + D) / 1000); // 165
  assert.equal(ring.lifetimeHint(60), 60);
  c.t = 701 * I - 1000;
  assert.equal(ring.lifetimeHint(100_000), (1000 + D) / 1000);
  await ring.stop();
});

Deno.test("clock skew: a process S ahead only seals under keys the others already hold", async () => {
  const c = clock(900 * I + 5000);
  const ahead = () => c.t + S;
  const store = new MemoryKeyStore({ now: c.now });
  const fast = await fleet(store.connect(), ahead);
  const slow = await fleet(store, c.now);
  for (let t = 901 * I - 4000; t < 905 * I; t += 500) {
    c.t = t;
    // The fast process syncs first (it sees boundaries first); the slow one P later at most.
    await fast.sync();
    const ticket = await fast.sealBytes(PT).catch(() => null);
    if (ticket !== null) {
      const r = await slow.openBytes(ticket);
      assert.ok(
        r.status === TicketStatus.SUCCESS || r.status === TicketStatus.SUCCESS_RENEW,
        `t=${t}: ${r.status}`,
      );
    }
    await slow.sync();
  }
  await fast.stop();
  await slow.stop();
});

Deno.test("export: nginx current first then pending then older; HAProxy [older..., active, next]", async () => {
  const c = clock(1000 * I);
  const store = new MemoryKeyStore({ now: c.now });
  const ring = await fleet(store, c.now, { format: "openssl" });
  for (let i = 1; i <= 3; i++) {
    c.t = (1000 + i) * I + 100;
    await ring.sync();
  }
  const st = ring.status();
  const by = new Map(st.keys.map((k) => [k.interval, k.name]));
  assert.deepEqual(st.keys.map((k) => [k.interval, k.state]), [
    [1001, "decrypt-only"],
    [1002, "decrypt-only"],
    [1003, "active"],
    [1004, "pending"],
  ]);
  const ng = await ring.exportKeys("nginx-80");
  assert.deepEqual(ng.files.map((f) => f.length), [80, 80, 80, 80]);
  assert.deepEqual(ng.files.map((f) => f.subarray(0, 16).toHex()), [
    by.get(1003),
    by.get(1004),
    by.get(1002),
    by.get(1001),
  ]);
  assert.deepEqual(ng.keys.map((k) => k.state), [
    "active",
    "pending",
    "decrypt-only",
    "decrypt-only",
  ]);
  const ticket = await ring.sealBytes(PT);
  const nginxCurrent = await TicketKey.import(ng.files[0], "nginx-80");
  assert.equal((await nginxCurrent.openBytes(ticket)).status, TicketStatus.SUCCESS);
  const ha = await ring.exportKeys("haproxy-80");
  assert.equal(ha.files.length, 1);
  const lines = await TicketKey.importAll(ha.files[0], "haproxy-80");
  assert.deepEqual(lines.map((k) => k.nameHex), [
    by.get(1001),
    by.get(1002),
    by.get(1003), // penultimate: HAProxy seals with it
    by.get(1004), // last: the staged next key
  ]);
  assert.equal((await lines[2].openBytes(ticket)).status, TicketStatus.SUCCESS);
  await assert.rejects(
    () => ring.exportKeys("nginx-48"),
    (e) =>
      e instanceof FleetConfigError &&
      e.message ===
        'nginx-48 holds openssl keys with AES-128, and this fleet\'s keys are openssl AES-256; run the fleet with format "openssl" and aesBits 128 to export nginx-48',
  );
  const gcm = await fleet(store.connect(), c.now, { prefix: "test/gcm" });
  await assert.rejects(() => gcm.exportKeys("haproxy-80"), FleetConfigError);
  await gcm.stop();
  await ring.stop();
});

Deno.test("rotateNow publishes the next interval's key early (short publishLead)", async () => {
  const c = clock(50 * I + 1000);
  const store = new MemoryKeyStore({ now: c.now });
  const ring = await fleet(store, c.now, { publishLead: P + S + 1 });
  assert.deepEqual(await storedIntervals(store), [50]);
  const r = await ring.rotateNow();
  assert.equal(r.interval, 51);
  assert.equal(r.created, true);
  assert.equal(r.name, ring.status().keys[1].name);
  assert.deepEqual(await storedIntervals(store), [50, 51]);
  assert.equal((await ring.rotateNow()).created, false);
  store.down = true;
  c.t = 52 * I - 10;
  await assert.rejects(
    () => ring.rotateNow(),
    (e) => (e as Error).name === "KeyStoreUnavailableError",
  );
  await ring.stop();
});

Deno.test("start: store unreachable rejects; bad options are typed errors", async () => {
  const store = new MemoryKeyStore();
  store.down = true;
  await assert.rejects(
    () => fleet(store, Date.now),
    (e) => (e as Error).name === "KeyStoreUnavailableError",
  );
  store.down = false;
  await assert.rejects(() => fleet(store, Date.now, { kek: new Uint8Array(3) }), FleetConfigError);
  await assert.rejects(() => fleet(store, Date.now, { prefix: "a b" }), FleetConfigError);
  await assert.rejects(
    () => fleet(store, Date.now, { format: "aes-256-gcm", aesBits: 128 }),
    FleetConfigError,
  );
  await assert.rejects(
    () => fleet(store, Date.now, { rotationInterval: 1, publishLead: 10_000 }),
    (e) => e instanceof FleetConfigError && e.message.includes("more than 4096 intervals"),
  );
});

Deno.test("background mode: watch + timer pick up another process's key", async () => {
  const store = new MemoryKeyStore();
  const opts = {
    rotationInterval: 400,
    decryptPeriod: 800,
    propagationDelay: 100,
    maxClockSkew: 50,
    now: Date.now,
    background: true,
  };
  const a = await fleet(store, Date.now, opts);
  const b = await fleet(store.connect(), Date.now, opts);
  await a.ready(5000);
  await new Promise((r) => setTimeout(r, 1200));
  const ka = a.status().keys.map((k) => k.name).join();
  assert.equal(b.status().keys.map((k) => k.name).join(), ka);
  const t = await b.sealBytes(PT);
  const r = await a.openBytes(t);
  assert.ok(r.status === TicketStatus.SUCCESS || r.status === TicketStatus.SUCCESS_RENEW);
  await a.stop();
  await b.stop();
});

Deno.test("cli fleet: rotate founds a fleet, status/metrics/export read it, errors are one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fleet_cli_" });
  const cli = new URL("../cli.ts", import.meta.url).pathname;
  const kekFile = `${dir}/kek`;
  await Deno.writeTextFile(kekFile, KEK_BYTES.toBase64() + "\n");
  const store = `kv:${dir}/keys.kv`;
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--unstable-kv",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-net=127.0.0.1",
        cli,
        "fleet",
        ...args,
      ],
      env,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  };
  try {
    // Issue 11: a read-only command refuses a store that does not exist (it never creates one).
    let r = await run(["status", "--store", store, "--kek-file", kekFile]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `error: there is no Deno KV store at ${dir}/keys.kv, and this command never creates one; check --store (fleet rotate founds a fleet)\n`,
    );
    await assert.rejects(() => Deno.stat(`${dir}/keys.kv`), Deno.errors.NotFound);
    r = await run([
      "rotate",
      "--store",
      store,
      "--kek-file",
      kekFile,
      "--format",
      "openssl",
      "--rotation-interval",
      "1h",
      "--decrypt-period",
      "2h",
      "--propagation-delay",
      "0",
      "--max-clock-skew",
      "0",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const rot = JSON.parse(r.stdout);
    assert.equal(rot.created, false); // founding already staged the next key (lead = 1 interval)
    r = await run(["status", "--store", store], { SESSION_TICKETS_KEK: KEK_BYTES.toBase64() });
    assert.equal(r.code, 0, r.stderr);
    const st = JSON.parse(r.stdout);
    assert.equal(st.schedule.rotationInterval, 3600_000);
    assert.equal(st.schedule.decryptPeriod, 7200_000);
    assert.equal(st.format, "openssl");
    assert.deepEqual(st.keys.map((k: { state: string }) => k.state), ["active", "pending"]);
    assert.equal(st.keys[1].interval, rot.interval);
    assert.equal(st.keys[1].name, rot.name);
    r = await run(["metrics", "--store", store, "--kek-file", kekFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).storeReachable, true);
    r = await run([
      "export",
      "--store",
      store,
      "--kek-file",
      kekFile,
      "--layout",
      "nginx-80",
      "--out",
      `${dir}/t.key`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      `ssl_session_ticket_key ${dir}/t.key; # active ${st.keys[0].name}\n` +
        `ssl_session_ticket_key ${dir}/t.key.1; # pending ${st.keys[1].name}\n`,
    );
    assert.equal((await Deno.readFile(`${dir}/t.key`)).subarray(0, 16).toHex(), st.keys[0].name);
    assert.equal((await Deno.stat(`${dir}/t.key`)).mode! & 0o777, 0o600);
    r = await run([
      "export",
      "--store",
      store,
      "--kek-file",
      kekFile,
      "--layout",
      "haproxy-80",
      "--out",
      `${dir}/h.keys`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = await TicketKey.importAll(await Deno.readFile(`${dir}/h.keys`), "haproxy-80");
    assert.deepEqual(lines.map((k) => k.nameHex), [st.keys[0].name, st.keys[1].name]);
    r = await run([
      "export",
      "--store",
      store,
      "--kek-file",
      kekFile,
      "--layout",
      "nginx-48",
      "--out",
      `${dir}/x`,
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: nginx-48 holds openssl keys with AES-128, and this fleet's keys are openssl AES-256; .*\n$/,
    );
    r = await run(["status", "--store", store], {
      SESSION_TICKETS_KEK: new Uint8Array(32).toBase64(),
    });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      "error: key-encryption key does not match the fleet's; check SESSION_TICKETS_KEK (store record session-tickets/default/kek-check)\n",
    );
    r = await run(["status", "--store", store]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: no key-encryption key: set SESSION_TICKETS_KEK/);
    r = await run(["status", "--store", "etcd:http://127.0.0.1:1", "--kek-file", kekFile]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^error: the key store is unreachable: .*; check --store\n$/);
    r = await run(["frob", "--store", store]);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      'error: fleet needs a subcommand: status, metrics, rotate, export (got "frob"); see fleet --help\n',
    );
    r = await run(["status"]);
    assert.equal(r.code, 2);
    r = await run(["export", "--store", store, "--layout", "gcm", "--out", "x"]);
    assert.equal(r.code, 2);
    r = await run(["--help"]);
    assert.equal(r.code, 0);
    assert.ok(r.stdout.startsWith("Usage: fleet status|metrics|rotate|export"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Issue 11: safe by default, one place per rule

Deno.test("issue 11: FleetRing.open(null) and other non-bytes return a rejected promise with TicketKeyError, as TicketKeyRing does", async () => {
  const c = clock(10 * I);
  const ring = await fleet(new MemoryKeyStore({ now: c.now }), c.now);
  for (const [bad, type] of [[null, "null"], ["AAAA", "string"], [7, "number"]] as const) {
    for (
      const p of [
        ring.open(bad as unknown as Uint8Array),
        ring.openBytes(bad as unknown as Uint8Array),
      ]
    ) {
      assert.ok(p instanceof Promise); // reached only when the call did not throw
      await assert.rejects(
        p,
        (e) =>
          e instanceof TicketKeyError &&
          e.message === `a ticket to open is a Uint8Array, got ${type}`,
      );
    }
  }
  await ring.stop();
});

Deno.test("issue 11: FleetRing.seal wipes the master key from the codec's shared encode buffer", async () => {
  const c = clock(10 * I);
  const ring = await fleet(new MemoryKeyStore({ now: c.now }), c.now);
  c.t += I; // the first key seals
  await ring.sync();
  const master = Uint8Array.from({ length: 48 }, (_, i) => 0x99 ^ (i * 3));
  const session = new SslSession({ cipherId: 0xc030, masterKey: master, time: 1, timeout: 60 });
  const scratch = new Uint8Array(encodeSessionTransient(new SslSession()).buffer);
  scratch.fill(0);
  const sealing = ring.seal(session);
  assert.equal(scratch.every((b) => b === 0), true);
  assert.deepEqual((await ring.open(await sealing)).session?.masterKey, master);
  assert.equal(encodeSessionTransient(session).buffer, scratch.buffer); // the same buffer
  scratch.fill(0);
  await ring.stop();
});

Deno.test("issue 11: FleetRing takes the layout-name and format/AES-size rules from the ticket layer; a bad format is a FleetConfigError (errors in their layer)", async () => {
  const c = clock(10 * I);
  const store = new MemoryKeyStore({ now: c.now });
  await assert.rejects(
    () => fleet(store, c.now, { format: "aes-256-gcm", aesBits: 128 }),
    (e) =>
      e instanceof FleetConfigError && e.message === "aes-256-gcm keys take aesBits 256, got 128",
  );
  await assert.rejects(
    () => fleet(store, c.now, { format: "rc4" as "openssl" }),
    (e) =>
      e instanceof FleetConfigError &&
      e.message === 'unknown ticket format "rc4"; formats: aes-256-gcm, openssl',
  );
  const ring = await fleet(store, c.now, { format: "openssl" });
  c.t += I;
  await ring.sync();
  await assert.rejects(
    () => ring.exportKeys("nginx-96" as "nginx-80"),
    (e) =>
      e instanceof TicketKeyError &&
      e.message.startsWith(
        'unknown ticket key layout "nginx-96"; layouts: gcm (48 bytes: name16|aes32), openssl-80',
      ),
  );
  assert.equal((await ring.exportKeys("nginx-80")).layout, "nginx-80");
  await ring.stop();
});

Deno.test("issue 13: README's example on a new fleet: SslContext.create({ ticketKeys: ring }) completes handshakes without tickets (TLS 1.2 empty, TLS 1.3 none) until the first key seals, then with tickets; metrics and status say why", async () => {
  const c = clock(100 * I + 10_000); // a fleet founded 10 s into interval 100
  const store = new MemoryKeyStore({ now: c.now });
  const ring = await fleet(store, c.now);
  const ctx = await SslContext.create({ ticketKeys: ring, now: c.now });
  const sealsFrom = c.t + P + S;
  const why = `the fleet at ${PREFIX} has no key sealing yet: key 100 seals from ` +
    `${new Date(sealsFrom).toISOString()}, in 3.0 s (a new key seals propagationDelay + ` +
    "maxClockSkew after it is published); no ticket is sent meanwhile";
  assert.deepEqual(ring.status().notSealing, { reason: "not-yet", message: why, sealsFrom });
  assert.equal(ring.status().sealing, null);
  const c12 = new TestClient({ version: "1.2" });
  const c13 = new TestClient({ version: "1.3" });
  let r12 = await handshake(ctx, c12);
  let r13 = await handshake(ctx, c13);
  for (const r of [r12, r13]) {
    assert.equal(r.alert, null, r.error ?? ""); // before issue 13: alert 80 "has no key sealing yet"
    assert.equal(r.resumed, false);
    assert.deepEqual(
      r.connection.ticketsNotSealed.map((x) => [x.reason, x.message]),
      Array(r === r12 ? 1 : 2).fill(["not-yet", why]),
    );
  }
  assert.deepEqual(r12.ticketLengths, [0]); // the empty NewSessionTicket
  assert.equal(r12.tickets[0].lifetime, 0);
  assert.deepEqual(r13.ticketLengths, []); // none
  assert.equal(r13.genCalls, 0); // no gen_cb set; the engine still ran both ticket slots
  assert.deepEqual(ctx.metrics.ticketsNotSealedByReason, {
    "not-yet": 3,
    "budget-spent": 0,
    retired: 0,
    "no-key": 0,
  });
  assert.deepEqual(ring.metrics().sealsRefused, {
    "not-yet": 3,
    "budget-spent": 0,
    retired: 0,
    "no-key": 0,
  });
  const refused = await ring.sealBytes(PT).then(() => null, (e) => e);
  assert.ok(refused instanceof NoSealingKeyError);
  assert.equal(refused.reason, "not-yet");
  assert.equal(refused.sealsFrom, sealsFrom);
  // The first key seals: the same context now issues tickets, and the clients resume with them.
  c.t = sealsFrom;
  assert.equal(ring.status().notSealing, null);
  assert.equal(ring.status().sealing!.interval, 100);
  r12 = await handshake(ctx, c12);
  r13 = await handshake(ctx, c13);
  assert.deepEqual([r12.alert, r13.alert], [null, null]);
  assert.ok(r12.ticketLengths.length === 1 && r12.ticketLengths[0] > 32);
  assert.ok(r13.ticketLengths.length === 2 && r13.ticketLengths.every((n) => n > 32));
  assert.deepEqual([r12.connection.ticketsNotSealed, r13.connection.ticketsNotSealed], [[], []]);
  assert.deepEqual(
    [(await handshake(ctx, c12)).resumed, (await handshake(ctx, c13)).resumed],
    [true, true],
  );
  assert.equal(ctx.metrics.ticketsNotSealed, 3);
  await ring.stop();
});

Deno.test("issue 13, budgets: maxProcesses divides the 2^32 GCM limit (NIST SP 800-38D §8.3); a process that spends its share sends no ticket until the next key seals", async () => {
  // The default: 16 processes, 2^28 tickets each per key, as a lone TicketKey.
  const c = clock(300 * I + 10_000);
  const store = new MemoryKeyStore({ now: c.now });
  const def = await fleet(store, c.now, { prefix: "test/budget-default" });
  c.t += P + S;
  assert.equal(def.activeKey!.sealBudget, 2 ** 28);
  await def.stop();
  // A tiny share: 2^31 processes, so 2 tickets per key per process.
  const ring = await fleet(store, c.now, { prefix: "test/budget", maxProcesses: 2 ** 31 });
  c.t += P + S;
  await ring.sync();
  assert.equal(ring.activeKey!.sealBudget, 2);
  const ctx = await SslContext.create({ ticketKeys: ring, now: c.now });
  const client = new TestClient({ version: "1.3" });
  const first = await handshake(ctx, client); // 2 tickets: the share is spent
  assert.deepEqual([first.alert, first.ticketLengths.length], [null, 2]);
  const spent = await handshake(ctx, client); // resumes, but the renewal is not sealed
  assert.deepEqual([spent.alert, spent.resumed, spent.ticketLengths.length], [null, true, 0]);
  assert.deepEqual(spent.connection.ticketsNotSealed.map((x) => x.reason), ["budget-spent"]);
  assert.equal(ring.status().notSealing?.reason, "budget-spent");
  // The next interval's key seals again.
  c.t += I;
  await ring.sync();
  const next = await handshake(ctx, new TestClient({ version: "1.3" }));
  assert.deepEqual([next.alert, next.ticketLengths.length], [null, 2]);
  // Every process must run the fleet's value; a bad value is refused.
  await assert.rejects(
    () => fleet(store, c.now, { prefix: "test/budget", maxProcesses: 4 }),
    (e) => e instanceof FleetConfigError && e.message.includes("maxProcesses 2147483648"),
  );
  await assert.rejects(
    () => fleet(store, c.now, { prefix: "test/budget-bad", maxProcesses: 0 }),
    (e) =>
      e instanceof FleetConfigError &&
      e.message === "maxProcesses must be a whole number from 1 to 2^31, got 0",
  );
  // A process that gives no value takes the fleet's.
  const joiner = await fleet(store, c.now, { prefix: "test/budget" });
  assert.equal(joiner.activeKey!.sealBudget, 2);
  await joiner.stop();
  await ring.stop();
});

// ---------------------------------------------------------------------------------------------
// Issue 13: wrong clocks, bad records, long outages, a store that changes under the fleet

const DAYS3 = 3 * 86_400_000;
const live = (r: FleetRing) => r.status().keys.map((k) => `${k.interval}:${k.name}`).join();
const opens = (s: number) => s === TicketStatus.SUCCESS || s === TicketStatus.SUCCESS_RENEW;

Deno.test("issue 13, clocks: a process 3 days ahead joins a running fleet: it neither proposes nor deletes, status().clockSkew says so, the on-time processes are undisturbed", async () => {
  const c = clock(1000 * I + 1000);
  const first = new MemoryKeyStore({ now: c.now });
  const a = await fleet(first, c.now);
  const b = await fleet(first.connect(), c.now);
  c.t = 1001 * I + 5;
  await a.sync();
  await b.sync();
  const before = await storedIntervals(first);
  assert.deepEqual(before, [1000, 1001, 1002]);
  const ahead = await fleet(first.connect(), () => c.t + DAYS3);
  // At its first read the fleet's newest record is 3 days old by its clock: idle fleet or a
  // clock ahead. It writes nothing until a new record settles it.
  let st = ahead.status();
  assert.equal(st.clockSkew!.offset, null);
  assert.match(st.clockSkew!.message, /the fleet was idle, or this clock is ahead/);
  assert.deepEqual(await storedIntervals(first), before); // nothing deleted, nothing proposed
  // The on-time processes publish the next key: fresh evidence, 3 days old by its clock.
  c.t = 1002 * I + 5;
  await a.sync();
  await b.sync();
  await ahead.sync();
  st = ahead.status();
  assert.ok(
    st.clockSkew!.offset! >= DAYS3 - I && st.clockSkew!.offset! <= DAYS3 + I,
    `${st.clockSkew!.offset}`,
  );
  assert.match(
    st.clockSkew!.message,
    /^this process's clock is ahead of the fleet's by about 259\d{3}\.\d s/,
  );
  assert.equal(st.lastError, st.clockSkew!.message);
  await assert.rejects(
    () => ahead.rotateNow(),
    (e) => e instanceof TicketKeyError && e.message === ahead.status().clockSkew!.message,
  );
  // A process 3 days behind finds records created in its future at once.
  const behind = await fleet(first.connect(), () => c.t - DAYS3);
  assert.ok(behind.status().clockSkew!.offset! <= -DAYS3 + I);
  // The fleet runs on: one key per interval, every ticket opens on both on-time processes.
  for (let i = 1; i <= 5; i++) {
    c.t = (1002 + i) * I + 5;
    for (const r of [ahead, behind, a, b]) await r.sync();
    assert.equal(live(a), live(b));
    for (const r of [a, b]) {
      assert.equal(r.status().clockSkew, null);
      assert.equal(r.status().lastError, null);
      assert.equal(r.status().onSchedule, true);
    }
    const t = await a.sealBytes(PT);
    assert.ok(opens((await b.openBytes(t)).status));
  }
  // 1004 is erased at 1007·I and deleted only more than S after: still there at 1007·I + 5.
  assert.deepEqual(await storedIntervals(first), [1004, 1005, 1006, 1007, 1008]);
  for (const r of [ahead, behind]) {
    assert.equal(r.metrics().proposals, 0);
    assert.equal(r.metrics().storeDeletes, 0);
    assert.notEqual(r.status().clockSkew, null);
  }
  assert.equal(a.metrics().proposalsWon + b.metrics().proposalsWon, 9); // 1000..1008
  for (const r of [ahead, behind, a, b]) await r.stop();
});

Deno.test("issue 13, clocks: a fleet idle for two intervals: the first process back waits one idle window for a new record, sealing with the newest key meanwhile, then proposes", async () => {
  const c = clock(2000 * I + 1000);
  const store = new MemoryKeyStore({ now: c.now });
  const a = await fleet(store, c.now);
  await a.stop();
  c.t += 2 * I; // longer than a running fleet goes without a new record; records still live
  const back = await fleet(store.connect(), c.now);
  const st = back.status();
  assert.equal(st.clockSkew!.offset, null);
  assert.equal(back.metrics().proposals, 0);
  assert.deepEqual(st.keys.map((k) => [k.interval, k.eraseAt]), [
    [2000, 2001 * I + D],
    [2001, null], // no successor yet: kept, and sealing
  ]);
  assert.equal(st.sealing!.interval, 2001); // sealing never stops while a valid key is held
  // The idle window (I + 2S + P + poll + WRITER_SLACK) passes with no new record.
  c.t += I + 2 * S + P + 500 + WRITER_SLACK;
  await back.sync();
  assert.equal(back.status().clockSkew, null);
  assert.ok(back.metrics().proposalsWon >= 1);
  await back.stop();
});

Deno.test("issue 13, long outages: the store down longer than decryptPeriod: the newest key seals on, handshakes get tickets, and it is erased decryptPeriod after its successor's actual start, the same on every process", async () => {
  const c = clock(200 * I + 1000);
  const first = new MemoryKeyStore({ now: c.now });
  const stores = [first, first.connect()];
  const [a, b] = [await fleet(stores[0], c.now), await fleet(stores[1], c.now)];
  const ctx = await SslContext.create({ ticketKeys: a, now: c.now });
  c.t = 201 * I;
  await a.sync();
  await b.sync(); // keys 200..202 held by both
  for (const s of stores) s.down = true;
  const sealed: { t: Uint8Array; at: number }[] = [];
  for (c.t = 202 * I + 10; c.t <= 205 * I; c.t += I / 2) { // 3 intervals down: D = 2 I
    await a.sync();
    await b.sync();
    const r = await handshake(ctx, new TestClient({ version: "1.3" }));
    assert.equal(r.alert, null, r.error ?? "");
    assert.equal(r.ticketLengths.length, 2); // sealing never stops: key 202, past its interval
    sealed.push({ t: await a.sealBytes(PT), at: c.t });
    for (const x of sealed) {
      if (c.t < x.at + D) assert.ok(opens((await b.openBytes(x.t)).status), `t=${c.t}`);
    }
  }
  for (const r of [a, b]) {
    const st = r.status();
    assert.deepEqual([st.sealing!.interval, st.onSchedule, st.storeReachable], [202, false, false]);
    assert.equal(st.keys.find((k) => k.interval === 202)!.eraseAt, null);
  }
  for (const s of stores) s.down = false;
  const back = c.t;
  await a.sync(); // proposes 205 (late: seals from back + P + S) and 206
  await b.sync();
  const successorStart = back + P + S;
  for (const r of [a, b]) {
    assert.equal(r.status().keys.find((k) => k.interval === 202)!.eraseAt, successorStart + D);
  }
  const lastSealed = sealed[sealed.length - 1]; // sealed at `back`, before 205 started
  c.t = successorStart + D - 1;
  for (const r of [a, b]) {
    await r.sync();
    assert.ok(opens((await r.openBytes(lastSealed.t)).status));
  }
  c.t += 1;
  for (const r of [a, b]) {
    assert.equal((await r.openBytes(lastSealed.t)).status, TicketStatus.NO_DECRYPT);
  }
  await a.stop();
  await b.stop();
});

Deno.test("issue 13, the store is the truth: wiped records are written back from the keys held (the same bytes), a joiner adopts them, a changed record is noticed and the store's key wins", async () => {
  const c = clock(1500 * I + 1000);
  const first = new MemoryKeyStore({ now: c.now });
  const a = await fleet(first, c.now);
  const b = await fleet(first.connect(), c.now);
  c.t = 1501 * I + 5;
  await a.sync();
  await b.sync();
  const names = live(a);
  const tA = await a.sealBytes(PT);
  for (const r of await first.list("")) await first.delete(r.key); // the store is wiped
  await a.sync();
  let m = a.metrics();
  assert.deepEqual([m.recordsVanished, m.recordsRestored], [3, 3]);
  await b.sync(); // finds them back: same bytes, nothing to do
  m = b.metrics();
  assert.deepEqual([m.recordsVanished, m.recordsRestored], [0, 0]);
  assert.deepEqual(await storedIntervals(first), [1500, 1501, 1502]);
  assert.notEqual(await first.get(`${PREFIX}/kek-check`), null); // the check record too
  const joiner = await fleet(first.connect(), c.now);
  for (const r of [a, b, joiner]) assert.equal(live(r), names);
  assert.ok(opens((await joiner.openBytes(tA)).status));
  assert.ok(opens((await a.openBytes(await joiner.sealBytes(PT))).status));
  // Wiped between two polls of b: b notices and reports it, a writes it back.
  const rec = (await first.get(keyRecordName(PREFIX, 1502)))!;
  await first.delete(rec.key);
  await b.sync();
  assert.equal(b.metrics().recordsVanished, 1);
  assert.equal(b.metrics().recordsRestored, 1);
  assert.deepEqual((await first.get(rec.key))!.value, rec.value);
  // A record changed to another valid key: the store's key takes the interval everywhere; the
  // old one stays to open its tickets.
  const kek = await importKek(KEK_BYTES);
  const raw = crypto.getRandomValues(new Uint8Array(48));
  const newName = raw.subarray(0, 16).toHex();
  const oldName = a.status().keys.find((k) => k.interval === 1502)!.name;
  const other = await wrapRecord(kek, rec.key, raw, {
    kind: "ticket-key",
    interval: 1502,
    createdAt: c.t,
    format: "aes-256-gcm",
    aesBits: 256,
  });
  const now = (await first.get(rec.key))!;
  assert.equal(await first.replaceIf(rec.key, now.version, other), true);
  for (const r of [a, b, joiner]) await r.sync();
  for (const r of [a, b, joiner]) {
    const st = r.status();
    assert.equal(r.metrics().recordsChanged, 1);
    assert.match(st.lastError!, /^store record test\/fleet\/keys\/0000000000001502 changed: key /);
    assert.deepEqual(st.superseded.map((k) => [k.interval, k.name]), [[1502, oldName]]);
    assert.equal(st.keys.find((k) => k.interval === 1502)!.name, newName);
  }
  assert.equal(live(a), live(b));
  assert.equal(live(a), live(joiner));
  c.t = 1502 * I + 5;
  for (const r of [a, b, joiner]) await r.sync();
  const t1502 = await b.sealBytes(PT);
  assert.equal(name(t1502), newName);
  for (const r of [a, joiner]) {
    assert.equal((await r.openBytes(t1502)).status, TicketStatus.SUCCESS);
  }
  for (const r of [a, b, joiner]) await r.stop();
});

Deno.test("issue 13, bad records: garbage, a record copied from another slot and one wrapped under another KEK in future slots are reported by name and replaced by compare-and-swap, one winner each; sealing never stops", async () => {
  const c = clock(600 * I + 1000);
  const first = new MemoryKeyStore({ now: c.now });
  const rings = [
    await fleet(first, c.now),
    await fleet(first.connect(), c.now),
    await fleet(first.connect(), c.now),
  ];
  const observer = await fleet(first.connect(), c.now, { readOnly: true });
  const rk = (n: number) => keyRecordName(PREFIX, n);
  const foreign = await wrapRecord(
    await importKek(new Uint8Array(32).fill(5)),
    rk(603),
    new Uint8Array(48),
    {
      kind: "ticket-key",
      interval: 603,
      createdAt: c.t,
      format: "aes-256-gcm",
      aesBits: 256,
    },
  );
  const copied = (await first.get(rk(601)))!.value;
  await first.createIfAbsent(rk(602), Uint8Array.of(1, 2, 3)); // garbage
  await first.createIfAbsent(rk(603), copied); // record 601's bytes in slot 603
  await first.createIfAbsent(rk(604), foreign);
  await observer.sync();
  assert.deepEqual(observer.status().badRecords, [
    { record: rk(602), problem: `store record ${rk(602)} is not a wrapped fleet record` },
    {
      record: rk(603),
      problem: `store record ${rk(603)} does not open under this key-encryption key`,
    },
    {
      record: rk(604),
      problem: `store record ${rk(604)} does not open under this key-encryption key`,
    },
  ]);
  c.t = 602 * I + 10; // 602 and 603 are due: both repaired, one winner each
  await Promise.all(rings.map((r) => r.sync()));
  // Sealing never stopped: 602's repaired key was created late, so 601 seals on meanwhile.
  assert.ok(rings.every((r) => r.status().sealing?.interval === 601));
  c.t = 603 * I + 10; // then 604
  await Promise.all(rings.map((r) => r.sync()));
  assert.equal(rings.reduce((n, r) => n + r.metrics().recordsRepaired, 0), 3);
  for (const r of rings) {
    assert.deepEqual(r.status().badRecords, []);
    assert.equal(live(r), live(rings[0]));
  }
  assert.deepEqual(rings[0].status().keys.map((k) => k.interval), [601, 602, 603, 604]);
  await observer.sync();
  assert.deepEqual(observer.status().badRecords, []);
  assert.ok(rings.every((r) => r.status().sealing?.interval === 603));
  c.t = 604 * I + 10;
  await Promise.all(rings.map((r) => r.sync())); // 605 published
  // When the check record does not open under this KEK, a bad record is another fleet's or a
  // misconfiguration: reported, not repaired; the newest valid key seals on.
  const check = (await first.get(`${PREFIX}/kek-check`))!;
  const alien = await wrapRecord(await importKek(new Uint8Array(32).fill(5)), check.key, PT, {
    kind: "kek-check",
  });
  assert.equal(await first.replaceIf(check.key, check.version, alien), true);
  const r605 = (await first.list(`${PREFIX}/keys/`)).find((r) => r.key === rk(605))!;
  assert.equal(await first.replaceIf(r605.key, r605.version, Uint8Array.of(9)), true);
  c.t = 605 * I + 10;
  await rings[0].sync();
  const st = rings[0].status();
  assert.deepEqual(st.badRecords.map((b) => b.record), [rk(605)]);
  assert.match(
    st.lastError!,
    /not repaired: the fleet's check record test\/fleet\/kek-check does not open/,
  );
  // The bad record does not displace the key held for 605: it seals on, erased D after 606
  // (proposed: the KEK is the fleet's) starts.
  assert.equal(st.sealing!.interval, 605);
  assert.equal(st.keys.find((k) => k.interval === 605)!.eraseAt, 606 * I + D);
  for (const r of [...rings, observer]) await r.stop();
});

Deno.test("issue 13, clocks: a record written back after a wipe is no evidence about the clock, even for a process that already erased its key", async () => {
  const c = clock(1500 * I + 1000);
  const first = new MemoryKeyStore({ now: c.now });
  const a = await fleet(first, c.now);
  const b = await fleet(first.connect(), () => c.t + 1); // 1 ms ahead: within maxClockSkew
  c.t = 1501 * I + 5;
  await a.sync();
  await b.sync();
  c.t = 1501 * I + D - 1; // key 1500 is erased at 1501·I + D: still held by a, not by b
  for (let i = 0; i < 2; i++) {
    await a.sync();
    await b.sync();
  }
  assert.ok(a.status().keys.some((k) => k.interval === 1500));
  assert.ok(!b.status().keys.some((k) => k.interval === 1500));
  for (const r of await first.list("")) await first.delete(r.key);
  await a.sync(); // writes back what it holds, key 1500 included, with its old createdAt
  assert.ok(a.metrics().recordsRestored >= 4);
  await b.sync();
  assert.equal(b.status().clockSkew, null, b.status().clockSkew?.message);
  assert.equal(a.status().clockSkew, null);
  await a.stop();
  await b.stop();
});

Deno.test("issue 13, clocks: where the store gives its clock (etcd's Date header), it is the fleet's: a process 3 days ahead knows at its first read, and a writer's bad clock does not make the on-time processes doubt theirs", async () => {
  const c = clock(3000 * I + 1000);
  const first = new MemoryKeyStore({ now: c.now, reportTime: true });
  const a = await fleet(first, c.now);
  const ahead = await fleet(first.connect(), () => c.t + DAYS3);
  const st = ahead.status().clockSkew!;
  assert.equal(st.offset, DAYS3);
  assert.match(
    st.message,
    /^this process's clock is ahead of the fleet's by about 259200\.0 s, .*the store's clock reads -259200\.0 s from this one/,
  );
  assert.deepEqual([ahead.metrics().proposals, ahead.metrics().storeDeletes], [0, 0]);
  // Within maxClockSkew + 1 s of the store's clock: agreement.
  const close = await fleet(first.connect(), () => c.t + S + 900);
  assert.equal(close.status().clockSkew, null);
  // A record from a writer whose clock is a day ahead: the store's clock says a is right.
  const kek = await importKek(KEK_BYTES);
  const key = keyRecordName(PREFIX, 3005);
  await first.createIfAbsent(
    key,
    await wrapRecord(kek, key, crypto.getRandomValues(new Uint8Array(48)), {
      kind: "ticket-key",
      interval: 3005,
      createdAt: c.t + 86_400_000,
      format: "aes-256-gcm",
      aesBits: 256,
    }),
  );
  await a.sync();
  assert.equal(a.status().clockSkew, null);
  for (const r of [a, ahead, close]) await r.stop();
});

Deno.test("issue 13, one state machine for a key: the fleet's state rule: the newest key whose sealing time has come seals, a superseded key only until its replacement's has come, later keys are pending, the rest decrypt-only, each erased at its erase time", () => {
  const k = (n: number, sealFrom: number | null, eraseAt: number, superseded = false) => ({
    n,
    sealFrom,
    eraseAt,
    superseded,
  });
  const keys = [
    k(9, 9 * I, 10 * I + D),
    k(10, 10 * I, 11 * I + D),
    k(11, 11 * I, Infinity), // no successor yet
    k(12, null, Infinity), // created too late to seal
  ];
  assert.deepEqual(fleetKeyStates(keys, 10 * I + 5), {
    states: ["decrypt-only", "active", "pending", "decrypt-only"],
    nextChange: 11 * I,
  });
  // Past its interval with no successor that seals: key 11 seals on.
  assert.deepEqual(fleetKeyStates(keys, 14 * I).states, [
    "erased",
    "erased",
    "active",
    "decrypt-only",
  ]);
  // Interval 11's record changed to a key that seals later: the old one seals until then.
  const swap = [k(11, 11 * I, 20 * I, true), k(11, 11 * I + 500, Infinity)];
  assert.deepEqual(fleetKeyStates(swap, 11 * I + 100).states, ["active", "pending"]);
  assert.deepEqual(fleetKeyStates(swap, 11 * I + 500).states, ["decrypt-only", "active"]);
  assert.equal(fleetKeyStates([], 0).nextChange, Infinity);
});
