/**
 * The public shapes of a fleet: the schedule, `FleetRing.start`'s options, and what
 * `status()`, `metrics()` and `exportKeys()` report. The ring itself is in `fleet_ring.ts`.
 *
 * @module
 */

import type { NoSealingKeyReason } from "../ticket/errors.ts";
import type { TicketFormat } from "../ticket/ticket_format.ts";
import type { TicketKeyRingMetrics, TicketKeyState } from "../ticket/key_ring.ts";
import type { TicketKeyLayout } from "../ticket/ticket_key.ts";
import type { KeyStore } from "./key_store.ts";

/** The schedule a fleet runs, in milliseconds. */
export interface FleetSchedule {
  /** How long each key seals (I); key N seals during [N·I, (N+1)·I). */
  rotationInterval: number;
  /** How long a key opens tickets after its interval. */
  decryptPeriod: number;
  /** How long before its interval a key is published. */
  publishLead: number;
  /** Longest time a new record takes to reach every process. */
  propagationDelay: number;
  /** Largest clock difference allowed between two processes. */
  maxClockSkew: number;
}

/** Options for {@link FleetRing.start}. Times are milliseconds. */
export interface FleetRingOptions {
  /** The shared store. The ring does not close it. */
  store: KeyStore;
  /** Key prefix of this fleet in the store (no trailing slash). Default `session-tickets/default`. */
  prefix?: string;
  /** The key-encryption key: 32 raw bytes or an AES-GCM `CryptoKey` (see `loadKek`). */
  kek: Uint8Array | CryptoKey;
  /** How long each key seals. Default 12 h. Must match the fleet's. */
  rotationInterval?: number;
  /** How long a key opens tickets after its interval. Default 24 h. Must match the fleet's. */
  decryptPeriod?: number;
  /**
   * How long before its interval each key is published. Must exceed `propagationDelay +
   * maxClockSkew`. Default: one interval (key N+1 is created when interval N starts), or
   * `propagationDelay + maxClockSkew + 1` if that is longer.
   */
  publishLead?: number;
  /** Longest time a new store record takes to reach every process. Default 10 s. */
  propagationDelay?: number;
  /**
   * Largest clock difference allowed between two processes. Default 60 s. A process whose
   * clock is further than this from the fleet's neither creates nor deletes records (see
   * {@link FleetStatus.clockSkew}); a record is deleted only more than this after its erase time.
   */
  maxClockSkew?: number;
  /** The clock (default `Date.now`). */
  now?: () => number;
  /** Ticket format of new keys: `"aes-256-gcm"` (default) or `"openssl"` (for nginx/HAProxy export). */
  format?: TicketFormat;
  /** AES size of `"openssl"` keys: 256 (80-byte layouts, default) or 128 (48-byte layouts). */
  aesBits?: 128 | 256;
  /** How often to re-read the store besides watching it. Default `propagationDelay / 2` (≥ 50 ms). */
  pollInterval?: number;
  /**
   * The most processes that may seal under one key at once (default 16). An `aes-256-gcm` key
   * seals at most 2^32 tickets fleet-wide (the random-nonce bound of NIST SP 800-38D §8.3), so
   * each process's share is 2^32 / maxProcesses (2^28 by default); a process that spends it
   * sends no ticket (`NoSealingKeyError`, reason `budget-spent`) until the next key seals.
   * Part of the fleet's settings: every process must give the same value (or none).
   */
  maxProcesses?: number;
  /** Run the background timer and store watch (default true). Tests pass false and call `sync()`. */
  background?: boolean;
  /**
   * Observe only: read the fleet's keys (and its settings, for any left out) but never write
   * to the store: no proposals, no deletions, no check record. Fails when there is no fleet at
   * `prefix`. For tools that show or export the schedule.
   */
  readOnly?: boolean;
}

/** One key of the fleet schedule, as {@link FleetRing.status} reports it. */
export interface FleetKeyStatus {
  /** The interval N the key belongs to. */
  interval: number;
  /** Key name, hex. */
  name: string;
  /** Its state in this process. */
  state: TicketKeyState;
  /** When it was created (creator's clock). */
  createdAt: number;
  /** Scheduled start of sealing: N·I. */
  activateAt: number;
  /** When it may seal here: N·I, later if published late, null if it never seals. */
  sealFrom: number | null;
  /** Scheduled end of sealing: (N+1)·I. */
  deactivateAt: number;
  /**
   * When it is erased from memory: (N+1)·I + decryptPeriod, or `decryptPeriod` after its
   * successor's actual start if that is later (a long store outage); null while no later key
   * seals (it may still be sealing).
   */
  eraseAt: number | null;
}

