/**
 * `TicketKeyRing`: several ticket keys with states and time-driven rotation.
 *
 * States: `pending` keys open tickets but never seal (a fleet learns a key before any server
 * seals with it); the one `active` key seals and opens; `decrypt-only` keys open, and their
 * tickets report `SUCCESS_RENEW` so the server issues a fresh one; a retired key is forgotten, so
 * its tickets open as `NO_DECRYPT`.
 *
 * @module
 */

import { NoSealingKeyError, type NoSealingKeyReason, TicketKeyError } from "./errors.ts";
import type { SslSession } from "../session/ssl_session.ts";
import type { TicketByteSealer, TicketOpenResult, TicketSealer } from "./sealer.ts";
import type { OpenedTicketBytes, TicketFormat } from "./ticket_format.ts";
import { type GenerateTicketKeyOptions, TicketKey } from "./ticket_key.ts";
import { typeOf } from "./_open.ts";
import { type KeySetEntry, sealSession, TicketKeySet } from "./key_set.ts";

/** The state of a key in a {@link TicketKeyRing}. */
export type TicketKeyState = "pending" | "active" | "decrypt-only";

/** Default {@link TicketKeyRingOptions.rotationInterval}: 12 hours (HAProxy's advice). */
export const DEFAULT_ROTATION_INTERVAL_MS = 12 * 3600 * 1000;
/** Default {@link TicketKeyRingOptions.decryptOnlyPeriod}: 24 hours. */
export const DEFAULT_DECRYPT_ONLY_PERIOD_MS = 24 * 3600 * 1000;

/** Options for a {@link TicketKeyRing}. */
export interface TicketKeyRingOptions {
  /** The clock, in milliseconds (default `Date.now`). */
  now?: () => number;
  /**
   * How long (ms) the active key seals before the next pending key takes over. Default 12 h;
   * `Infinity` rotates only on {@link TicketKeyRing.rotate}, a scheduled `activateAt`, or a
   * spent seal budget.
   */
  rotationInterval?: number;
  /** How long (ms) a key keeps opening tickets after it stopped sealing. Default 24 h. */
  decryptOnlyPeriod?: number;
  /**
   * When set, the ring generates its own keys with these options: the first active key and,
   * after every rotation, the next pending key (in the background). Default: off for
   * `new TicketKeyRing()`, `{}` (AES-256-GCM) for {@link TicketKeyRing.create}.
   */
  generate?: GenerateTicketKeyOptions | false;
}

/** Options for {@link TicketKeyRing.add}. */
export interface AddTicketKeyOptions {
  /** Initial state; default `active` when the ring has no active key, else `pending`. */
  state?: TicketKeyState;
  /** For a pending key: the clock time (ms) at which it becomes the active key. */
  activateAt?: number;
  /** A clock time (ms) at which the key is retired whatever its state. */
  retireAt?: number;
}

/** One key of a ring, as {@link TicketKeyRing.keys} reports it. */
export interface TicketKeyInfo {
  /** The key. */
  key: TicketKey;
  /** Key name, hex. */
  name: string;
  /** Current state. */
  state: TicketKeyState;
  /** Scheduled activation time (pending keys), or null. */
  activateAt: number | null;
  /** When it became active, or null if it never was. */
  activatedAt: number | null;
  /** When it will be retired, or null if not scheduled. */
  retireAt: number | null;
}

/** Counters of one key in a ring. */
export interface TicketKeyMetrics {
  /** Key name, hex. */
  name: string;
  /** Ticket format. */
  format: TicketFormat;
  /** Cipher description. */
  cipher: string;
  /** Current state. */
  state: TicketKeyState;
  /** Tickets this ring sealed with the key. */
  sealed: number;
  /** The key's own seal count (all users of the key) and budget. */
  sealCount: number;
  /** The key's seal budget. */
  sealBudget: number;
  /** Tickets opened (SUCCESS or SUCCESS_RENEW at the byte level). */
  opened: number;
  /** Of those, opened as SUCCESS_RENEW (the key was decrypt-only). */
  renewed: number;
  /** Tickets naming this key that failed, by reason. */
  failures: { tooShort: number; badMac: number; badPadding: number; badSession: number };
}

