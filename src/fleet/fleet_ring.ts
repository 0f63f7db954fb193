/**
 * `FleetRing`: one schedule of ticket keys shared by every process of a fleet through a
 * {@link KeyStore} (Deno KV, etcd), without a leader.
 *
 * The schedule is a function of the clock. Time is cut into intervals of `rotationInterval` (I)
 * aligned to the Unix epoch; key N seals during [N·I, (N+1)·I), then opens as decrypt-only until
 * (N+1)·I + `decryptPeriod` (or `decryptPeriod` after its successor's actual start, if that is
 * later: see below), then is erased from memory (and, more than `maxClockSkew` later, from the
 * store). Key N is published `publishLead` before its interval, so it sits in every process,
 * pending (opening tickets, sealing none), for longer than `propagationDelay + maxClockSkew`.
 * Whoever finds a due key missing proposes one with `createIfAbsent`: exactly one proposal per
 * interval wins and every process adopts the winner's, read back from the store; a process never
 * seals under a key it has not read from the store.
 *
 * Keys are stored wrapped under a key-encryption key (see `key_wrap.ts`); a record
 * `<prefix>/kek-check` lets a process with the wrong KEK (or a different schedule) refuse to
 * start.
 *
 * When the store is unreachable the ring keeps sealing and opening with the keys it holds,
 * reports the outage in {@link FleetRing.status}, creates nothing, and catches up when the store
 * returns. If the store stays away through a boundary and the new interval's key was never
 * published, the newest key held keeps sealing and `status().onSchedule` turns false; a key is
 * erased only `decryptPeriod` after the first later key that seals starts sealing (kept while
 * there is none), so every ticket opens for `decryptPeriod` after it was sealed.
 *
 * The store is the truth: every poll compares the records with the keys held. A record that
 * vanished is reported and written back from the held bytes; one changed to another valid key
 * takes its interval (the old key keeps opening, `status().superseded`); one that fails its checks
 * is reported by name (`status().badRecords`) and, when the fleet's check record opens under this
 * KEK, replaced by compare-and-swap (`KeyStore.replaceIf`).
 *
 * Clocks: a process whose clock disagrees with the fleet's by more than `maxClockSkew` (the
 * store's clock where it gives one, else the records' creation times; see `_clock.ts`) opens and
 * seals with what it holds but writes nothing to the store; `status().clockSkew` says why.
 *
 * When no key seals in this process (a new fleet before its first key's time, a spent seal
 * budget, every key erased), sealing rejects with a `NoSealingKeyError`: a server on the ring
 * sends no ticket and the handshake completes, `status().notSealing` says why and until when,
 * and `metrics().sealsRefused` counts the refusals.
 *
 * @module
 */

import { NoSealingKeyError, TicketKeyError } from "../ticket/errors.ts";
import { FleetConfigError } from "./errors.ts";
import type { SslSession } from "../session/ssl_session.ts";
import type { TicketByteSealer, TicketOpenResult, TicketSealer } from "../ticket/sealer.ts";
import type { OpenedTicketBytes, TicketFormat } from "../ticket/ticket_format.ts";
import { type KeySetEntry, sealSession, TicketKeySet } from "../ticket/key_set.ts";
import { sameBytes } from "../ticket/bytes.ts";
import {
  checkFormatAesBits,
  parseTicketKeyLayout,
  TICKET_KEY_LAYOUTS,
  TicketKey,
  type TicketKeyLayout,
} from "../ticket/ticket_key.ts";
import { type KeyStore, KeyStoreUnavailableError, type StoredRecord } from "./key_store.ts";
import { importKek, unwrapRecord, wrapRecord } from "./key_wrap.ts";
import { type KeyRecordFormat, newKeyRecord, openKeyRecord } from "./_key_record.ts";
import type {
  FleetExport,
  FleetKeyStatus,
  FleetMetrics,
  FleetRingOptions,
  FleetSchedule,
  FleetStatus,
} from "./fleet_types.ts";
import {
  adoptionPlan,
  type BadRecord,
  clockEvidence,
  type ClockSkew,
  clockVerdict,
  eraseTimes,
  indexRecords,
  rememberNames,
  repairsWithNewKey,
  supersededEraseAt,
  surveyRecords,
  type ValidRecord,
} from "./_reconcile.ts";
import {
  checkSchedule,
  eraseAt,
  fleetKeyStates,
  intervalAt,
  keyRecordName,
  parseKeyRecordName,
  type Schedule,
  sealFrom,
  sealUntil,
  wantedIntervals,
} from "./_schedule.ts";

interface Held {
  n: number;
  key: TicketKey;
  name: string;
  createdAt: number;
  /** The creating process's id (from the record), "" when the record does not say. */
  by: string;
  sealFrom: number | null;
  /** When it is erased (Infinity while it has no successor that seals). */
  eraseAt: number;
  recordKey: string;
  wrapped: Uint8Array;
  /** Its record was missing from the last list. */
  vanished: boolean;
  /** Its interval's record changed to another key. */
  superseded: boolean;
  /** Its entry in the key set (the set holds its state and counters). */
  entry: KeySetEntry<Held>;
}

/**
 * Default {@link FleetRingOptions.maxProcesses}: 16 processes, so each seals at most 2^28 tickets
 * under one AES-256-GCM key (the ticket layer's default budget per key).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAX_PROCESSES } from "@seed/session-tickets/fleet";
 * console.log(2 ** 32 / DEFAULT_MAX_PROCESSES === 2 ** 28); // true
 * ```
 */
export const DEFAULT_MAX_PROCESSES = 16;
/** Tickets one AES-256-GCM key may seal fleet-wide: 2^32 random 96-bit nonces (SP 800-38D §8.3). */
const GCM_FLEET_SEAL_LIMIT = 2 ** 32;
const CHECK_PAYLOAD = "session-tickets fleet key-encryption key check";
const KEK_MISMATCH = "key-encryption key does not match the fleet's; check SESSION_TICKETS_KEK";
const INSPECT = Symbol.for("Deno.customInspect");
const enc = new TextEncoder();

function storedLayout(format: TicketFormat, aesBits: 128 | 256): TicketKeyLayout {
  return format === "aes-256-gcm" ? "gcm" : aesBits === 256 ? "openssl-80" : "openssl-48";
}

