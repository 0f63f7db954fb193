/**
 * Private: the fleet's key schedule, as pure functions of the clock.
 *
 * Time is cut into intervals of `rotationInterval` (I) aligned to the Unix epoch. Key N seals
 * during [N·I, (N+1)·I), opens as decrypt-only until (N+1)·I + decryptPeriod (D), then is
 * erased. Key N is published (created in the store) from N·I − publishLead on, so every process
 * holds it, pending, for longer than the propagation delay plus the allowed clock skew before
 * anyone seals with it. A key created late (the store was away) seals only from
 * createdAt + propagationDelay + maxClockSkew, and never if that falls after its interval.
 *
 * @module
 */

import { FleetConfigError } from "./errors.ts";

/** The validated schedule parameters, all in milliseconds. */
export interface Schedule {
  /** I: how long each key seals. */
  rotationInterval: number;
  /** D: how long a key opens tickets after its interval. */
  decryptPeriod: number;
  /** How long before its interval a key is published. */
  publishLead: number;
  /** P: how long a new store record may take to reach every process. */
  propagationDelay: number;
  /** S: the largest clock difference allowed between two processes. */
  maxClockSkew: number;
}

/** Default rotation interval: 12 hours. */
export const DEFAULT_FLEET_ROTATION_INTERVAL_MS = 12 * 3600_000;
/** Default decrypt-only period: 24 hours. */
export const DEFAULT_FLEET_DECRYPT_PERIOD_MS = 24 * 3600_000;
/** Default propagation delay: 10 seconds. */
export const DEFAULT_PROPAGATION_DELAY_MS = 10_000;
/** Default allowed clock skew: 60 seconds. */
export const DEFAULT_MAX_CLOCK_SKEW_MS = 60_000;

function period(what: string, v: unknown, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min || !Number.isInteger(v)) {
    throw new FleetConfigError(
      `${what} must be a whole number of milliseconds >= ${min}, got ${String(v)}`,
    );
  }
  return v;
}

/**
 * Fills in defaults and checks that the publish lead exceeds propagation delay + clock skew.
 *
 * @example
 * ```ts
 * import { checkSchedule } from "./_schedule.ts";
 * console.log(checkSchedule({}).publishLead); // 43200000 (one interval)
 * ```
 *
 * @param o Partial parameters.
 * @returns The full schedule.
 * @throws {TicketKeyError} For a bad number, or a lead too short to stage keys safely.
 */
export function checkSchedule(o: Partial<Schedule>): Schedule {
  const rotationInterval = period(
    "rotationInterval",
    o.rotationInterval,
    DEFAULT_FLEET_ROTATION_INTERVAL_MS,
    1,
  );
  const decryptPeriod = period(
    "decryptPeriod",
    o.decryptPeriod,
    DEFAULT_FLEET_DECRYPT_PERIOD_MS,
    0,
  );
  const propagationDelay = period(
    "propagationDelay",
    o.propagationDelay,
    DEFAULT_PROPAGATION_DELAY_MS,
    0,
  );
  const maxClockSkew = period("maxClockSkew", o.maxClockSkew, DEFAULT_MAX_CLOCK_SKEW_MS, 0);
  const publishLead = period(
    "publishLead",
    o.publishLead,
    Math.max(rotationInterval, propagationDelay + maxClockSkew + 1),
    1,
  );
  if (publishLead <= propagationDelay + maxClockSkew) {
    throw new FleetConfigError(
      `publishLead (${publishLead} ms) must exceed propagationDelay + maxClockSkew ` +
        `(${propagationDelay} + ${maxClockSkew} ms), so every process holds a key before any seals with it`,
    );
  }
  return { rotationInterval, decryptPeriod, publishLead, propagationDelay, maxClockSkew };
}

