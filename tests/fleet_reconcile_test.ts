// Tests for the store reconciliation's decisions (src/fleet/_reconcile.ts), the pure functions
// FleetRing applies each time it compares the store's key records with the keys it holds. Each
// test names the ring behaviour it mirrors; the ring's own tests (fleet_ring_test.ts) cover the
// whole round with a store.
import assert from "node:assert/strict";
import {
  adoptionPlan,
  clockEvidence,
  clockVerdict,
  eraseTimes,
  indexRecords,
  rememberNames,
  repairsWithNewKey,
  supersededEraseAt,
  surveyRecords,
} from "../src/fleet/_reconcile.ts";
import { checkSchedule, keyRecordName } from "../src/fleet/_schedule.ts";
import { WRITER_SLACK } from "../src/fleet/_clock.ts";

const PREFIX = "test/fleet";
const s = checkSchedule({
  rotationInterval: 60_000,
  decryptPeriod: 120_000,
  propagationDelay: 1_000,
  maxClockSkew: 2_000,
});
const rec = (n: number, byte: number, version = "1") => ({
  key: keyRecordName(PREFIX, n),
  value: Uint8Array.of(byte),
  version,
});

Deno.test("reconcile (store is the truth): vanished, written back, changed, still bad, expired", () => {
  const held = new Map([1, 2, 3].map((n) => [n, { n, wrapped: Uint8Array.of(n) }]));
  const records = [rec(2, 2), rec(3, 33), rec(4, 4, "7"), rec(5, 5), { ...rec(6, 6), key: "x" }];
  const { byN, ids } = indexRecords(PREFIX, records);
  assert.deepEqual([...byN.keys()], [2, 3, 4, 5]); // "x" is no key record, but its id is listed
  assert.ok(ids.has("x@1"));
  const bad = new Map([[`${keyRecordName(PREFIX, 4)}@7`, "does not open"]]);
  const expired = new Set([`${keyRecordName(PREFIX, 5)}@1`]);
  const r = surveyRecords(byN, held, bad, expired);
  assert.deepEqual(r.missing.map((h) => h.n), [1]); // vanished: reported and written back
  assert.deepEqual(r.present.map((h) => h.n), [2]); // its own bytes: not vanished
  assert.deepEqual(r.candidates.map((c) => c.n), [3]); // changed to another key: opened
  assert.deepEqual(r.stillBad, [
    { record: keyRecordName(PREFIX, 4), problem: "does not open", n: 4, version: "7" },
  ]);
});

Deno.test("reconcile (clocks): own and vanished records are no evidence; a known name is not fresh", () => {
  const held = [
    { by: "other", vanished: false, createdAt: 1 },
    { by: "me", vanished: false, createdAt: 2 },
    { by: "other", vanished: true, createdAt: 3 },
  ];
  const valid = [
    { by: "other", createdAt: 4, key: { nameHex: "seen" } },
    { by: "other", createdAt: 5, key: { nameHex: "new" } },
    { by: "me", createdAt: 6, key: { nameHex: "mine" } },
  ];
  const seen = new Map([["seen", 0]]);
  assert.deepEqual(clockEvidence(held, valid, "me", 10, seen), [
    { createdAt: 1, fresh: false },
    { createdAt: 4, fresh: false },
    { createdAt: 5, fresh: true },
  ]);
  // At the first list nothing is fresh.
  assert.ok(clockEvidence(held, valid, "me", null, seen).every((t) => !t.fresh));
});