/** Counters of a ring, a plain object ready for JSON or a metrics exporter. */
export interface TicketKeyRingMetrics {
  /** Per-key counters of the keys currently held. */
  keys: TicketKeyMetrics[];
  /** Empty tickets seen (`EMPTY`). */
  empty: number;
  /** Tickets under 32 bytes (no key looked up). */
  tooShort: number;
  /** Tickets over 65535 bytes (refused before any cryptography). */
  tooLong: number;
  /** Tickets whose key name is not in the ring. */
  unknownKey: number;
  /** Keys made active. */
  rotations: number;
  /** Keys retired (forgotten). */
  retired: number;
  /** Background key generations that failed. */
  generationErrors: number;
  /**
   * Seals refused for lack of a key that can seal (`NoSealingKeyError`; a server sends no
   * ticket), by reason.
   */
  sealsRefused: Record<NoSealingKeyReason, number>;
}

/** The interval policy's data for one key of the set. */
interface RingMeta {
  activateAt: number | null;
  activatedAt: number | null;
  explicitRetireAt: number;
  retireAt: number;
}

type Entry = KeySetEntry<RingMeta>;

const INSPECT = Symbol.for("Deno.customInspect");

function checkTime(what: string, v: number | undefined): void {
  if (v !== undefined && (typeof v !== "number" || Number.isNaN(v))) {
    throw new TicketKeyError(`${what} must be a clock time in milliseconds, got ${String(v)}`);
  }
}