/**
 * The interval a clock time falls in.
 *
 * @example
 * ```ts
 * import { intervalAt } from "./_schedule.ts";
 * console.log(intervalAt(4500, 2000)); // 2
 * ```
 *
 * @param t Clock time (ms).
 * @param i Rotation interval (ms).
 * @returns floor(t / i).
 */
export function intervalAt(t: number, i: number): number {
  return Math.floor(t / i);
}

/**
 * The intervals whose keys must exist in the store at `now`: the current one through the last
 * one within `publishLead`.
 *
 * @example
 * ```ts
 * import { checkSchedule, wantedIntervals } from "./_schedule.ts";
 * const s = checkSchedule({ rotationInterval: 1000, publishLead: 2500, maxClockSkew: 0, propagationDelay: 0 });
 * console.log(wantedIntervals(10_000, s)); // [ 10, 12 ]
 * ```
 *
 * @param now Clock time.
 * @param s Schedule.
 * @returns [first, last], inclusive.
 */
export function wantedIntervals(now: number, s: Schedule): [number, number] {
  return [intervalAt(now, s.rotationInterval), intervalAt(now + s.publishLead, s.rotationInterval)];
}

/**
 * When key `n` created at `createdAt` may start sealing: its interval's start, or later when it
 * was published late. `null` when that is at or after its interval's end (it never seals).
 *
 * @example
 * ```ts
 * import { checkSchedule, sealFrom } from "./_schedule.ts";
 * const s = checkSchedule({ rotationInterval: 1000, publishLead: 500, maxClockSkew: 100, propagationDelay: 100 });
 * console.log(sealFrom(10, 9000, s), sealFrom(10, 10_500, s), sealFrom(10, 10_900, s)); // 10000 10700 null
 * ```
 *
 * @param n Interval number.
 * @param createdAt Creator's clock at creation.
 * @param s Schedule.
 * @returns The time, or null.
 */
export function sealFrom(n: number, createdAt: number, s: Schedule): number | null {
  const start = Math.max(n * s.rotationInterval, createdAt + s.propagationDelay + s.maxClockSkew);
  return start < (n + 1) * s.rotationInterval ? start : null;
}

/**
 * The end of key `n`'s interval (when the next key takes over on schedule).
 *
 * @example
 * ```ts
 * import { sealUntil } from "./_schedule.ts";
 * console.log(sealUntil(3, 1000)); // 4000
 * ```
 *
 * @param n Interval number.
 * @param i Rotation interval.
 * @returns (n+1)·i.
 */
export function sealUntil(n: number, i: number): number {
  return (n + 1) * i;
}

/**
 * When key `n` is erased from memory: its interval's end plus the decrypt period.
 *
 * @example
 * ```ts
 * import { checkSchedule, eraseAt } from "./_schedule.ts";
 * console.log(eraseAt(3, checkSchedule({ rotationInterval: 1000, decryptPeriod: 5000 }))); // 9000
 * ```
 *
 * @param n Interval number.
 * @param s Schedule.
 * @returns (n+1)·I + D.
 */
export function eraseAt(n: number, s: Schedule): number {
  return (n + 1) * s.rotationInterval + s.decryptPeriod;
}

const DIGITS = 16;

/**
 * The store record key of interval `n`'s ticket key.
 *
 * @example
 * ```ts
 * import { keyRecordName } from "./_schedule.ts";
 * console.log(keyRecordName("st/prod", 42)); // "st/prod/keys/0000000000000042"
 * ```
 *
 * @param prefix Fleet prefix (no trailing slash).
 * @param n Interval number.
 * @returns The record key.
 */
export function keyRecordName(prefix: string, n: number): string {
  return `${prefix}/keys/${String(n).padStart(DIGITS, "0")}`;
}

/**
 * The interval number of a key record, or null for a record that is not one.
 *
 * @example
 * ```ts
 * import { parseKeyRecordName } from "./_schedule.ts";
 * console.log(parseKeyRecordName("st/prod", "st/prod/keys/0000000000000042")); // 42
 * ```
 *
 * @param prefix Fleet prefix.
 * @param key Record key.
 * @returns The interval, or null.
 */
