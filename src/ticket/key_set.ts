/**
 * The key set that `TicketKeyRing` and `FleetRing` share. It holds keys by name with
 * their state and counters, seals with the one active key and opens with any key held; it knows
 * nothing of time. Which key is in which state, and when, is the policy's: the interval
 * rotation of `TicketKeyRing`, or the fleet schedule of `FleetRing`. Each entry carries the
 * policy's own data (`meta`).
 *
 * The rules here: one active key seals; opening with a pending or the active key is `SUCCESS`,
 * with a decrypt-only key `SUCCESS_RENEW`, with a key not held `NO_DECRYPT`; a removed key is
 * forgotten.
 *
 * @module
 */

import { noSealingKeyCounts, TicketKeyError } from "./errors.ts";
import { TicketStatus } from "./status.ts";
import {
  noDecryptTicket,
  type OpenedTicketBytes,
  precheckTicket,
  TICKET_KEY_NAME_LENGTH,
} from "./ticket_format.ts";
import { TicketKey } from "./ticket_key.ts";
import { nameKey } from "./_bytes.ts";
import {
  asIs,
  encodeToSeal,
  type KeyInternals,
  keyInternals,
  notTicketBytes,
  type OpenCounters,
  type OpenFinish,
} from "./_open.ts";
import { decodeOpenedTicket, type TicketOpenResult } from "./sealer.ts";
import type { SslSession } from "../session/ssl_session.ts";
import type { TicketKeyMetrics, TicketKeyRingMetrics, TicketKeyState } from "./key_ring.ts";

/** One key of a {@link TicketKeySet}, with the policy's data. */
export interface KeySetEntry<M> {
  /** The key. */
  readonly key: TicketKey;
  /** Its sealing and opening operations. */
  readonly ops: KeyInternals;
  /** Its name as a map key. */
  readonly id: string;
  /** Order of addition. */
  readonly seq: number;
  /** Its state; change it with the set's methods. */
  state: TicketKeyState;
  /** Tickets this set sealed with it. */
  sealed: number;
  /** Open counters. */
  readonly counters: OpenCounters;
  /** The policy's data. */
  readonly meta: M;
}

/**
 * Keys by name with states and counters; seals with the active key, opens with any.
 *
 * @example
 * ```ts
 * import { TicketKeySet } from "./key_set.ts";
 * import { TicketKey } from "./ticket_key.ts";
 * const set = new TicketKeySet<null>();
 * const e = set.add(await TicketKey.generate(), "pending", null);
 * set.activate(e);
 * const ticket = await set.sealWith(e, new Uint8Array([1]));
 * console.log((await set.open(ticket, () => (r) => r.status)) === 5); // true (SUCCESS)
 * ```
 */
export class TicketKeySet<M> {
  readonly #byId = new Map<string, KeySetEntry<M>>();
  #active: KeySetEntry<M> | null = null;
  #seq = 0;
  #empty = 0;
  #tooShort = 0;
  #tooLong = 0;
  #unknownKey = 0;
  #rotations = 0;
  #removed = 0;
  /** Seals refused for lack of a key that can seal, by reason (counted by the policy). */
  readonly refused: ReturnType<typeof noSealingKeyCounts> = noSealingKeyCounts();

  /** Number of keys held. */
  get size(): number {
    return this.#byId.size;
  }

  /** The active entry, or null. */
  get active(): KeySetEntry<M> | null {
    return this.#active;
  }

  /** Keys ever removed. */
  get removed(): number {
    return this.#removed;
  }

  /** The entries, in the order they were added. */
  entries(): IterableIterator<KeySetEntry<M>> {
    return this.#byId.values();
  }

  /**
   * Adds a key in `state` (`"active"` makes the previous active key decrypt-only).
   *
   * @throws {TicketKeyError} When a key of that name is held.
   */
  add(key: TicketKey, state: TicketKeyState, meta: M): KeySetEntry<M> {
    const id = nameKey(key.name);
    if (this.#byId.has(id)) {
      throw new TicketKeyError(`a ticket key named ${key.nameHex} is already in the ring`);
    }
    const e: KeySetEntry<M> = {
      key,
      ops: keyInternals.get(key)!,
      id,
      seq: this.#seq++,
      state: "pending",
      sealed: 0,
      counters: {
        opened: 0,
        renewed: 0,
        failures: { tooShort: 0, badMac: 0, badPadding: 0, badSession: 0 },
      },
      meta,
    };
    this.#byId.set(id, e);
    if (state === "active") this.activate(e);
    else e.state = state;
    return e;
  }

  /** Makes `e` the active key; returns the previous active entry, now decrypt-only, if any. */
  activate(e: KeySetEntry<M>): KeySetEntry<M> | null {
    const prev = this.#active;
    if (prev === e) return null;
    if (prev !== null) prev.state = "decrypt-only";
    e.state = "active";
    this.#active = e;
    this.#rotations++;
    return prev;
  }

