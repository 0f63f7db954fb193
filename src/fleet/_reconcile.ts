/**
 * Private: the store is the truth. The decisions a `FleetRing` makes when it compares a list of
 * the store's key records with the keys it holds, as pure functions: which held records vanished,
 * which records are new or changed (to be opened) or still bad, what the records say about this
 * clock, which keys to adopt and when each is erased, what a superseded key's erase time is, and
 * what replaces a record that failed its checks. The ring applies them (store writes, metrics,
 * status).
 *
 * @module
 */

import { sameBytes } from "../ticket/bytes.ts";
import type { StoredRecord } from "./key_store.ts";
import type { OpenedKeyRecord } from "./_key_record.ts";
import { idleWindow, judgeClock, type RecordTime } from "./_clock.ts";
import {
  eraseAfter,
  intervalAt,
  parseKeyRecordName,
  type Schedule,
  sealFrom,
  wantedIntervals,
} from "./_schedule.ts";

/** A key record that failed its checks, as listed. */
export interface BadRecord {
  /** The record's key. */
  record: string;
  /** What was wrong with it. */
  problem: string;
  /** Its interval. */
  n: number;
  /** The version it was read at. */
  version: string;
}

/** A new or changed key record that opened and passed its checks. */
export interface ValidRecord extends OpenedKeyRecord {
  /** Its interval. */
  n: number;
  /** The record as listed. */
  r: StoredRecord;
}

/** Why this process doubts its clock (see `_clock.ts`). */
export interface ClockSkew {
  /** How far this clock is ahead of the fleet's (negative: behind), null when unknown. */
  offset: number | null;
  /** Since when (this clock). */
  since: number;
  /** What `status().clockSkew` and `lastError` say. */
  message: string;
}

/**
 * A list's key records by interval, and the ids (`key@version`) of every record listed.
 *
 * @example
 * ```ts
 * import { indexRecords } from "./_reconcile.ts";
 * const r = { key: "f/keys/0000000000000007", value: new Uint8Array(1), version: "3" };
 * const { byN, ids } = indexRecords("f", [r, { ...r, key: "f/kek-check" }]);
 * console.log([...byN.keys()], [...ids]); // [ 7 ] [ "f/keys/0000000000000007@3", "f/kek-check@3" ]
 * ```
 */
export function indexRecords(
  prefix: string,
  records: StoredRecord[],
): { byN: Map<number, StoredRecord>; ids: Set<string> } {
  const byN = new Map<number, StoredRecord>();
  const ids = new Set<string>();
  for (const r of records) {
    const n = parseKeyRecordName(prefix, r.key);
    if (n !== null) byN.set(n, r);
    ids.add(`${r.key}@${r.version}`);
  }
  return { byN, ids };
}

/**
 * Compares the key records listed (`byN`, from {@link indexRecords}) with the keys held: the held
 * keys whose record is missing (`missing`) or holds their bytes (`present`); the records that
 * failed their checks before (`bad`, by id) and are still in the store (`stillBad`); and the
 * records that are new or changed and must be opened (`candidates`), leaving out the held keys'
 * own records and the valid ones already past their erase time when read (`expired`, by id).
 *
 * @example
 * ```ts
 * import { surveyRecords } from "./_reconcile.ts";
 * const r = (n: number, b: number) => ({ key: `k${n}`, value: new Uint8Array([b]), version: "1" });
 * const held = new Map([1, 2].map((n) => [n, { n, wrapped: new Uint8Array([n]) }]));
 * const byN = new Map([[2, r(2, 2)], [3, r(3, 3)], [4, r(4, 4)]]);
 * const s = surveyRecords(byN, held, new Map([["k4@1", "bad"]]), new Set());
 * console.log(s.missing.map((h) => h.n), s.present.map((h) => h.n)); // [ 1 ] [ 2 ]
 * console.log(s.candidates.map((c) => c.n), s.stillBad.map((b) => b.n)); // [ 3 ] [ 4 ]
 * ```
 */