/** The fleet's check record's settings, null when absent; throws when the KEK does not open it. */
async function readCheck(
  store: KeyStore,
  key: string,
  kek: CryptoKey,
): Promise<Record<string, unknown> | null> {
  const rec = await store.get(key);
  if (rec === null) return null;
  try {
    const r = await unwrapRecord(kek, key, rec.value);
    const ok = new TextDecoder().decode(r.payload) === CHECK_PAYLOAD;
    r.payload.fill(0);
    if (!ok || r.header.kind !== "kek-check") throw new Error("payload");
    return r.header;
  } catch {
    throw new FleetConfigError(`${KEK_MISMATCH} (store record ${key})`);
  }
}

/** A clock time for a message: ISO 8601 when it is a date, else milliseconds. */
function clockTime(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message.split("\n")[0] : String(e);
}

/**
 * A fleet-wide, self-rotating ticket key ring over a shared {@link KeyStore}; a
 * {@link TicketSealer}.
 *
 * @example
 * ```ts
 * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
 * import { SslSession } from "@seed/session-tickets";
 * let t = 1_000_000;
 * const store = new MemoryKeyStore();
 * const kek = crypto.getRandomValues(new Uint8Array(32));
 * const opts = { store, kek, rotationInterval: 60_000, decryptPeriod: 120_000, propagationDelay: 1000, maxClockSkew: 1000, now: () => t, background: false };
 * const a = await FleetRing.start(opts);
 * const b = await FleetRing.start(opts);      // adopts a's keys
 * t += 60_000;                                  // the next key is active
 * const ticket = await a.seal(new SslSession({ cipherId: 0x1301, time: 1, timeout: 7200 }));
 * console.log((await b.open(ticket)).status);   // 5 (SUCCESS)
 * await a.stop(); await b.stop();
 * ```
 */