/** Why this process doubts its clock, as {@link FleetStatus.clockSkew} reports it. */
export interface FleetClockSkew {
  /**
   * About how far this clock is ahead of the fleet's records (ms; negative: behind), or null
   * when only suspected: at start the fleet's newest record was older than a running fleet's
   * would be (an idle fleet, or a clock far ahead).
   */
  offset: number | null;
  /** Since when (this clock). */
  since: number;
  /** One line: the evidence, and that nothing is written meanwhile. */
  message: string;
}

/** What {@link FleetRing.status} returns: the schedule and the store's reachability. */
export interface FleetStatus {
  /** The fleet prefix. */
  prefix: string;
  /** This process's clock. */
  now: number;
  /** The interval `now` falls in. */
  currentInterval: number;
  /** The interval and name of the key that seals now, or null (nothing to seal with). */
  sealing: { interval: number; name: string } | null;
  /** True when the sealing key is the current interval's (false after an outage over a boundary). */
  onSchedule: boolean;
  /**
   * Why nothing seals (null when a key seals): the reason a seal would be refused with (a
   * server sends no ticket meanwhile), a one-line explanation, and when a held key is due to
   * seal (this clock, ms), if one is.
   */
  notSealing: { reason: NoSealingKeyReason; message: string; sealsFrom: number | null } | null;
  /** The schedule in force. */
  schedule: FleetSchedule;
  /** Ticket format and AES size of the fleet's keys. */
  format: TicketFormat;
  /** AES key size. */
  aesBits: 128 | 256;
  /** Whether the last store operation succeeded. */
  storeReachable: boolean;
  /**
   * The last problem of the last round, one line, or null: the store unreachable, a key record
   * that failed its checks, vanished or changed, or this clock in doubt.
   */
  lastError: string | null;
  /** Since when (this clock) the store has been unreachable, or null. */
  unreachableSince: number | null;
  /** When the last successful sync finished, or null. */
  lastSync: number | null;
  /** The keys held, by interval. */
  keys: FleetKeyStatus[];
  /**
   * Keys held whose interval's record changed to another key in the store: they still open
   * their tickets until their `eraseAt`.
   */
  superseded: FleetKeyStatus[];
  /**
   * Non-null when this clock disagrees with the fleet's records by more than `maxClockSkew`:
   * the process then opens and seals with the keys it holds but neither creates nor deletes
   * key records.
   */
  clockSkew: FleetClockSkew | null;
  /** Key records in the store that failed their checks at the last read, by name. */
  badRecords: { record: string; problem: string }[];
}

/** Counters of a {@link FleetRing}: the ring's per-key counters plus the fleet's own. */
export interface FleetMetrics {
  /** Per-key seal/open counters (see `TicketKeyRing.metrics`). */
  ring: TicketKeyRingMetrics;
  /** Whether the last store operation succeeded. */
  storeReachable: boolean;
  /** Since when the store has been unreachable, or null. */
  unreachableSince: number | null;
  /** The last store error message, or null. */
  lastError: string | null;
  /** Syncs with the store attempted. */
  syncs: number;
  /** Syncs that failed (store unreachable or erroring). */
  syncFailures: number;
  /** Keys this process proposed. */
  proposals: number;
  /** Proposals that created the key. */
  proposalsWon: number;
  /** Proposals that found another process's key already there. */
  proposalsLost: number;
  /** Keys read from the store and added. */
  adopted: number;
  /** Keys erased from memory at the end of their life. */
  erased: number;
  /** Expired key records this process deleted from the store. */
  storeDeletes: number;
  /** Key records that failed their checks (never used), counted once per version. */
  badRecords: number;
  /** Records of held keys found missing from the store. */
  recordsVanished: number;
  /** Vanished or bad records of held keys this process wrote back (the held bytes). */
  recordsRestored: number;
  /** Held keys whose record changed to another valid key (the store's wins). */
  recordsChanged: number;
  /** Bad records of keys not held here this process replaced with a new key (compare-and-swap). */
  recordsRepaired: number;
  /**
   * Seals refused because no fleet key could seal in this process (`NoSealingKeyError`; a
   * server sends no ticket), by reason.
   */
  sealsRefused: Record<NoSealingKeyReason, number>;
}

/** Key files for other products, from {@link FleetRing.exportKeys}. */
export interface FleetExport {
  /** The layout written. */
  layout: TicketKeyLayout;
  /**
   * File contents: for `haproxy-*` one file (base64 lines); for raw layouts one file per key,
   * in the product's order. The caller should wipe them after writing.
   */
  files: Uint8Array[];
  /** The keys written, in file/line order. */
  keys: { interval: number; name: string; state: TicketKeyState }[];
}