Deno.test("reconcile (clocks): a doubt keeps its start, agreement clears it, an idle wait ends", () => {
  const now = 1_000_000_000;
  const ahead = clockVerdict(null, now, null, [], s, now - 10_000, 500);
  assert.equal(ahead?.offset, 10_000);
  assert.match(ahead!.message, /ahead of the fleet's by about 10\.0 s.*creates nor deletes/);
  const later = clockVerdict(ahead, now + 5000, now, [], s, now - 5000, 500);
  assert.equal(later?.since, now); // still in doubt since the first verdict
  assert.equal(clockVerdict(later, now + 6000, now, [], s, now + 6000, 500), null);
  // First list, newest record older than one idle window: wait a window for a new record.
  const idle = clockVerdict(
    null,
    now,
    null,
    [{ createdAt: now - 200_000, fresh: false }],
    s,
    null,
    500,
  );
  assert.deepEqual([idle?.offset, idle?.since], [null, now]);
  const window = 60_000 + 2 * 2_000 + 1_000 + 500 + WRITER_SLACK;
  assert.equal(clockVerdict(idle, now + window - 1, now, [], s, null, 500), idle); // unchanged
  assert.equal(clockVerdict(idle, now + window, now, [], s, null, 500), null);
});

Deno.test("reconcile (names): seen names are forgotten a key's lifetime after last seen", () => {
  const life = s.publishLead + s.rotationInterval + s.decryptPeriod + s.maxClockSkew;
  const before = new Map([["a", 0], ["b", 10]]);
  const after = rememberNames(before, ["c", "b"], life + 5, s);
  assert.deepEqual([...after], [["b", life + 5], ["c", life + 5]]);
  assert.deepEqual([...before], [["a", 0], ["b", 10]]); // the input is not changed
});

Deno.test("reconcile (long outages): erased decryptPeriod after the successor's actual start", () => {
  const I = s.rotationInterval, D = s.decryptPeriod;
  // Key 11 was published late (sealing from 11·I + 30 s); key 12 never seals; key 13 is newest.
  const keys = [
    { n: 10, sealFrom: 10 * I },
    { n: 11, sealFrom: 11 * I + 30_000 },
    { n: 12, sealFrom: null },
    { n: 13, sealFrom: 13 * I },
  ];
  assert.deepEqual(eraseTimes(keys, s), [
    11 * I + 30_000 + D, // later than 11·I + D: its successor started late
    13 * I + D, // key 12 never seals: it seals on until key 13 starts
    13 * I + D, // its scheduled time
    Infinity, // no successor: kept
  ]);
});

Deno.test("reconcile (adoption): oldest first, new records are successors of held keys", () => {
  const I = s.rotationInterval;
  const valid = [{ n: 12, createdAt: 11 * I }, { n: 11, createdAt: 10 * I }];
  const plan = adoptionPlan(valid, [{ n: 10, sealFrom: 10 * I }], s);
  assert.deepEqual(plan.map((a) => [a.v.n, a.sealFrom, a.eraseAt]), [
    [11, 11 * I, 12 * I + s.decryptPeriod],
    [12, 12 * I, Infinity],
  ]);
  assert.deepEqual(valid.map((v) => v.n), [12, 11]); // the input is not reordered
  // Created after its interval's end less the propagation margin: it never seals.
  assert.equal(adoptionPlan([{ n: 11, createdAt: 12 * I - 1 }], [], s)[0].sealFrom, null);
});

Deno.test("reconcile (record changed): the old key opens decryptPeriod after the new seals, plus margin", () => {
  const margin = s.propagationDelay + s.maxClockSkew + 500;
  assert.equal(
    supersededEraseAt(Infinity, 70_000, 60_000, s, 500),
    70_000 + s.decryptPeriod + margin,
  );
  assert.equal(
    supersededEraseAt(Infinity, null, 60_000, s, 500),
    60_000 + s.decryptPeriod + margin,
  );
  assert.equal(supersededEraseAt(1000, 70_000, 60_000, s, 500), 1000); // never later than it was
});

Deno.test("reconcile (bad records): a new key only for a current or due slot that can still seal", () => {
  const I = s.rotationInterval;
  const now = 10 * I + 1000;
  assert.equal(repairsWithNewKey(9, now, s), false); // a past slot
  assert.equal(repairsWithNewKey(10, now, s), true);
  assert.equal(repairsWithNewKey(11, now, s), true); // within publishLead (one interval)
  assert.equal(repairsWithNewKey(12, now, s), false); // not due yet
  assert.equal(repairsWithNewKey(10, 11 * I - 1000, s), false); // too late to ever seal
});