export function surveyRecords<H extends { n: number; wrapped: Uint8Array }>(
  byN: ReadonlyMap<number, StoredRecord>,
  held: ReadonlyMap<number, H>,
  bad: ReadonlyMap<string, string>,
  expired: ReadonlySet<string>,
): {
  missing: H[];
  present: H[];
  stillBad: BadRecord[];
  candidates: { n: number; r: StoredRecord }[];
} {
  const missing: H[] = [];
  const present: H[] = [];
  for (const h of held.values()) {
    const r = byN.get(h.n);
    if (r === undefined) missing.push(h);
    else if (sameBytes(r.value, h.wrapped)) present.push(h);
  }
  const stillBad: BadRecord[] = [];
  const candidates: { n: number; r: StoredRecord }[] = [];
  for (const [n, r] of byN) {
    const h = held.get(n);
    if (h !== undefined && sameBytes(r.value, h.wrapped)) continue;
    const id = `${r.key}@${r.version}`;
    const problem = bad.get(id);
    if (problem !== undefined) {
      stillBad.push({ record: r.key, problem, n, version: r.version });
      continue;
    }
    if (expired.has(id)) continue;
    candidates.push({ n, r });
  }
  return { missing, present, stillBad, candidates };
}

/**
 * The clock evidence in a list: the creation times of the other processes' records (the held
 * keys' whose records are still there, and the new valid ones), each new one fresh when it
 * appeared since the previous list (`prevListAt`, null before the first) under a name not seen
 * before (a record written back after a wipe, say, is no evidence about the clock).
 *
 * @example
 * ```ts
 * import { clockEvidence } from "./_reconcile.ts";
 * const held = [{ by: "b", vanished: false, createdAt: 5 }, { by: "me", vanished: false, createdAt: 6 }];
 * const valid = [{ by: "c", createdAt: 9, key: { nameHex: "aa" } }];
 * console.log(clockEvidence(held, valid, "me", 8, new Map()));
 * // [ { createdAt: 5, fresh: false }, { createdAt: 9, fresh: true } ]
 * ```
 *
 * @param held The keys held.
 * @param valid The new valid records.
 * @param id This process's id (its own records are no evidence).
 * @param prevListAt This clock before the previous list, or null.
 * @param seenNames Key names seen before.
 * @returns The evidence for `judgeClock`.
 */
export function clockEvidence(
  held: Iterable<{ by: string; vanished: boolean; createdAt: number }>,
  valid: Iterable<{ by: string; createdAt: number; key: { nameHex: string } }>,
  id: string,
  prevListAt: number | null,
  seenNames: ReadonlyMap<string, number>,
): RecordTime[] {
  const times: RecordTime[] = [];
  for (const h of held) {
    if (h.by !== id && !h.vanished) times.push({ createdAt: h.createdAt, fresh: false });
  }
  for (const v of valid) {
    if (v.by === id) continue;
    const fresh = prevListAt !== null && !seenNames.has(v.key.nameHex);
    times.push({ createdAt: v.createdAt, fresh });
  }
  return times;
}

/**
 * The key names seen, with `names` seen at `now`; a name is forgotten a key's lifetime
 * (`publishLead + rotationInterval + decryptPeriod + maxClockSkew`) after it was last seen.
 *
 * @example
 * ```ts
 * import { rememberNames } from "./_reconcile.ts";
 * import { checkSchedule } from "./_schedule.ts";
 * const s = checkSchedule({ rotationInterval: 1000, decryptPeriod: 1000, publishLead: 1000, propagationDelay: 0, maxClockSkew: 0 });
 * console.log([...rememberNames(new Map([["old", 0], ["new", 5000]]), ["b"], 6000, s).keys()]);
 * // [ "new", "b" ]
 * ```
 *
 * @param seen The names seen before, with when (not changed).
 * @param names The names seen now.
 * @param now This clock.
 * @param s Schedule.
 * @returns The names seen, with when.
 */
export function rememberNames(
  seen: ReadonlyMap<string, number>,
  names: Iterable<string>,
  now: number,
  s: Schedule,
): Map<string, number> {
  const out = new Map(seen);
  for (const name of names) out.set(name, now);
  const life = s.publishLead + s.rotationInterval + s.decryptPeriod + s.maxClockSkew;
  for (const [name, at] of out) if (at + life < now) out.delete(name);
  return out;
}