  /** Puts `e` in a state other than active (the set then has no active key if it was). */
  demote(e: KeySetEntry<M>, state: "pending" | "decrypt-only"): void {
    if (this.#active === e) this.#active = null;
    e.state = state;
  }

  /** Forgets `e`: its tickets open as `NO_DECRYPT`. */
  remove(e: KeySetEntry<M>): void {
    if (this.#byId.delete(e.id)) this.#removed++;
    if (this.#active === e) this.#active = null;
  }

  /** The entry of a key (the same object) or of a 16-byte name. */
  find(key: TicketKey | Uint8Array): KeySetEntry<M> | undefined {
    if (key instanceof TicketKey) {
      const e = this.#byId.get(nameKey(key.name));
      return e !== undefined && e.key === key ? e : undefined;
    }
    if (!(key instanceof Uint8Array) || key.length !== 16) return undefined;
    return this.#byId.get(nameKey(key));
  }

  /**
   * Seals with `e` and counts it (the policy has checked that `e` may seal). Throws at once for
   * a plaintext that is not 1 to 65280 bytes.
   */
  sealWith(e: KeySetEntry<M>, plaintext: Uint8Array): Promise<Uint8Array> {
    const ticket = e.ops.seal(plaintext, undefined);
    e.sealed++;
    return ticket;
  }

  /**
   * Opens a ticket: `tls_decrypt_ticket`'s early checks, the key-name lookup, then the key's
   * format (`SUCCESS` for a pending or the active key, `SUCCESS_RENEW` for a decrypt-only one),
   * resolving to `makeFinish(entry)(result)` (entry undefined when no key was used).
   */
  open<R>(
    ticket: Uint8Array,
    makeFinish: (e: KeySetEntry<M> | undefined) => OpenFinish<R>,
  ): Promise<R> {
    if (!(ticket instanceof Uint8Array)) return notTicketBytes(ticket);
    const early = precheckTicket(ticket);
    if (early !== null) return Promise.resolve(makeFinish(undefined)(this.#countEarly(early)));
    const e = this.#byId.get(nameKey(ticket));
    if (e === undefined) {
      this.#unknownKey++;
      return Promise.resolve(
        makeFinish(undefined)(noDecryptTicket(ticket, TICKET_KEY_NAME_LENGTH, "unknownKey")),
      );
    }
    return e.ops.open(
      ticket,
      e.state === "decrypt-only" ? TicketStatus.SUCCESS_RENEW : TicketStatus.SUCCESS,
      e.counters,
      makeFinish(e),
    );
  }

  /** Opens a ticket to its plaintext bytes (see {@link TicketKeySet.open}). */
  openBytes(ticket: Uint8Array): Promise<OpenedTicketBytes> {
    return this.open(ticket, () => asIs);
  }

  /**
   * Opens a ticket to a session: the bytes, then `decodeSession` (a plaintext libssl would
   * reject is `NO_DECRYPT`, counted as the key's `badSession`). A missing session time is
   * `nowSeconds`.
   */
  openSession(ticket: Uint8Array, nowSeconds: number): Promise<TicketOpenResult> {
    return this.open(ticket, (e) => (bytes) => {
      const r = decodeOpenedTicket(bytes, nowSeconds);
      if (e !== undefined && r.failure === "badSession") {
        e.counters.opened--;
        if (bytes.status === TicketStatus.SUCCESS_RENEW) e.counters.renewed--;
        e.counters.failures.badSession++;
      }
      return r;
    });
  }

  /** The counters, as `TicketKeyRing.metrics` reports them. */
  metrics(generationErrors: number): TicketKeyRingMetrics {
    return {
      keys: [...this.#byId.values()].map((e): TicketKeyMetrics => ({
        name: e.key.nameHex,
        format: e.key.format,
        cipher: e.key.cipher,
        state: e.state,
        sealed: e.sealed,
        sealCount: e.key.sealCount,
        sealBudget: e.key.sealBudget,
        opened: e.counters.opened,
        renewed: e.counters.renewed,
        failures: { ...e.counters.failures },
      })),
      empty: this.#empty,
      tooShort: this.#tooShort,
      tooLong: this.#tooLong,
      unknownKey: this.#unknownKey,
      rotations: this.#rotations,
      retired: this.#removed,
      generationErrors,
      sealsRefused: { ...this.refused },
    };
  }

  /** Key names, states and ciphers only. */
  toJSON(): { keys: { name: string; state: TicketKeyState; cipher: string }[] } {
    return {
      keys: [...this.#byId.values()].map((e) => ({
        name: e.key.nameHex,
        state: e.state,
        cipher: e.key.cipher,
      })),
    };
  }

  #countEarly(r: OpenedTicketBytes): OpenedTicketBytes {
    if (r.status === TicketStatus.EMPTY) this.#empty++;
    else if (r.failure === "tooLong") this.#tooLong++;
    else this.#tooShort++;
    return r;
  }
}

/**
 * Seals a session with `sealBytes`: `encodeSession`, then the bytes, which hold the master key
 * and are wiped as soon as Web Crypto has taken its copy.
 *
 * @example
 * ```ts
 * import { sealSession } from "./key_set.ts";
 * import { TicketKey } from "./ticket_key.ts";
 * import { SslSession } from "../session/ssl_session.ts";
 * const key = await TicketKey.generate();
 * const t = await sealSession(new SslSession({ cipherId: 0x1301, time: 1, timeout: 60 }), (b) => key.sealBytes(b));
 * console.log(t.length > 32); // true
 * ```
 *
 * @param session The session.
 * @param sealBytes Seals plaintext bytes.
 * @returns The ticket (a rejected promise for a session that does not encode).
 */
export function sealSession(
  session: SslSession,
  sealBytes: (plaintext: Uint8Array) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  let der: Uint8Array;
  try {
    der = encodeToSeal(session);
  } catch (e) {
    return Promise.reject(e);
  }
  try {
    return sealBytes(der);
  } catch (e) {
    return Promise.reject(e);
  } finally {
    der.fill(0); // the master key leaves the shared buffer once Web Crypto has its copy
  }
}