export function parseKeyRecordName(prefix: string, key: string): number | null {
  const head = `${prefix}/keys/`;
  if (!key.startsWith(head)) return null;
  const tail = key.slice(head.length);
  if (!/^[0-9]{16}$/.test(tail)) return null;
  const n = Number(tail);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * When key `n` is erased, given when the fleet could last have sealed under it: the actual start
 * of its successor (the first later key that seals; `null` while there is none, so the key may
 * still be sealing and is kept). Never before its scheduled {@link eraseAt}. Every process
 * computes it from the same records, so they agree; a key that kept sealing through a long
 * store outage opens every ticket for `decryptPeriod` after it was sealed.
 *
 * @example
 * ```ts
 * import { checkSchedule, eraseAfter } from "./_schedule.ts";
 * const s = checkSchedule({ rotationInterval: 1000, decryptPeriod: 5000 });
 * console.log(eraseAfter(3, 4000, s), eraseAfter(3, 7300, s), eraseAfter(3, null, s)); // 9000 12300 Infinity
 * ```
 *
 * @param n Interval number.
 * @param successorStart When the next key that seals started (or starts) sealing, or null.
 * @param s Schedule.
 * @returns The erase time (ms), `Infinity` while there is no successor.
 */
export function eraseAfter(n: number, successorStart: number | null, s: Schedule): number {
  if (successorStart === null) return Infinity;
  return Math.max(eraseAt(n, s), successorStart + s.decryptPeriod);
}

/** A key's times, as {@link fleetKeyStates} reads them. */
export interface FleetKeyTimes {
  /** Interval number. */
  n: number;
  /** When it may start sealing ({@link sealFrom}), null if never. */
  sealFrom: number | null;
  /** When it is erased ({@link eraseAfter}). */
  eraseAt: number;
  /** Its interval's record changed to another key since it was read. */
  superseded: boolean;
}

/**
 * The fleet's state rule: the state of each key at `now`. A key is erased from its erase time;
 * the newest key whose sealing time has come seals (a superseded key only until its
 * replacement's has come); keys whose sealing time is still to come are pending; the rest are
 * decrypt-only. Also when the next state changes.
 *
 * @example
 * ```ts
 * import { fleetKeyStates } from "./_schedule.ts";
 * const k = (n: number, sealFrom: number | null, eraseAt: number) => ({ n, sealFrom, eraseAt, superseded: false });
 * const r = fleetKeyStates([k(9, 9000, 12_000), k(10, 10_000, 13_000), k(11, 11_000, Infinity)], 10_500);
 * console.log(r.states, r.nextChange); // [ "decrypt-only", "active", "pending" ] 11000
 * ```
 *
 * @param keys The keys held.
 * @param now Clock time.
 * @returns One state per key (`"erased"` past its erase time) and the next change's time.
 */
export function fleetKeyStates(
  keys: FleetKeyTimes[],
  now: number,
): { states: ("pending" | "active" | "decrypt-only" | "erased")[]; nextChange: number } {
  let sealer = -1;
  keys.forEach((k, i) => {
    if (k.eraseAt <= now || k.sealFrom === null || k.sealFrom > now) return;
    const b = sealer < 0 ? null : keys[sealer];
    if (b === null || k.n > b.n || (k.n === b.n && b.superseded && !k.superseded)) sealer = i;
  });
  let nextChange = Infinity;
  const states = keys.map((k, i) => {
    if (k.eraseAt <= now) return "erased" as const;
    nextChange = Math.min(nextChange, k.eraseAt);
    if (i === sealer) return "active" as const;
    if (k.sealFrom !== null && k.sealFrom > now) {
      nextChange = Math.min(nextChange, k.sealFrom);
      return "pending" as const;
    }
    return "decrypt-only" as const;
  });
  return { states, nextChange };
}