/** A clock time for a message: ISO 8601 when it is a date, else milliseconds. */
function clockTime(ms: number): string {
  return Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ms} ms`;
}

function checkPeriod(what: string, v: number | undefined, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !(v >= min)) {
    throw new TicketKeyError(
      `${what} must be a number of milliseconds >= ${min} (or Infinity), got ${String(v)}`,
    );
  }
  return v;
}

/**
 * A set of ticket keys with explicit states and rotation; a {@link TicketSealer}.
 *
 * - Exactly one `active` key seals. Tickets open through an O(1) lookup of their 16-byte key
 *   name, in whatever format that key has (rings may mix `aes-256-gcm` and `openssl` keys).
 * - Opening with the active or a pending key gives `SUCCESS`; with a `decrypt-only` key,
 *   `SUCCESS_RENEW` (nginx and HAProxy renew tickets of non-current keys the same way).
 * - Rotation is driven by the injectable clock, checked lazily on each call: the active key seals
 *   for `rotationInterval`, then the oldest pending key without a schedule takes over (a pending
 *   key with `activateAt` takes over at that time); the old key stays `decrypt-only` for
 *   `decryptOnlyPeriod`, then is retired. A spent seal budget also hands over to the next key.
 *   {@link TicketKeyRing.rotate} rotates at once.
 * - With no key that can seal (none active yet, every key retired, or a spent budget and no
 *   pending key to take over), sealing rejects with a `NoSealingKeyError` saying why: a server
 *   then sends no ticket and the handshake completes. `metrics().sealsRefused` counts them.
 * - With `generate` set, the ring makes its own keys, keeping one pending key in reserve.
 *
 * @example
 * ```ts
 * import { TicketKey, TicketKeyRing, TicketStatus } from "@seed/session-tickets";
 * let now = 0;
 * const ring = new TicketKeyRing({ now: () => now, rotationInterval: 1000, decryptOnlyPeriod: 5000 });
 * ring.add(await TicketKey.generate());                        // active
 * ring.add(await TicketKey.generate(), { state: "pending" });  // next
 * const ticket = await ring.sealBytes(new Uint8Array([1, 2, 3]));
 * now = 1000; // the pending key takes over
 * console.log((await ring.openBytes(ticket)).status === TicketStatus.SUCCESS_RENEW); // true
 * now = 6000; // the first key is retired
 * console.log((await ring.openBytes(ticket)).status === TicketStatus.NO_DECRYPT); // true
 * ```
 */
export class TicketKeyRing implements TicketSealer, TicketByteSealer {
  readonly #now: () => number;
  readonly #rotationInterval: number;
  readonly #decryptOnlyPeriod: number;
  readonly #generate: GenerateTicketKeyOptions | null;
  /** The keys, states and counters; this class is the interval policy over them. */
  readonly #set = new TicketKeySet<RingMeta>();
  #nextCheck = -Infinity;
  #generating: Promise<void> | null = null;
  #retryGenerationAt = -Infinity;
  #generationErrors = 0;

  /**
   * Creates a ring. Without `generate` it starts empty: {@link TicketKeyRing.add} keys.
   *
   * @example
   * ```ts
   * import { TicketKey, TicketKeyRing } from "@seed/session-tickets";
   * const ring = new TicketKeyRing({ rotationInterval: Infinity });
   * ring.add(await TicketKey.generate());
   * console.log(ring.activeKey !== null); // true
   * ```
   *
   * @param options Clock, intervals and key generation.
   * @throws {TicketKeyError} For a negative or non-numeric interval.
   */
  constructor(options: TicketKeyRingOptions = {}) {
    const now = options.now ?? Date.now;
    if (typeof now !== "function") {
      throw new TicketKeyError("now must be a function returning milliseconds");
    }
    this.#now = now;
    this.#rotationInterval = checkPeriod(
      "rotationInterval",
      options.rotationInterval,
      DEFAULT_ROTATION_INTERVAL_MS,
      1,
    );
    this.#decryptOnlyPeriod = checkPeriod(
      "decryptOnlyPeriod",
      options.decryptOnlyPeriod,
      DEFAULT_DECRYPT_ONLY_PERIOD_MS,
      0,
    );
    this.#generate = options.generate ? { ...options.generate } : null;
    if (this.#generate !== null) this.#advance(this.#now());
  }

  /**
   * Creates a self-managing ring: generates its active key and one pending key (AES-256-GCM
   * unless `options.generate` says otherwise) and resolves when both exist.
   *
   * @example
   * ```ts
   * import { SslSession, TicketKeyRing } from "@seed/session-tickets";
   * const ring = await TicketKeyRing.create();
   * const ticket = await ring.seal(new SslSession({ cipherId: 0x1301, time: 1, timeout: 7200 }));
   * console.log((await ring.open(ticket)).status); // 5
   * ```
   *
   * @param options Clock, intervals and key generation options.
   * @returns The ring, with an active and a pending key.
   */
  static async create(options: TicketKeyRingOptions = {}): Promise<TicketKeyRing> {
    const ring = new TicketKeyRing({ ...options, generate: options.generate || {} });
    await ring.ready();
    return ring;
  }

  /**
   * Applies due rotations, then resolves when no background key generation is in flight.
   *
   * @example
   * ```ts
   * import { TicketKeyRing } from "@seed/session-tickets";
   * const ring = new TicketKeyRing({ generate: {} });
   * await ring.ready();
   * console.log(ring.activeKey !== null); // true
   * ```
   */
  async ready(): Promise<void> {
    this.#tick();
    while (this.#generating !== null) await this.#generating;
  }

  /** Number of keys held (pending, active and decrypt-only). */
  get size(): number {
    return this.#set.size;
  }

  /** The key that seals now, or null (after applying due rotations). */
  get activeKey(): TicketKey | null {
    this.#tick();
    const a = this.#set.active;
    return a === null ? null : a.key;
  }

  /**
   * Adds a key. A key whose name is already in the ring is refused. Adding an `active` key
   * makes the previous active key `decrypt-only`.
   *
   * @example
   * ```ts
   * import { TicketKey, TicketKeyRing } from "@seed/session-tickets";
   * let now = 0;
   * const ring = new TicketKeyRing({ now: () => now });
   * ring.add(await TicketKey.generate());
   * const next = await TicketKey.generate();
   * ring.add(next, { state: "pending", activateAt: 60_000 });
   * now = 60_000;
   * console.log(ring.activeKey === next); // true
   * ```
   *
   * @param key The key.
   * @param options State and schedule.
   * @throws {TicketKeyError} For a duplicate key name or a bad state or time.
   */
  add(key: TicketKey, options: AddTicketKeyOptions = {}): void {
    if (!(key instanceof TicketKey)) throw new TicketKeyError("add() takes a TicketKey");
    const state = options.state ?? (this.#set.active === null ? "active" : "pending");
    if (state !== "pending" && state !== "active" && state !== "decrypt-only") {
      throw new TicketKeyError(
        `unknown key state "${String(state)}"; states: pending, active, decrypt-only`,
      );
    }
    checkTime("activateAt", options.activateAt);
    checkTime("retireAt", options.retireAt);
    const now = this.#now();
    const explicitRetireAt = options.retireAt ?? Infinity;
    const e = this.#set.add(key, "pending", {
      activateAt: state === "pending" ? options.activateAt ?? null : null,
      activatedAt: null,
      explicitRetireAt,
      retireAt: explicitRetireAt,
    });
    if (state === "active") this.#promote(e, now);
    else if (state === "decrypt-only") {
      this.#set.demote(e, "decrypt-only");
      e.meta.retireAt = Math.min(explicitRetireAt, now + this.#decryptOnlyPeriod);
    }
    this.#advance(now);
  }

  /**
   * Makes another key active now: `next` if given (added if absent), else the next pending key,
   * else (with `generate`) a newly generated one. The previous active key becomes
   * `decrypt-only` for `decryptOnlyPeriod`.
   *
   * @example
   * ```ts
   * import { TicketKeyRing } from "@seed/session-tickets";
   * const ring = await TicketKeyRing.create();
   * const before = ring.activeKey;
   * const after = await ring.rotate();
   * console.log(before !== after, ring.activeKey === after); // true true
   * ```
   *
   * @param next The key to activate.
   * @returns The new active key.
   * @throws {TicketKeyError} When there is no key to rotate to, or `next` clashes with a
   * different key of the same name.
   */
  async rotate(next?: TicketKey): Promise<TicketKey> {
    this.#tick();
    let e: Entry | undefined;
    if (next !== undefined) {
      if (!(next instanceof TicketKey)) throw new TicketKeyError("rotate() takes a TicketKey");
      e = this.#set.find(next.name);
      if (e !== undefined && e.key !== next) {
        throw new TicketKeyError(`another ticket key named ${next.nameHex} is already in the ring`);
      }
      if (e === undefined) {
        this.add(next, { state: "pending" });
        e = this.#set.find(next);
      }
    } else {
      e = this.#nextPending(true);
      if (e === undefined && this.#generate !== null) {
        await this.ready();
        this.#tick();
        e = this.#nextPending(true);
        if (e === undefined) {
          const k = await TicketKey.generate(this.#generate);
          this.add(k, { state: "pending" });
          e = this.#set.find(k);
        }
      }
    }
    if (e === undefined) {
      throw new TicketKeyError(
        'no pending ticket key to rotate to: add one with add(key, { state: "pending" }) or pass it to rotate()',
      );
    }
    if (e.state !== "active") this.#promote(e, this.#now());
    this.#advance(this.#now());
    return e.key;
  }

  /**
   * Retires a key now: it is forgotten and its tickets open as `NO_DECRYPT`.
   *
   * @example
   * ```ts
   * import { TicketKeyRing } from "@seed/session-tickets";
   * const ring = await TicketKeyRing.create({ generate: { format: "openssl" } });
   * const key = ring.activeKey!;
   * console.log(ring.retire(key), ring.activeKey); // true null
   * ```
   *
   * @param key The key, or its 16-byte name.
   * @returns Whether the ring held it.
   */
  retire(key: TicketKey | Uint8Array): boolean {
    const e = this.#set.find(key);
    if (e === undefined) return false;
    this.#set.remove(e);
    this.#advance(this.#now());
    return true;
  }

  /**
   * The state of a key, or null when the ring does not hold it.
   *
   * @example
   * ```ts
   * import { TicketKeyRing } from "@seed/session-tickets";
   * const ring = await TicketKeyRing.create();
   * console.log(ring.stateOf(ring.activeKey!)); // "active"
   * ```
   *
   * @param key The key, or its 16-byte name.
   * @returns The state, or null.
   */
  stateOf(key: TicketKey | Uint8Array): TicketKeyState | null {
    this.#tick();
    const e = this.#set.find(key);
    if (e === undefined) return null;
    return e.state;
  }

  /**
   * The keys held, in the order they were added.
   *
   * @example
   * ```ts
   * import { TicketKeyRing } from "@seed/session-tickets";
   * const ring = await TicketKeyRing.create();
   * console.log(ring.keys().map((k) => k.state)); // [ "active", "pending" ]
   * ```
   *
   * @returns One snapshot per key.
   */
  keys(): TicketKeyInfo[] {
    this.#tick();
    return [...this.#set.entries()].map((e) => ({
      key: e.key,
      name: e.key.nameHex,
      state: e.state,
      activateAt: e.meta.activateAt,
      activatedAt: e.meta.activatedAt,
      retireAt: e.meta.retireAt === Infinity ? null : e.meta.retireAt,
    }));
  }

  /**
   * The ticket lifetime hint (seconds) to advertise: `sessionTimeout`, but never longer than
   * the active key will still open tickets (its remaining sealing time plus
   * `decryptOnlyPeriod`, or its `retireAt`). 0 when there is no active key.
   *
   * @example
   * ```ts
   * import { TicketKeyRing } from "@seed/session-tickets";
   * let t = 0;
   * const ring = await TicketKeyRing.create({ now: () => t, rotationInterval: 600_000, decryptOnlyPeriod: 600_000 });
   * console.log(ring.lifetimeHint(7200)); // 1200
   * t = 300_000;
   * console.log(ring.lifetimeHint(7200)); // 900
   * ```
   *
   * @param sessionTimeout The session timeout in seconds.
   * @returns The hint in whole seconds.
   */
  lifetimeHint(sessionTimeout: number): number {
    const now = this.#now();
    if (now >= this.#nextCheck) this.#advance(now);
    const timeout = typeof sessionTimeout === "number" && sessionTimeout > 0
      ? Math.floor(sessionTimeout)
      : 0;
    const e = this.#set.active;
    if (e === null) return 0;
    let sealEnd = Infinity;
    if (this.#rotationInterval !== Infinity) {
      sealEnd = Math.max(now, (e.meta.activatedAt ?? now) + this.#rotationInterval);
    }
    for (const p of this.#set.entries()) {
      if (
        p.state === "pending" && p.meta.activateAt !== null && p.meta.activateAt > now &&
        p.meta.activateAt < sealEnd
      ) {
        sealEnd = p.meta.activateAt;
      }
    }
    const end = Math.min(sealEnd + this.#decryptOnlyPeriod, e.meta.retireAt);
    if (end === Infinity) return timeout;
    const remaining = Math.floor((end - now) / 1000);
    return Math.max(0, Math.min(timeout, remaining));
  }

  /**
   * Seals plaintext bytes with the active key.
   *
   * @example
   * ```ts
   * import { TicketKeyRing } from "@seed/session-tickets";
   * const ring = await TicketKeyRing.create();
   * console.log((await ring.sealBytes(new Uint8Array(100))).length); // 144
   * ```
   *
   * @param plaintext 1 to 65280 bytes.
   * @returns The ticket.
   * @throws {NoSealingKeyError} When no key can seal: none is active (reason `"not-yet"` when a
   * pending key waits for its time, `"retired"` when the keys held no longer seal, `"no-key"`
   * when the ring never held one), or the active key's budget is spent and no pending key can
   * take over (`"budget-spent"`).
   * @throws {TicketKeyError} As `TicketKey.sealBytes` for a bad plaintext.
   */
  sealBytes(plaintext: Uint8Array): Promise<Uint8Array> {
    const now = this.#now();
    if (now >= this.#nextCheck) this.#advance(now);
    const e = this.#set.active;
    if (e === null || e.key.exhausted) return this.#sealSlow(plaintext);
    try {
      return this.#set.sealWith(e, plaintext);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Opens a ticket to its plaintext: `tls_decrypt_ticket`'s early checks, an O(1) key-name
   * lookup, then the key's format.
   *
   * Never throws: any bytes resolve to a status; an argument that is not a `Uint8Array` (`null`,
   * a string) gives a rejected promise with a `TicketKeyError`, as `TicketKey.openBytes` does.
   *
   * @example
   * ```ts
   * import { TicketKeyRing } from "@seed/session-tickets";
   * const ring = await TicketKeyRing.create();
   * const r = await ring.openBytes(new Uint8Array(64));
   * console.log(r.status, r.failure); // 4 "unknownKey"
   * ```
   *
   * @param ticket The ticket bytes.
   * @returns Status, plaintext (on success), keyName view and failure reason; rejects with
   * `TicketKeyError` when `ticket` is not a `Uint8Array`.
   */
  openBytes(ticket: Uint8Array): Promise<OpenedTicketBytes> {
    this.#tick();
    return this.#set.openBytes(ticket);
  }

  /**
   * Seals a session (`encodeSession`, then {@link TicketKeyRing.sealBytes}). The encoding (with
   * the master key) is wiped as soon as Web Crypto has taken its copy.
   *
   * @example
   * ```ts
   * import { SslSession, TicketKeyRing } from "@seed/session-tickets";
   * const ring = await TicketKeyRing.create();
   * const t = await ring.seal(new SslSession({ cipherId: 0xc030, time: 1, timeout: 7200 }));
   * console.log(t instanceof Uint8Array); // true
   * ```
   *
   * @param session The session.
   * @returns The ticket.
   * @throws {TicketKeyError} As {@link TicketKeyRing.sealBytes}, or when `session` is not an
   * `SslSession`; `DerError` for a session OpenSSL could not encode (as a rejected promise).
   */
  seal(session: SslSession): Promise<Uint8Array> {
    return sealSession(session, (der) => this.sealBytes(der));
  }

  /**
   * Opens a ticket to a session: {@link TicketKeyRing.openBytes}, then `decodeSession`
   * (a plaintext libssl would reject is `NO_DECRYPT`). A missing session time is taken from the
   * ring's clock.
   *
   * Never throws: any bytes resolve to a status; an argument that is not a `Uint8Array` (`null`,
   * a string) gives a rejected promise with a `TicketKeyError`, as `TicketKey.open` does.
   *
   * @example
   * ```ts
   * import { SslSession, TicketKeyError, TicketKeyRing } from "@seed/session-tickets";
   * const ring = await TicketKeyRing.create();
   * const t = await ring.seal(new SslSession({ cipherId: 0xc030, time: 1, timeout: 7200 }));
   * console.log((await ring.open(t)).session?.timeout); // 7200
   * const refused = await ring.open(null as unknown as Uint8Array).catch((e) => e);
   * console.log(refused instanceof TicketKeyError); // true
   * ```
   *
   * @param ticket The ticket bytes.
   * @returns Status, session (on success) and keyName view; rejects with `TicketKeyError` when
   * `ticket` is not a `Uint8Array`.
   */
  open(ticket: Uint8Array): Promise<TicketOpenResult> {
    this.#tick();
    return this.#set.openSession(ticket, Math.floor(this.#now() / 1000));
  }

  /**
   * Counters per key and for the ring, as a plain object.
   *
   * @example
   * ```ts
   * import { TicketKeyRing } from "@seed/session-tickets";
   * const ring = await TicketKeyRing.create();
   * console.log(JSON.stringify(ring.metrics()).includes("\"unknownKey\":0")); // true
   * ```
   *
   * @returns The metrics.
   */
  metrics(): TicketKeyRingMetrics {
    this.#tick();
    return this.#set.metrics(this.#generationErrors);
  }

  /** Key names and states only. */
  toJSON(): { keys: { name: string; state: TicketKeyState; cipher: string }[] } {
    return this.#set.toJSON();
  }

  /** `Deno.inspect` shows {@link TicketKeyRing.toJSON}. */
  [INSPECT](): string {
    return `TicketKeyRing ${JSON.stringify(this.toJSON())}`;
  }

  /** Seals when the fast path cannot: no active key, or its budget is spent. */
  async #sealSlow(transient: Uint8Array): Promise<Uint8Array> {
    if (!(transient instanceof Uint8Array)) {
      throw new TicketKeyError(`a ticket plaintext is a Uint8Array, got ${typeOf(transient)}`);
    }
    // The plaintext may be a transient view (encodeSessionTransient, wiped when this returns):
    // copy it before awaiting, and wipe the copy once sealed.
    const plaintext = transient.slice();
    try {
      this.#advance(this.#now());
      let e = this.#set.active;
      if ((e === null || e.key.exhausted) && this.#generating !== null) {
        await this.ready();
        this.#advance(this.#now());
        e = this.#set.active;
      }
      if (e === null) throw this.#noActiveKey();
      if (e.key.exhausted) {
        const from = this.#nextActivation();
        throw new NoSealingKeyError(
          "budget-spent",
          `the ticket key ring's active key ${e.key.nameHex} has sealed its budget of ${e.key.sealBudget} tickets ` +
            `and no pending key can take over${
              from === null ? "" : ` before ${clockTime(from)}`
            }: add one or call rotate()`,
          from,
        );
      }
      return await this.#set.sealWith(e, plaintext);
    } catch (err) {
      if (err instanceof NoSealingKeyError) this.#set.refused[err.reason]++;
      throw err;
    } finally {
      plaintext.fill(0);
    }
  }

  /** Why there is no active key (the ring holds pending keys, old keys, or none). */
  #noActiveKey(): NoSealingKeyError {
    const base = "the ticket key ring has no active key";
    let pending = false;
    for (const e of this.#set.entries()) if (e.state === "pending") pending = true;
    if (pending) {
      const from = this.#nextActivation();
      return new NoSealingKeyError(
        "not-yet",
        from === null
          ? `${base}: its pending keys have no activation time; call rotate()`
          : `${base} yet: its next key seals from ${clockTime(from)}`,
        from,
      );
    }
    if (this.#set.size > 0 || this.#set.removed > 0) {
      return new NoSealingKeyError(
        "retired",
        `${base}: the keys it held stopped sealing (decrypt-only or retired); add one or call rotate()`,
      );
    }
    return new NoSealingKeyError("no-key", `${base}: add one or call rotate()`);
  }

  /** The earliest scheduled activation of a pending key, or null. */
  #nextActivation(): number | null {
    let from = Infinity;
    for (const e of this.#set.entries()) {
      if (e.state === "pending" && e.meta.activateAt !== null && e.meta.activateAt < from) {
        from = e.meta.activateAt;
      }
    }
    return Number.isFinite(from) ? from : null;
  }

  #tick(): void {
    const now = this.#now();
    if (now >= this.#nextCheck) this.#advance(now);
  }

  /** The oldest pending key without a schedule (or, if `any`, with the earliest schedule). */
  #nextPending(any: boolean): Entry | undefined {
    let best: Entry | undefined;
    for (const e of this.#set.entries()) {
      if (e.state !== "pending") continue;
      if (e.meta.activateAt === null) return e;
      if (any && (best === undefined || e.meta.activateAt < best.meta.activateAt!)) best = e;
    }
    return best;
  }

  /** Makes `e` active at `t`; the previous active key opens for `decryptOnlyPeriod` more. */
  #promote(e: Entry, t: number): void {
    const prev = this.#set.activate(e);
    if (prev !== null) {
      prev.meta.retireAt = Math.min(prev.meta.explicitRetireAt, t + this.#decryptOnlyPeriod);
    }
    e.meta.activateAt = null;
    e.meta.activatedAt = t;
    e.meta.retireAt = e.meta.explicitRetireAt;
  }

  #retireDue(now: number): void {
    for (const e of this.#set.entries()) if (e.meta.retireAt <= now) this.#set.remove(e);
  }

  /** Applies every transition due at `now`, then computes when the next one falls due. */
  #advance(now: number): void {
    this.#retireDue(now);
    // Scheduled pending keys, in schedule order.
    const due: Entry[] = [];
    for (const e of this.#set.entries()) {
      if (e.state === "pending" && e.meta.activateAt !== null && e.meta.activateAt <= now) {
        due.push(e);
      }
    }
    due.sort((a, b) => a.meta.activateAt! - b.meta.activateAt! || a.seq - b.seq);
    for (const e of due) {
      const since = this.#set.active?.meta.activatedAt ?? -Infinity;
      this.#promote(e, Math.max(e.meta.activateAt!, since));
    }
    // Interval rotation, or a spent budget: hand over to the next unscheduled pending key.
    const a = this.#set.active;
    if (
      a !== null &&
      (a.key.exhausted || (a.meta.activatedAt ?? now) + this.#rotationInterval <= now)
    ) {
      const p = this.#nextPending(false);
      if (p !== undefined) this.#promote(p, now);
    }
    this.#retireDue(now);
    // Keep one generated pending key in reserve (or the first active key).
    if (
      this.#generate !== null && this.#generating === null && now >= this.#retryGenerationAt &&
      (this.#set.active === null || this.#nextPending(false) === undefined)
    ) {
      this.#startGeneration();
    }
    // When to look again.
    let next = Infinity;
    for (const e of this.#set.entries()) {
      if (e.meta.retireAt < next) next = e.meta.retireAt;
      if (e.state === "pending" && e.meta.activateAt !== null && e.meta.activateAt < next) {
        next = e.meta.activateAt;
      }
    }
    const act = this.#set.active;
    if (act !== null && this.#nextPending(false) !== undefined) {
      const due2 = (act.meta.activatedAt ?? now) + this.#rotationInterval;
      if (due2 < next) next = due2;
    }
    if (this.#generate !== null && this.#generating === null && this.#retryGenerationAt > now) {
      if (this.#retryGenerationAt < next) next = this.#retryGenerationAt;
    }
    this.#nextCheck = next;
  }

  #startGeneration(): void {
    const options = this.#generate!;
    this.#generating = TicketKey.generate(options).then(
      (k) => {
        this.#generating = null;
        this.add(k, { state: this.#set.active === null ? "active" : "pending" });
      },
      () => {
        this.#generating = null;
        this.#generationErrors++;
        this.#retryGenerationAt = this.#now() + 1000;
        this.#nextCheck = Math.min(this.#nextCheck, this.#retryGenerationAt);
      },
    );
  }
}