/**
 * The clock verdict after this round's evidence (rules in `_clock.ts`): a doubt when the records
 * (or the store's clock) disagree with this clock, none when they agree; at the first list
 * (`prevListAt` null), a doubt when the fleet's newest record is older than one idle window (the
 * fleet was idle, or this clock is ahead), cleared when a window passes with no new record.
 *
 * @example
 * ```ts
 * import { clockVerdict } from "./_reconcile.ts";
 * import { checkSchedule } from "./_schedule.ts";
 * const s = checkSchedule({ rotationInterval: 1000, propagationDelay: 100, maxClockSkew: 100 });
 * const idle = clockVerdict(null, 10_000, null, [{ createdAt: 5000, fresh: false }], s, null, 50);
 * console.log(idle?.offset, idle?.since); // null 10000
 * console.log(clockVerdict(idle, 11_400, 10_000, [], s, null, 50)); // null
 * ```
 *
 * @param skew The verdict so far, null when the clock is not in doubt.
 * @param now This clock, after the list.
 * @param prevListAt This clock before the previous list, or null before the first.
 * @param times Other processes' records' creation times ({@link clockEvidence}).
 * @param s Schedule.
 * @param storeTime The store's clock, or null when it gives none.
 * @param pollInterval The ring's poll interval.
 * @returns The new verdict (`skew` itself when nothing changed), null when not in doubt.
 */
export function clockVerdict(
  skew: ClockSkew | null,
  now: number,
  prevListAt: number | null,
  times: RecordTime[],
  s: Schedule,
  storeTime: number | null,
  pollInterval: number,
): ClockSkew | null {
  const first = prevListAt === null;
  const j = judgeClock(now, prevListAt, times, s, storeTime);
  const window = idleWindow(s, pollInterval);
  const hold = "; it opens tickets but neither creates nor deletes key records";
  if (j.kind === "disagree") {
    const ahead = j.offset >= 0;
    return {
      offset: j.offset,
      since: skew?.since ?? now,
      message:
        `this process's clock is ${ahead ? "ahead of" : "behind"} the fleet's by about ${
          (Math.abs(j.offset) / 1000).toFixed(1)
        } s, more than ` +
        `maxClockSkew (${s.maxClockSkew} ms): ${j.detail}${hold}`,
    };
  } else if (j.kind === "agree") return null;
  else if (first && times.length > 0) {
    const newest = Math.max(...times.map((t) => t.createdAt));
    if (now - newest > window) {
      return {
        offset: null,
        since: now,
        message:
          `the fleet's newest key record was created ${
            ((now - newest) / 1000).toFixed(1)
          } s before this clock's present: the fleet was idle, or this clock is ahead; ` +
          `waiting up to ${(window / 1000).toFixed(1)} s for a new record${hold}`,
      };
    }
  } else if (skew !== null && skew.offset === null && now >= skew.since + window) {
    return null; // no process wrote meanwhile: the fleet was idle
  }
  return skew;
}

/**
 * When the first key after `n` that seals starts sealing, among `starts`, or null.
 *
 * @example
 * ```ts
 * import { successorStart } from "./_reconcile.ts";
 * console.log(successorStart(3, new Map([[3, 30], [4, null], [5, 52], [6, 60]]))); // 52
 * ```
 *
 * @param n Interval number.
 * @param starts Each key's interval and when it seals from (null: never).
 * @returns The time, or null.
 */
export function successorStart(
  n: number,
  starts: ReadonlyMap<number, number | null>,
): number | null {
  let best: number | null = null;
  let bestN = Infinity;
  for (const [m, from] of starts) {
    if (m > n && from !== null && m < bestN) {
      bestN = m;
      best = from;
    }
  }
  return best;
}

/**
 * Each key's erase time from its successor's actual start (one rule: `eraseAfter`).
 *
 * @example
 * ```ts
 * import { eraseTimes } from "./_reconcile.ts";
 * import { checkSchedule } from "./_schedule.ts";
 * const s = checkSchedule({ rotationInterval: 1000, decryptPeriod: 5000 });
 * console.log(eraseTimes([{ n: 3, sealFrom: 3000 }, { n: 4, sealFrom: 7300 }], s)); // [ 12300, Infinity ]
 * ```
 *
 * @param keys The keys held.
 * @param s Schedule.
 * @returns One erase time per key, in order.
 */
export function eraseTimes(
  keys: readonly { n: number; sealFrom: number | null }[],
  s: Schedule,
): number[] {
  const starts = new Map<number, number | null>();
  for (const k of keys) starts.set(k.n, k.sealFrom);
  return keys.map((k) => eraseAfter(k.n, successorStart(k.n, starts), s));
}

