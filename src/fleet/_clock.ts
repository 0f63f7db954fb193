/**
 * Private: whether this process's clock agrees with the fleet's, judged from the key records'
 * creation times (each is its writer's clock when it wrote the record).
 *
 * - A record created more than `maxClockSkew` after this process's present: this clock is
 *   behind its writer's by more than allowed.
 * - A record that appeared since the previous read (absent from the list read at `prevListAt`)
 *   yet was created more than `propagationDelay + maxClockSkew` before that read: this clock is
 *   ahead of its writer's by more than allowed. One created within the bounds is agreement.
 * - Where the store gives its own clock (etcd's `Date` header), that clock is the fleet's: this
 *   clock agrees when within `maxClockSkew` (plus {@link STORE_TIME_SLACK}) of it, and the
 *   records' creation times are not consulted.
 * - At a process's first read the fleet may look idle: the newest record older than one
 *   {@link idleWindow} (a running fleet creates one each interval). That is a dead fleet or a
 *   clock far ahead; the process waits one window for a fresh record before it writes.
 *
 * @module
 */

import type { Schedule } from "./_schedule.ts";

/** One key record's creation time, and whether it appeared since the previous read. */
export interface RecordTime {
  /** The writer's clock when it created the record. */
  createdAt: number;
  /** True when the previous read did not list it. */
  fresh: boolean;
}

/**
 * Slack (ms) for a store's clock: etcd's `Date` header has whole seconds, and the answer takes
 * time to arrive.
 *
 * @example
 * ```ts
 * import { STORE_TIME_SLACK } from "./_clock.ts";
 * console.log(STORE_TIME_SLACK); // 1000
 * ```
 */
export const STORE_TIME_SLACK = 1000;

/**
 * Slack (ms) for when a writer runs: a process's poll, or a cron job's `fleet rotate` (a new
 * process that must start first), can come a little after the interval boundary it serves, so
 * a running fleet's newest record can be that much older than one interval.
 *
 * @example
 * ```ts
 * import { WRITER_SLACK } from "./_clock.ts";
 * console.log(WRITER_SLACK); // 2000
 * ```
 */
export const WRITER_SLACK = 2000;

/** What the records say about this clock. */
export type ClockJudgement =
  | { kind: "disagree"; offset: number; detail: string }
  | { kind: "agree" }
  | { kind: "none" };

/**
 * Judges this clock against the records read at `now` (see the module doc).
 *
 * @example
 * ```ts
 * import { judgeClock } from "./_clock.ts";
 * import { checkSchedule } from "./_schedule.ts";
 * const s = checkSchedule({ rotationInterval: 1000, propagationDelay: 100, maxClockSkew: 100 });
 * console.log(judgeClock(10_000, 9_900, [{ createdAt: 9_950, fresh: true }], s).kind); // "agree"
 * console.log(judgeClock(10_000, 9_900, [{ createdAt: 5_000, fresh: true }], s).kind); // "disagree"
 * ```
 *
 * @param now This clock, after the read.
 * @param prevListAt This clock before the previous read, or null for the first.
 * @param records Other processes' records (not this process's own).
 * @param s Schedule.
 * @param storeTime The store's clock now, or null when it gives none.
 * @returns The judgement; `offset` is how far this clock is ahead (negative: behind).
 */
export function judgeClock(
  now: number,
  prevListAt: number | null,
  records: RecordTime[],
  s: Schedule,
  storeTime: number | null = null,
): ClockJudgement {
  if (storeTime !== null) {
    const offset = now - storeTime;
    if (Math.abs(offset) <= s.maxClockSkew + STORE_TIME_SLACK) return { kind: "agree" };
    return {
      kind: "disagree",
      offset,
      detail: `the store's clock reads ${seconds(-offset)} s from this one`,
    };
  }
  let worst: { offset: number; detail: string } | null = null;
  let agree = false;
  const note = (offset: number, detail: string) => {
    if (worst === null || Math.abs(offset) > Math.abs(worst.offset)) worst = { offset, detail };
  };
  for (const r of records) {
    if (r.createdAt > now + s.maxClockSkew) {
      note(
        now - r.createdAt,
        `a key record was created ${seconds(r.createdAt - now)} s after this clock's present`,
      );
    } else if (r.fresh && prevListAt !== null) {
      if (r.createdAt < prevListAt - s.propagationDelay - s.maxClockSkew) {
        note(
          prevListAt - r.createdAt,
          `a key record that appeared since the last read was created ${
            seconds(prevListAt - r.createdAt)
          } s before it by its writer's clock`,
        );
      } else agree = true;
    }
  }
  if (worst !== null) return { kind: "disagree", ...(worst as { offset: number; detail: string }) };
  return agree ? { kind: "agree" } : { kind: "none" };
}

/**
 * How long a running fleet goes at most without creating a key record (this clock): one
 * interval, plus the skew of its writer and of this clock, the propagation delay, one poll and
 * {@link WRITER_SLACK}.
 *
 * @example
 * ```ts
 * import { idleWindow } from "./_clock.ts";
 * import { checkSchedule } from "./_schedule.ts";
 * const s = checkSchedule({ rotationInterval: 1000, propagationDelay: 100, maxClockSkew: 100 });
 * console.log(idleWindow(s, 50)); // 3350
 * ```
 *
 * @param s Schedule.
 * @param pollInterval The ring's poll interval.
 * @returns Milliseconds.
 */
export function idleWindow(s: Schedule, pollInterval: number): number {
  return s.rotationInterval + 2 * s.maxClockSkew + s.propagationDelay + pollInterval +
    WRITER_SLACK;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}