export class FleetRing implements TicketSealer, TicketByteSealer {
  readonly #store: KeyStore;
  readonly #prefix: string;
  readonly #kek: CryptoKey;
  readonly #s: Schedule;
  readonly #now: () => number;
  readonly #format: TicketFormat;
  readonly #aesBits: 128 | 256;
  readonly #layout: TicketKeyLayout;
  /** What every key record of this fleet must be (format, AES size, stored layout). */
  readonly #recordFormat: KeyRecordFormat;
  readonly #pollInterval: number;
  readonly #background: boolean;
  readonly #readOnly: boolean;
  /** The keys, states and counters; the fleet schedule below decides the states. */
  readonly #set = new TicketKeySet<Held>();
  /** When a key's state next changes (this clock). */
  #nextChange = -Infinity;
  readonly #held = new Map<number, Held>();
  /** Each key's seal budget in this process (its share of the fleet-wide GCM limit). */
  readonly #sealBudget: number | undefined;
  /** Records that failed their checks (`key@version`), with what was wrong with them. */
  readonly #bad = new Map<string, string>();
  readonly #uncertain = new Map<string, Uint8Array>();
  /** This process's id in the records it creates (so it never takes its own as evidence). */
  readonly #id = crypto.getRandomValues(new Uint8Array(8)).toHex();
  /** The fleet's settings, as its check record holds them. */
  readonly #config: Record<string, unknown>;
  /** Keys whose interval's record changed to another key: they open until their erase time. */
  readonly #superseded: Held[] = [];
  /** Records that failed their checks in the last list. */
  #badNow: BadRecord[] = [];
  /** Erase time of each key record listed (held, expired or bad), for deletion. */
  readonly #recordErase = new Map<string, number>();
  /** Valid records (`key@version`) already past their erase time when read. */
  readonly #expired = new Set<string>();
  /**
   * Key names seen in the store (or held), with when they were last seen: a record whose key was
   * seen before (written back after a wipe, say) is no evidence about the clock. Forgotten a
   * key's lifetime after they were last seen.
   */
  #seenNames = new Map<string, number>();
  /** This clock before the previous list (null before the first). */
  #prevListAt: number | null = null;
  /** Doubt about this clock (see `_clock.ts`); while set, nothing is written to the store. */
  #skew: ClockSkew | null = null;
  readonly #abort = new AbortController();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #chain: Promise<void> = Promise.resolve();
  #queued: Promise<void> | null = null;
  #stopped = false;
  #started = false;
  #reachable = true;
  #lastError: string | null = null;
  #unreachableSince: number | null = null;
  #lastSync: number | null = null;
  #m = {
    syncs: 0,
    syncFailures: 0,
    proposals: 0,
    proposalsWon: 0,
    proposalsLost: 0,
    adopted: 0,
    erased: 0,
    storeDeletes: 0,
    badRecords: 0,
    recordsVanished: 0,
    recordsRestored: 0,
    recordsChanged: 0,
    recordsRepaired: 0,
  };

  private constructor(
    o: FleetRingOptions,
    kek: CryptoKey,
    s: Schedule,
    prefix: string,
    format: TicketFormat,
    aesBits: 128 | 256,
    maxProcesses: number,
    config: Record<string, unknown>,
  ) {
    this.#config = config;
    this.#store = o.store;
    this.#sealBudget = format === "aes-256-gcm"
      ? Math.floor(GCM_FLEET_SEAL_LIMIT / maxProcesses)
      : undefined;
    this.#prefix = prefix;
    this.#kek = kek;
    this.#s = s;
    this.#now = o.now ?? Date.now;
    this.#format = format;
    this.#aesBits = aesBits;
    this.#layout = storedLayout(format, aesBits);
    this.#recordFormat = { format, aesBits, layout: this.#layout };
    this.#pollInterval = o.pollInterval ?? Math.max(50, Math.floor(s.propagationDelay / 2));
    this.#background = o.background !== false;
    this.#readOnly = o.readOnly === true;
  }

  /**
   * Joins (or founds) the fleet at `prefix`: checks the KEK against the fleet's check record
   * (creating it for a new fleet), reads every live key, proposes any due key that is missing,
   * and starts watching the store. Resolves once every live key is held, so a late joiner
   * never seals before it knows the fleet's keys. A new fleet's first key seals
   * `propagationDelay + maxClockSkew` after it is created (see {@link FleetRing.ready});
   * meanwhile seals are refused with a `NoSealingKeyError` (reason `"not-yet"`), so a server on
   * the ring completes its handshakes without tickets.
   *
   * @example
   * ```ts
   * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
   * const store = new MemoryKeyStore();
   * await FleetRing.start({ store, kek: new Uint8Array(32).fill(1), background: false });
   * await FleetRing.start({ store, kek: new Uint8Array(32).fill(2), background: false })
   *   .catch((e) => console.log(e.message)); // key-encryption key does not match the fleet's; ...
   * ```
   *
   * @param options Store, prefix, KEK, schedule and clock.
   * @returns The running ring.
   * @throws {FleetConfigError} For bad options, a KEK that does not match the fleet's, or a
   * schedule or format other than the fleet's.
   * @throws {KeyStoreUnavailableError} When the store cannot be reached at start-up.
   */
  static async start(options: FleetRingOptions): Promise<FleetRing> {
    if (options === null || typeof options !== "object") {
      throw new FleetConfigError("FleetRing.start takes an options object");
    }
    const store = options.store;
    if (store === null || typeof store !== "object" || typeof store.list !== "function") {
      throw new FleetConfigError("FleetRing.start needs a KeyStore as options.store");
    }
    const prefix = (options.prefix ?? "session-tickets/default").replace(/\/+$/, "");
    if (typeof prefix !== "string" || prefix === "" || /[\s]/.test(prefix)) {
      throw new FleetConfigError(
        `prefix must be a non-empty store key without white space, got ${JSON.stringify(prefix)}`,
      );
    }
    if (options.now !== undefined && typeof options.now !== "function") {
      throw new FleetConfigError("now must be a function returning milliseconds");
    }
    if (
      options.pollInterval !== undefined &&
      !(typeof options.pollInterval === "number" && options.pollInterval >= 1)
    ) {
      throw new FleetConfigError(
        `pollInterval must be a number of milliseconds >= 1, got ${String(options.pollInterval)}`,
      );
    }
    const kekIn = options.kek;
    let kek: CryptoKey;
    if (kekIn instanceof CryptoKey) {
      const alg = kekIn.algorithm as AesKeyAlgorithm;
      if (alg.name !== "AES-GCM" || alg.length !== 256) {
        throw new FleetConfigError("the key-encryption key must be an AES-256-GCM CryptoKey");
      }
      kek = kekIn;
    } else kek = await importKek(kekIn);
    // The fleet's own settings (from its check record) fill in whatever the caller left out.
    const checkKey = `${prefix}/kek-check`;
    let fleet = await readCheck(store, checkKey, kek);
    if (fleet === null && options.readOnly === true) {
      throw new FleetConfigError(
        `there is no fleet at ${prefix} in this store (no ${checkKey} record); check --prefix and --store`,
      );
    }
    const num = (v: unknown) => (typeof v === "number" ? v : undefined);
    const s = checkSchedule({
      rotationInterval: options.rotationInterval ?? num(fleet?.rotationInterval),
      decryptPeriod: options.decryptPeriod ?? num(fleet?.decryptPeriod),
      propagationDelay: options.propagationDelay ?? num(fleet?.propagationDelay),
      maxClockSkew: options.maxClockSkew ?? num(fleet?.maxClockSkew),
      publishLead: options.publishLead ??
        (options.rotationInterval === undefined ? num(fleet?.publishLead) : undefined),
    });
    if (s.publishLead / s.rotationInterval > 4096) {
      throw new FleetConfigError(
        `publishLead (${s.publishLead} ms) spans more than 4096 intervals of ${s.rotationInterval} ms; lengthen rotationInterval`,
      );
    }
    const format = options.format ?? (fleet?.format as TicketFormat | undefined) ??
      "aes-256-gcm";
    let aesBits: 128 | 256;
    try {
      aesBits = checkFormatAesBits(
        format,
        options.aesBits ?? (format === fleet?.format ? fleet.aesBits as number : undefined),
      );
    } catch (e) {
      throw e instanceof TicketKeyError ? new FleetConfigError(e.message) : e;
    }
    const maxProcesses = options.maxProcesses ?? num(fleet?.maxProcesses) ??
      DEFAULT_MAX_PROCESSES;
    if (!Number.isInteger(maxProcesses) || maxProcesses < 1 || maxProcesses > 2 ** 31) {
      throw new FleetConfigError(
        `maxProcesses must be a whole number from 1 to 2^31, got ${String(maxProcesses)}`,
      );
    }
    const config = {
      kind: "kek-check",
      maxProcesses,
      rotationInterval: s.rotationInterval,
      decryptPeriod: s.decryptPeriod,
      format,
      aesBits,
      publishLead: s.publishLead,
      propagationDelay: s.propagationDelay,
      maxClockSkew: s.maxClockSkew,
    };
    if (fleet === null && options.readOnly !== true) {
      const value = await wrapRecord(kek, checkKey, enc.encode(CHECK_PAYLOAD), config);
      if (!(await store.createIfAbsent(checkKey, value))) {
        fleet = await readCheck(store, checkKey, kek);
        if (fleet === null) {
          throw new TicketKeyError(
            `store record ${checkKey} vanished while joining the fleet; retry`,
          );
        }
      }
    }
    if (fleet !== null) {
      const describe = (c: Record<string, unknown>) =>
        `rotationInterval ${c.rotationInterval} ms, decryptPeriod ${c.decryptPeriod} ms, ` +
        `format ${c.format}${c.format === "openssl" ? ` AES-${c.aesBits}` : ""}, ` +
        `maxProcesses ${c.maxProcesses}`;
      // A fleet founded before maxProcesses existed ran with the default.
      const theirs = describe({ maxProcesses: DEFAULT_MAX_PROCESSES, ...fleet });
      const ours = describe(config);
      if (theirs !== ours) {
        throw new FleetConfigError(
          `the fleet at ${prefix} runs ${theirs}; this process asked for ${ours}: use the fleet's settings`,
        );
      }
    }
    const ring = new FleetRing(options, kek, s, prefix, format, aesBits, maxProcesses, config);
    await ring.#syncOnce(true);
    ring.#started = true;
    if (ring.#background) {
      store.watch(`${prefix}/keys/`, () => void ring.sync(), ring.#abort.signal);
      ring.#arm();
    }
    return ring;
  }

  /** The fleet prefix. */
  get prefix(): string {
    return this.#prefix;
  }

  /** The schedule in force (a copy). */
  get schedule(): FleetSchedule {
    return { ...this.#s };
  }

  /** The key that seals now, or null. */
  get activeKey(): TicketKey | null {
    this.#tick();
    return this.#set.active?.key ?? null;
  }

  /**
   * Resolves when the ring has a key to seal with (polling the store meanwhile), or rejects
   * after `timeoutMs`.
   *
   * @example
   * ```ts
   * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
   * const ring = await FleetRing.start({ store: new MemoryKeyStore(), kek: new Uint8Array(32), propagationDelay: 10, maxClockSkew: 10, rotationInterval: 1000 });
   * await ring.ready(5000);
   * console.log(ring.activeKey !== null); // true
   * await ring.stop();
   * ```
   *
   * @param timeoutMs How long to wait (real time). Default 5 minutes.
   * @throws {TicketKeyError} When no key became active in time.
   */
  async ready(timeoutMs = 300_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.activeKey === null) {
      if (Date.now() >= end || this.#stopped) {
        throw new TicketKeyError(
          `the fleet has no key to seal with after ${timeoutMs} ms; see status()`,
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(100, this.#pollInterval)));
      if (!this.#background) await this.sync();
    }
  }

  /**
   * Reads the store now: adopts new keys, proposes due keys that are missing, deletes expired
   * records, and erases expired keys. Never rejects for a store outage (it is reported in
   * {@link FleetRing.status}). Concurrent calls share one read.
   *
   * @example
   * ```ts
   * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
   * const ring = await FleetRing.start({ store: new MemoryKeyStore(), kek: new Uint8Array(32), background: false });
   * await ring.sync();
   * console.log(ring.status().storeReachable); // true
   * ```
   */
  sync(): Promise<void> {
    if (this.#queued !== null) return this.#queued;
    const p = this.#chain.then(() => {
      this.#queued = null;
      return this.#syncOnce(false);
    });
    this.#queued = p;
    this.#chain = p.then(() => {}, () => {});
    return p;
  }

  /**
   * Publishes the next interval's key now, if it is not in the store yet, and adopts it.
   * The schedule itself is fixed by the clock (that is what lets every process agree without a
   * leader), so a forced rotation does not cut the current key's interval short: it stages the
   * next key early, which matters when `publishLead` is short or the store was away.
   *
   * @example
   * ```ts
   * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
   * const ring = await FleetRing.start({ store: new MemoryKeyStore(), kek: new Uint8Array(32), background: false });
   * const r = await ring.rotateNow();
   * console.log(r.created); // false (the default lead already published it)
   * ```
   *
   * @returns The interval, whether this call created its key, and the key's name.
   * @throws {KeyStoreUnavailableError} When the store cannot be reached.
   */
  async rotateNow(): Promise<{ interval: number; created: boolean; name: string | null }> {
    if (this.#readOnly) throw new FleetConfigError("this FleetRing is read-only; it cannot rotate");
    await this.sync();
    if (this.#skew !== null) throw new TicketKeyError(this.#skew.message);
    const n = intervalAt(this.#now(), this.#s.rotationInterval) + 1;
    let created = false;
    if (!this.#held.has(n)) {
      const existing = await this.#store.get(keyRecordName(this.#prefix, n));
      if (existing === null) created = await this.#propose(n, this.#now());
      await this.#syncOnce(true);
    }
    return { interval: n, created, name: this.#held.get(n)?.name ?? null };
  }

  /**
   * The lifetime hint (seconds) to send with a ticket: `sessionTimeout`, but never past the
   * sealing key's erase time (its remaining sealing time plus `decryptPeriod`; for a key that
   * seals past its interval because no successor exists yet, `decryptPeriod`).
   *
   * @example
   * ```ts
   * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
   * let t = 0;
   * const ring = await FleetRing.start({ store: new MemoryKeyStore(), kek: new Uint8Array(32), now: () => t, rotationInterval: 3_600_000, decryptPeriod: 3_600_000, background: false });
   * t = 3_600_000 * 1.5; await ring.sync();
   * console.log(ring.lifetimeHint(86_400)); // 5400 (half an hour of sealing + one hour)
   * ```
   *
   * @param sessionTimeout Session timeout in seconds.
   * @returns The hint in whole seconds (0 when nothing seals).
   */
  lifetimeHint(sessionTimeout: number): number {
    this.#tick();
    const h = this.#set.active?.meta;
    if (h === undefined) return 0;
    const timeout = typeof sessionTimeout === "number" && sessionTimeout > 0
      ? Math.floor(sessionTimeout)
      : 0;
    const now = this.#now();
    // With no successor yet, the key is erased decryptPeriod after one starts, which is later
    // than now: a ticket sealed now opens for decryptPeriod at least.
    const end = Number.isFinite(h.eraseAt)
      ? h.eraseAt
      : Math.max(eraseAt(h.n, this.#s), now + this.#s.decryptPeriod);
    return Math.max(0, Math.min(timeout, Math.floor((end - now) / 1000)));
  }

  /**
   * Seals a session with the current key.
   *
   * @example
   * ```ts
   * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
   * import { SslSession } from "@seed/session-tickets";
   * let t = 0;
   * const ring = await FleetRing.start({ store: new MemoryKeyStore(), kek: new Uint8Array(32), now: () => t, rotationInterval: 1000, propagationDelay: 0, maxClockSkew: 0, background: false });
   * t = 1000;
   * console.log((await ring.seal(new SslSession({ cipherId: 0x1301, time: 1, timeout: 60 }))).length > 0); // true
   * ```
   *
   * @param session The session.
   * @returns The ticket.
   * @throws {NoSealingKeyError} When no fleet key seals in this process: not yet (a new fleet,
   * reason `"not-yet"`), its budget is spent (`"budget-spent"`), or every key held was erased
   * (`"retired"`, `"no-key"`). A server then sends no ticket; `status().notSealing` says why and
   * `metrics().sealsRefused` counts it.
   */
  seal(session: SslSession): Promise<Uint8Array> {
    return sealSession(session, (der) => this.sealBytes(der));
  }

  /**
   * Seals plaintext bytes with the current key.
   *
   * @example
   * ```ts
   * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
   * let t = 0;
   * const ring = await FleetRing.start({ store: new MemoryKeyStore(), kek: new Uint8Array(32), now: () => t, rotationInterval: 1000, propagationDelay: 0, maxClockSkew: 0, background: false });
   * t = 1000;
   * console.log((await ring.sealBytes(new Uint8Array([1]))).length); // 45
   * ```
   *
   * @param plaintext 1 to 65280 bytes.
   * @returns The ticket.
   * @throws {NoSealingKeyError} When no fleet key seals in this process (as {@link FleetRing.seal}).
   */
  sealBytes(plaintext: Uint8Array): Promise<Uint8Array> {
    this.#tick();
    const a = this.#set.active;
    if (a === null || a.key.exhausted) return Promise.reject(this.#noKey());
    try {
      return this.#set.sealWith(a, plaintext);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Opens a ticket to a session with any live key (`SUCCESS` for the active and pending keys,
   * `SUCCESS_RENEW` for decrypt-only keys, `NO_DECRYPT` otherwise).
   *
   * Never throws: any bytes resolve to a status; an argument that is not a `Uint8Array` (`null`,
   * a string) gives a rejected promise with a `TicketKeyError`, as `TicketKeyRing.open` does.
   *
   * @example
   * ```ts
   * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
   * const ring = await FleetRing.start({ store: new MemoryKeyStore(), kek: new Uint8Array(32), background: false });
   * console.log((await ring.open(new Uint8Array(64))).status); // 4 (NO_DECRYPT)
   * ```
   *
   * @param ticket The ticket.
   * @returns Status and session; rejects with `TicketKeyError` when `ticket` is not a
   * `Uint8Array`.
   */
  open(ticket: Uint8Array): Promise<TicketOpenResult> {
    const now = this.#tick();
    return this.#set.openSession(ticket, Math.floor(now / 1000));
  }

  /**
   * Opens a ticket to its plaintext bytes.
   *
   * Never throws: any bytes resolve to a status; an argument that is not a `Uint8Array` (`null`,
   * a string) gives a rejected promise with a `TicketKeyError`, as `TicketKeyRing.openBytes`
   * does.
   *
   * @example
   * ```ts
   * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
   * const ring = await FleetRing.start({ store: new MemoryKeyStore(), kek: new Uint8Array(32), background: false });
   * console.log((await ring.openBytes(new Uint8Array(0))).status); // 3 (EMPTY)
   * ```
   *
   * @param ticket The ticket.
   * @returns Status and plaintext; rejects with `TicketKeyError` when `ticket` is not a
   * `Uint8Array`.
   */
  openBytes(ticket: Uint8Array): Promise<OpenedTicketBytes> {
    this.#tick();
    return this.#set.openBytes(ticket);
  }

  /**
   * The schedule as this process sees it, and the store's reachability. No key material.
   * When nothing seals, `notSealing` says why and from when a key is due to seal.
   *
   * @example
   * ```ts
   * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
   * const ring = await FleetRing.start({ store: new MemoryKeyStore(), kek: new Uint8Array(32), now: () => 0, background: false });
   * const st = ring.status();
   * console.log(st.keys.map((k) => k.state)); // [ "pending", "pending" ]
   * console.log(st.notSealing?.reason, st.notSealing?.sealsFrom); // "not-yet" 70000
   * ```
   *
   * @returns The status.
   */
  status(): FleetStatus {
    const now = this.#tick();
    const active = this.#set.active?.key ?? null;
    let sealing: FleetStatus["sealing"] = null;
    const describe = (list: Held[]): FleetKeyStatus[] => {
      const out: FleetKeyStatus[] = [];
      for (const h of [...list].sort((a, b) => a.n - b.n)) {
        const state = h.entry.state;
        if (h.key === active && !active.exhausted) sealing = { interval: h.n, name: h.name };
        out.push({
          interval: h.n,
          name: h.name,
          state,
          createdAt: h.createdAt,
          activateAt: h.n * this.#s.rotationInterval,
          sealFrom: h.sealFrom,
          deactivateAt: sealUntil(h.n, this.#s.rotationInterval),
          eraseAt: Number.isFinite(h.eraseAt) ? h.eraseAt : null,
        });
      }
      return out;
    };
    const keys = describe([...this.#held.values()]);
    const superseded = describe(this.#superseded);
    const currentInterval = intervalAt(now, this.#s.rotationInterval);
    return {
      prefix: this.#prefix,
      now,
      currentInterval,
      sealing,
      onSchedule: sealing !== null &&
        (sealing as { interval: number }).interval === currentInterval,
      notSealing: this.#whyNotSealing(now),
      schedule: { ...this.#s },
      format: this.#format,
      aesBits: this.#aesBits,
      storeReachable: this.#reachable,
      lastError: this.#lastError,
      unreachableSince: this.#unreachableSince,
      lastSync: this.#lastSync,
      keys,
      superseded,
      clockSkew: this.#skew === null ? null : { ...this.#skew },
      badRecords: this.#badNow.map((b) => ({ record: b.record, problem: b.problem })),
    };
  }

  /**
   * The ring's per-key counters and the fleet's own (proposals, adoptions, erasures, outages).
   *
   * @example
   * ```ts
   * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
   * const ring = await FleetRing.start({ store: new MemoryKeyStore(), kek: new Uint8Array(32), background: false });
   * console.log(ring.metrics().proposalsWon); // 2
   * ```
   *
   * @returns The metrics, a plain object.
   */
  metrics(): FleetMetrics {
    this.#tick();
    return {
      ring: this.#set.metrics(0),
      storeReachable: this.#reachable,
      unreachableSince: this.#unreachableSince,
      lastError: this.#lastError,
      ...this.#m,
      sealsRefused: { ...this.#set.refused },
    };
  }

  /**
   * Writes the live keys in another product's layout, in the order that product expects:
   *
   * - raw layouts (`nginx-80`, `nginx-48`, `openssl-*`, `node-48`, `gcm`): one file per key,
   *   the sealing key first (nginx seals with its first `ssl_session_ticket_key`), then the
   *   pending keys (oldest first) so tickets sealed by the rest of the fleet after the next
   *   boundary still open, then the decrypt-only keys (newest first);
   * - `haproxy-80` / `haproxy-48`: one file of base64 lines, the decrypt-only keys (oldest
   *   first), the sealing key, then the next pending key last: HAProxy seals with the
   *   penultimate line and keeps the last as the staged next key. (HAProxy reads only its last
   *   three lines by default, `TLS_TICKETS_NO`.)
   *
   * The fleet's keys must have the layout's format: nginx and HAProxy need a fleet started with
   * `format: "openssl"` (`aesBits` 256 for the 80-byte layouts, 128 for the 48-byte ones).
   *
   * @example
   * ```ts
   * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
   * let t = 0;
   * const ring = await FleetRing.start({ store: new MemoryKeyStore(), kek: new Uint8Array(32), format: "openssl", now: () => t, rotationInterval: 1000, propagationDelay: 0, maxClockSkew: 0, background: false });
   * t = 500;
   * const out = await ring.exportKeys("haproxy-80");
   * console.log(out.keys.map((k) => k.state)); // [ "active", "pending" ]
   * ```
   *
   * @param layout The target layout.
   * @returns The files and the keys in them.
   * @throws {FleetConfigError} For a layout of another format.
   * @throws {TicketKeyError} When nothing seals yet.
   */
  async exportKeys(layout: TicketKeyLayout): Promise<FleetExport> {
    const spec = TICKET_KEY_LAYOUTS[parseTicketKeyLayout(layout)];
    if (spec.format !== this.#format || spec.aesBits !== this.#aesBits) {
      throw new FleetConfigError(
        `${layout} holds ${spec.format} keys with AES-${spec.aesBits}, and this fleet's keys are ` +
          `${this.#format}${this.#format === "openssl" ? ` AES-${this.#aesBits}` : ""}; ` +
          `run the fleet with format "${spec.format}"${
            spec.format === "openssl" ? ` and aesBits ${spec.aesBits}` : ""
          } to export ${layout}`,
      );
    }
    this.#tick();
    const active = this.#set.active?.key ?? null;
    const live = [...this.#held.values()].sort((a, b) => a.n - b.n)
      .map((h) => ({ h, state: h.entry.state }));
    const act = live.find((x) => x.h.key === active);
    if (act === undefined) {
      throw new TicketKeyError(
        "the fleet has no key sealing yet, so there is nothing for a server to seal with; retry later",
      );
    }
    const pending = live.filter((x) => x.state === "pending");
    const old = live.filter((x) => x.state === "decrypt-only");
    const order = spec.base64Lines
      ? [...old, act, ...pending.slice(0, 1)]
      : [act, ...pending, ...old.reverse()];
    const keys: TicketKey[] = [];
    for (const x of order) keys.push(await this.#extractable(x.h));
    const files = spec.base64Lines
      ? [await TicketKey.exportAll(keys, layout)]
      : await Promise.all(keys.map((k) => k.export(layout)));
    return {
      layout,
      files,
      keys: order.map((x) => ({ interval: x.h.n, name: x.h.name, state: x.state })),
    };
  }

  /**
   * Stops the background timer and the store watch (the store itself stays open: the caller
   * owns it). Held keys keep sealing and opening, and are still erased on time.
   *
   * @example
   * ```ts
   * import { FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
   * const ring = await FleetRing.start({ store: new MemoryKeyStore(), kek: new Uint8Array(32) });
   * await ring.stop();
   * console.log(ring.status().prefix); // "session-tickets/default"
   * ```
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#chain;
  }

  /** Prefix and key names only. */
  toJSON(): { prefix: string; keys: { interval: number; name: string; state: string }[] } {
    return {
      prefix: this.#prefix,
      keys: this.status().keys.map((k) => ({ interval: k.interval, name: k.name, state: k.state })),
    };
  }

  /** `Deno.inspect` shows {@link FleetRing.toJSON}. */
  [INSPECT](): string {
    return `FleetRing ${JSON.stringify(this.toJSON())}`;
  }

  /** The refusal of a seal when no key seals here, counted by reason. */
  #noKey(): NoSealingKeyError {
    const now = this.#tick();
    const why = this.#whyNotSealing(now) ?? {
      reason: "no-key" as const,
      message: `the fleet at ${this.#prefix} has no key that can seal`,
      sealsFrom: null,
    };
    this.#set.refused[why.reason]++;
    return new NoSealingKeyError(why.reason, why.message, why.sealsFrom);
  }

  /** Why no key seals in this process at `now`, or null when one does. */
  #whyNotSealing(now: number): FleetStatus["notSealing"] {
    const active = this.#set.active?.key ?? null;
    if (active !== null && !active.exhausted) return null;
    const where = `the fleet at ${this.#prefix}`;
    const after = active === null ? -Infinity : this.#intervalOf(active);
    let next: Held | null = null;
    for (const h of this.#held.values()) {
      if (h.n <= after || h.sealFrom === null || h.sealFrom <= now) continue;
      if (h.entry.state !== "pending") continue;
      if (next === null || h.sealFrom < next.sealFrom!) next = h;
    }
    const due = next === null
      ? ""
      : `key ${next.n} seals from ${clockTime(next.sealFrom!)}, in ${
        ((next.sealFrom! - now) / 1000).toFixed(1)
      } s`;
    const sealsFrom = next === null ? null : next.sealFrom;
    if (active !== null) {
      return {
        reason: "budget-spent",
        message: `${where}: key ${Number.isFinite(after) ? `${after} ` : ""}(${active.nameHex}) ` +
          `has sealed its budget of ` +
          `${active.sealBudget} tickets in this process and no later key seals yet` +
          `${due === "" ? "" : `; ${due}`}; no ticket is sent meanwhile`,
        sealsFrom,
      };
    }
    if (next !== null) {
      return {
        reason: "not-yet",
        message: `${where} has no key sealing yet: ${due} (a new key seals propagationDelay + ` +
          `maxClockSkew after it is published); no ticket is sent meanwhile`,
        sealsFrom,
      };
    }
    const unreachable = this.#reachable ? "" : " and its store is unreachable";
    if (this.#held.size === 0) {
      return {
        reason: this.#m.erased > 0 ? "retired" : "no-key",
        message: `${where} holds no live key${unreachable}; no ticket can be sealed`,
        sealsFrom: null,
      };
    }
    return {
      reason: "retired",
      message: `${where} holds only keys past their sealing time (decrypt-only)${unreachable}; ` +
        `no ticket can be sealed`,
      sealsFrom: null,
    };
  }

  /** The interval of a held key (-Infinity when not held). */
  #intervalOf(key: TicketKey): number {
    for (const h of this.#held.values()) if (h.key === key) return h.n;
    for (const h of this.#superseded) if (h.key === key) return h.n;
    return -Infinity;
  }

  async #extractable(h: Held): Promise<TicketKey> {
    const { payload } = await unwrapRecord(this.#kek, h.recordKey, h.wrapped);
    try {
      return await TicketKey.import(payload, this.#layout, { extractable: true });
    } finally {
      payload.fill(0);
    }
  }

  #arm(): void {
    if (this.#stopped || !this.#background || !this.#started) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    const now = this.#now();
    const I = this.#s.rotationInterval;
    let delay = this.#pollInterval;
    if (this.#reachable) {
      // The next key falls due for publication at (last + 1)·I − lead.
      const last = intervalAt(now + this.#s.publishLead, I);
      delay = Math.min(delay, (last + 1) * I - this.#s.publishLead - now + 1);
    }
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.sync();
    }, Math.max(5, delay));
  }

  #down(e: unknown): void {
    this.#lastError = message(e);
    this.#m.syncFailures++;
    if (e instanceof KeyStoreUnavailableError) {
      if (this.#reachable) this.#unreachableSince = this.#now();
      this.#reachable = false;
    }
  }

  #up(): void {
    if (!this.#reachable) this.#lastError = null;
    this.#reachable = true;
    this.#unreachableSince = null;
  }

  /** Whether this process may write to the store: not read-only, and its clock not in doubt. */
  #mayWrite(): boolean {
    return !this.#readOnly && this.#skew === null;
  }

  /** One round with the store. With `strict`, store errors reject instead of being reported. */
  async #syncOnce(strict: boolean): Promise<void> {
    this.#m.syncs++;
    try {
      const prefix = `${this.#prefix}/keys/`;
      let listAt = this.#now();
      let records = await this.#store.list(prefix);
      this.#up();
      // A round that reads the store starts with a clean slate: what is still wrong is reported
      // again below (a bad record still present, a failure later in this round).
      this.#lastError = null;
      const now = this.#now();
      await this.#reconcile(records, now, listAt);
      if (this.#mayWrite()) {
        let wrote = await this.#restoreAndRepair(now);
        const [first, last] = wantedIntervals(now, this.#s);
        const present = new Set<number>();
        for (const r of records) {
          const n = parseKeyRecordName(this.#prefix, r.key);
          if (n !== null) present.add(n);
        }
        for (let n = first; n <= last; n++) {
          // A held key whose record vanished was written back above, not replaced.
          if (present.has(n) || this.#held.has(n)) continue;
          if (sealFrom(n, now, this.#s) === null) continue; // too late to ever seal: skip it
          await this.#propose(n, now);
          wrote = true;
        }
        if (wrote) {
          listAt = this.#now();
          records = await this.#store.list(prefix);
          await this.#reconcile(records, this.#now(), listAt);
        }
      }
      for (const r of records) {
        const erase = this.#recordErase.get(r.key);
        if (erase === undefined || !this.#mayWrite()) continue;
        // Only past its erase time by more than the allowed skew, as every process computes it.
        if (this.#now() > erase + this.#s.maxClockSkew) {
          await this.#store.delete(r.key);
          this.#m.storeDeletes++;
        }
      }
      if (this.#skew !== null) this.#lastError ??= this.#skew.message;
      this.#lastSync = this.#now();
    } catch (e) {
      if (e instanceof TicketKeyError) this.#lastError = message(e);
      else this.#down(e);
      if (strict) throw e;
    } finally {
      this.#prune(this.#now());
      this.#arm();
    }
  }

  /** A new key for interval `n`, wrapped for the store, created now (this clock). */
  #wrapNew(n: number, recordKey: string): Promise<Uint8Array> {
    return newKeyRecord(this.#kek, recordKey, n, this.#now(), this.#id, this.#recordFormat);
  }

  /** Seconds a record of interval `n` lives in the store (past its erase time, with margin). */
  #ttl(n: number, now: number, erase = eraseAt(n, this.#s)): number {
    const end = Number.isFinite(erase)
      ? erase
      : Math.max(eraseAt(n, this.#s), now + this.#s.rotationInterval + this.#s.decryptPeriod);
    return Math.max(1, Math.ceil((end + this.#s.maxClockSkew - now) / 1000) + 60);
  }

  async #propose(n: number, now: number): Promise<boolean> {
    const recordKey = keyRecordName(this.#prefix, n);
    const value = await this.#wrapNew(n, recordKey);
    this.#m.proposals++;
    // A write whose answer was lost (a member died, a retry hit another member) may have
    // landed: remember it, and recognise it by its bytes when the record is read back.
    this.#uncertain.set(recordKey, value);
    const won = await this.#store.createIfAbsent(recordKey, value, {
      ttlSeconds: this.#ttl(n, now),
    });
    this.#uncertain.delete(recordKey);
    if (won) this.#m.proposalsWon++;
    else {
      const rec = await this.#store.get(recordKey).catch(() => null);
      if (rec !== null && sameBytes(rec.value, value)) {
        this.#m.proposalsWon++;
        return true;
      }
      this.#m.proposalsLost++;
    }
    return won;
  }

  /**
   * The store is the truth: writes back the records of held keys that vanished (the same bytes,
   * so every holder agrees on them), and replaces records that fail their checks, when the
   * fleet's check record opens under this KEK (then a failed record is corruption, not another
   * fleet's), by compare-and-swap on the version read: a held key's own bytes, else a new key.
   * Returns whether anything was written.
   */
  async #restoreAndRepair(now: number): Promise<boolean> {
    let wrote = false;
    const vanished = [...this.#held.values()].filter((h) => h.vanished && h.eraseAt > now);
    if (vanished.length > 0 || this.#badNow.length > 0) {
      if (!(await this.#checkRecordMatches())) {
        this.#lastError = `${
          this.#lastError ?? "key records are missing or bad"
        }; not repaired: the fleet's check record ${this.#prefix}/kek-check does not open under this key-encryption key`;
        return false;
      }
    }
    for (const h of vanished) {
      const won = await this.#store.createIfAbsent(h.recordKey, h.wrapped, {
        ttlSeconds: this.#ttl(h.n, now, h.eraseAt),
      });
      if (won) this.#m.recordsRestored++;
      wrote = true;
    }
    for (const b of this.#badNow) {
      const h = this.#held.get(b.n);
      let value: Uint8Array;
      if (h !== undefined) value = h.wrapped;
      else if (repairsWithNewKey(b.n, now, this.#s)) value = await this.#wrapNew(b.n, b.record);
      else continue; // a past slot, or too late to seal (see repairsWithNewKey)
      if (
        await this.#store.replaceIf(b.record, b.version, value, { ttlSeconds: this.#ttl(b.n, now) })
      ) {
        if (h !== undefined) this.#m.recordsRestored++;
        else this.#m.recordsRepaired++;
      }
      wrote = true;
    }
    return wrote;
  }

  /** Whether the fleet's check record opens under this KEK; recreates it if it vanished. */
  async #checkRecordMatches(): Promise<boolean> {
    const checkKey = `${this.#prefix}/kek-check`;
    try {
      if ((await readCheck(this.#store, checkKey, this.#kek)) !== null) return true;
    } catch (e) {
      if (e instanceof FleetConfigError) return false;
      throw e;
    }
    const value = await wrapRecord(this.#kek, checkKey, enc.encode(CHECK_PAYLOAD), this.#config);
    if (await this.#store.createIfAbsent(checkKey, value)) return true;
    try {
      return (await readCheck(this.#store, checkKey, this.#kek)) !== null;
    } catch (e) {
      if (e instanceof FleetConfigError) return false;
      throw e;
    }
  }

  /**
   * Compares a list of the store's key records with the keys held: notes held records that
   * vanished or changed, opens new and changed records (a record that fails its checks is
   * reported by name and never used), judges this clock against the records' creation times,
   * adopts the live keys, and computes every key's erase time. The decisions are in
   * `_reconcile.ts`; this applies them.
   */
  async #reconcile(records: StoredRecord[], now: number, listAt: number): Promise<void> {
    // Keys past their erase time first: their records may rightly be gone.
    this.#prune(now);
    const { byN, ids } = indexRecords(this.#prefix, records);
    // What is remembered about records is kept only while they are in the store.
    for (const id of this.#expired) if (!ids.has(id)) this.#expired.delete(id);
    for (const id of this.#bad.keys()) if (!ids.has(id)) this.#bad.delete(id);
    for (const key of this.#recordErase.keys()) {
      if (!byN.has(parseKeyRecordName(this.#prefix, key) ?? NaN)) this.#recordErase.delete(key);
    }
    const survey = surveyRecords(byN, this.#held, this.#bad, this.#expired);
    this.#badNow = [];
    for (const h of survey.missing) {
      if (!h.vanished) this.#m.recordsVanished++;
      h.vanished = true;
      this.#lastError ??= `store record ${h.recordKey} (key ${h.name}, held here) vanished`;
    }
    for (const h of survey.present) h.vanished = false;
    for (const b of survey.stillBad) {
      this.#badNow.push(b);
      this.#lastError ??= b.problem; // still in the store: still reported
    }
    const valid: ValidRecord[] = [];
    for (const { n, r } of survey.candidates) {
      const mine = this.#uncertain.get(r.key);
      if (mine !== undefined) {
        this.#uncertain.delete(r.key);
        if (sameBytes(mine, r.value)) this.#m.proposalsWon++;
        else this.#m.proposalsLost++;
      }
      try {
        const opened = await openKeyRecord(
          this.#kek,
          r.key,
          r.value,
          n,
          this.#recordFormat,
          this.#sealBudget,
        );
        valid.push({ n, r, ...opened });
      } catch (e) {
        this.#bad.set(`${r.key}@${r.version}`, message(e));
        this.#badNow.push({ record: r.key, problem: message(e), n, version: r.version });
        this.#m.badRecords++;
        this.#lastError = message(e);
      }
    }
    // The clock, judged from the other processes' records.
    const held = this.#held.values();
    const times = clockEvidence(held, valid, this.#id, this.#prevListAt, this.#seenNames);
    const storeTime = this.#store.time?.() ?? null;
    this.#skew = clockVerdict(
      this.#skew,
      now,
      this.#prevListAt,
      times,
      this.#s,
      storeTime,
      this.#pollInterval,
    );
    const names = [...this.#held.values(), ...this.#superseded].map((h) => h.name);
    for (const v of valid) names.push(v.key.nameHex);
    this.#seenNames = rememberNames(this.#seenNames, names, now, this.#s);
    this.#prevListAt = listAt;
    // Adopt, oldest first, with erase times from the successors known.
    for (
      const { v, sealFrom: from, eraseAt: erase } of adoptionPlan(
        valid,
        this.#held.values(),
        this.#s,
      )
    ) {
      if (erase <= now) {
        this.#expired.add(`${v.r.key}@${v.r.version}`);
        this.#recordErase.set(v.r.key, erase);
        continue;
      }
      const old = this.#held.get(v.n);
      if (old !== undefined) this.#supersede(old, from, this.#now());
      const h = {
        n: v.n,
        key: v.key,
        name: v.key.nameHex,
        createdAt: v.createdAt,
        by: v.by,
        sealFrom: from,
        eraseAt: erase,
        recordKey: v.r.key,
        wrapped: v.r.value.slice(),
        vanished: false,
        superseded: false,
      } as Held;
      h.entry = this.#set.add(v.key, "pending", h);
      this.#held.set(v.n, h);
      this.#nextChange = -Infinity;
      this.#m.adopted++;
    }
    this.#updateEraseTimes();
    for (const h of this.#held.values()) this.#recordErase.set(h.recordKey, h.eraseAt);
    for (const b of this.#badNow) {
      if (!this.#held.has(b.n)) this.#recordErase.set(b.record, eraseAt(b.n, this.#s));
    }
  }

  /** Recomputes each held key's erase time from its successor's actual start (one rule). */
  #updateEraseTimes(): void {
    const held = [...this.#held.values()];
    eraseTimes(held, this.#s).forEach((erase, i) => {
      if (erase !== held[i].eraseAt) {
        held[i].eraseAt = erase;
        this.#nextChange = -Infinity;
      }
    });
  }

  /**
   * The record of a held key changed to another valid key: the new key takes the interval, and
   * the old one opens its tickets until `supersededEraseAt` (`_reconcile.ts`).
   */
  #supersede(old: Held, newFrom: number | null, now: number): void {
    this.#held.delete(old.n);
    const erase = supersededEraseAt(old.eraseAt, newFrom, now, this.#s, this.#pollInterval);
    old.eraseAt = erase;
    old.superseded = true;
    this.#nextChange = -Infinity;
    this.#superseded.push(old);
    this.#m.recordsChanged++;
    this.#lastError = `store record ${old.recordKey} changed: key ${old.name} held here was ` +
      `replaced in the store; it opens its tickets until ${clockTime(erase)}`;
  }

  /** Applies the fleet's state rule (`fleetKeyStates`) now if a state is due to change. */
  #tick(): number {
    const now = this.#now();
    if (now >= this.#nextChange) this.#prune(now);
    return now;
  }

  /**
   * Sets every key's state in the key set by the fleet's state rule at `now`, and forgets keys
   * past their erase time (wiping their wrapped bytes).
   */
  #prune(now: number): void {
    const all = [...this.#held.values(), ...this.#superseded];
    const { states, nextChange } = fleetKeyStates(all, now);
    all.forEach((h, i) => {
      const state = states[i];
      if (state === "erased") {
        if (this.#held.get(h.n) === h) this.#held.delete(h.n);
        else this.#superseded.splice(this.#superseded.indexOf(h), 1);
        this.#set.remove(h.entry);
        h.wrapped.fill(0);
        this.#m.erased++;
      } else if (state === "active") this.#set.activate(h.entry);
    });
    all.forEach((h, i) => {
      const state = states[i];
      if ((state === "pending" || state === "decrypt-only") && h.entry.state !== state) {
        this.#set.demote(h.entry, state);
      }
    });
    this.#nextChange = nextChange;
  }
}