/**
 * The new valid records to adopt, oldest first, with when each seals from and its erase time
 * from the successors known (held or new); one whose erase time has come is not to be adopted.
 *
 * @example
 * ```ts
 * import { adoptionPlan } from "./_reconcile.ts";
 * import { checkSchedule } from "./_schedule.ts";
 * const s = checkSchedule({ rotationInterval: 1000, decryptPeriod: 5000, propagationDelay: 0, maxClockSkew: 0 });
 * const plan = adoptionPlan([{ n: 4, createdAt: 3500 }], [{ n: 3, sealFrom: 3000 }], s);
 * console.log(plan.map((a) => [a.v.n, a.sealFrom, a.eraseAt])); // [ [ 4, 4000, Infinity ] ]
 * ```
 *
 * @param valid The new valid records.
 * @param held The keys held.
 * @param s Schedule.
 * @returns The records sorted by interval, with their times.
 */
export function adoptionPlan<V extends { n: number; createdAt: number }>(
  valid: readonly V[],
  held: Iterable<{ n: number; sealFrom: number | null }>,
  s: Schedule,
): { v: V; sealFrom: number | null; eraseAt: number }[] {
  const plan = [...valid].sort((a, b) => a.n - b.n).map((v) => ({
    v,
    sealFrom: sealFrom(v.n, v.createdAt, s),
    eraseAt: 0,
  }));
  const starts = new Map<number, number | null>();
  for (const h of held) starts.set(h.n, h.sealFrom);
  for (const p of plan) starts.set(p.v.n, p.sealFrom);
  for (const p of plan) p.eraseAt = eraseAfter(p.v.n, successorStart(p.v.n, starts), s);
  return plan;
}

/**
 * The erase time of a held key whose record changed to another valid key: the store is the
 * truth, so the new key takes the interval; the old one keeps sealing (if it does) until the new
 * one seals (`newFrom`), then opens its tickets for `decryptPeriod` more (with margin for the
 * other processes, which notice the change up to a poll later). Never later than it was.
 *
 * @example
 * ```ts
 * import { supersededEraseAt } from "./_reconcile.ts";
 * import { checkSchedule } from "./_schedule.ts";
 * const s = checkSchedule({ rotationInterval: 1000, decryptPeriod: 5000, propagationDelay: 10, maxClockSkew: 20 });
 * console.log(supersededEraseAt(Infinity, 4000, 3500, s, 50)); // 9080
 * ```
 *
 * @param eraseAt The old key's erase time.
 * @param newFrom When the new key seals from (null: never).
 * @param now This clock.
 * @param s Schedule.
 * @param pollInterval The ring's poll interval.
 * @returns The old key's new erase time.
 */
export function supersededEraseAt(
  eraseAt: number,
  newFrom: number | null,
  now: number,
  s: Schedule,
  pollInterval: number,
): number {
  const margin = s.propagationDelay + s.maxClockSkew + pollInterval;
  return Math.min(eraseAt, Math.max(now, newFrom ?? now) + s.decryptPeriod + margin);
}

/**
 * Whether a record of interval `n` that failed its checks, and whose key is not held, is
 * replaced by a new key: only for the current interval through the last one due, and only if
 * a key created now could still seal. A past slot is not: nothing needs its key; it is deleted
 * on schedule.
 *
 * @example
 * ```ts
 * import { repairsWithNewKey } from "./_reconcile.ts";
 * import { checkSchedule } from "./_schedule.ts";
 * const s = checkSchedule({ rotationInterval: 1000, publishLead: 1000, propagationDelay: 0, maxClockSkew: 0 });
 * console.log(repairsWithNewKey(9, 10_500, s), repairsWithNewKey(11, 10_500, s)); // false true
 * ```
 *
 * @param n Interval number.
 * @param now This clock.
 * @param s Schedule.
 * @returns Whether to write a new key over it.
 */
export function repairsWithNewKey(n: number, now: number, s: Schedule): boolean {
  const last = wantedIntervals(now, s)[1];
  if (n >= intervalAt(now, s.rotationInterval) && n <= last) {
    return sealFrom(n, now, s) !== null;
  }
  return false;
}
