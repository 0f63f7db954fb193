/**
 * The ticket layer's errors: key material of the wrong length or layout, or a key that cannot be
 * used; and, among those, a sealer that has no key able to seal now.
 *
 * @module
 */

/**
 * Ticket key material has the wrong length, an unknown layout, or a key cannot be used.
 *
 * @example
 * ```ts
 * import { TicketKeyError } from "@seed/session-tickets";
 * const e = new TicketKeyError("openssl-80 keys are 80 bytes, got 48");
 * console.log(e.name); // "TicketKeyError"
 * ```
 */
export class TicketKeyError extends Error {
  /**
   * Creates a ticket key error.
   *
   * @param message What is wrong and, for lengths, which lengths are accepted.
   */
  constructor(message: string) {
    super(message);
    this.name = "TicketKeyError";
  }
}

/**
 * Why a sealer has no key that can seal now: `"not-yet"` (it holds keys, none sealing yet: a
 * pending key's time, a new fleet's first key), `"budget-spent"` (the sealing key sealed its
 * budget and no successor can take over), `"retired"` (the keys it held stopped sealing or were
 * retired), `"no-key"` (it never held one).
 */
export type NoSealingKeyReason = "not-yet" | "budget-spent" | "retired" | "no-key";

/**
 * Every {@link NoSealingKeyReason}, in a fixed order (for counters and checks).
 *
 * @example
 * ```ts
 * import { NO_SEALING_KEY_REASONS } from "./errors.ts";
 * console.log(NO_SEALING_KEY_REASONS.join(" ")); // "not-yet budget-spent retired no-key"
 * ```
 */
export const NO_SEALING_KEY_REASONS: readonly NoSealingKeyReason[] = Object.freeze([
  "not-yet",
  "budget-spent",
  "retired",
  "no-key",
]);

/**
 * A sealer has no key that can seal now. This is not a broken sealer: a server sends no ticket
 * and the handshake completes, as OpenSSL does when its ticket key callback returns 0 (TLS 1.2:
 * an empty NewSessionTicket; TLS 1.3: none). `TicketKey` throws it when its seal budget is
 * spent, `TicketKeyRing` when it has no active key (or the active key's budget is spent and no
 * pending key can take over), `FleetRing` when no fleet key seals in this process; a custom
 * `TicketSealer` may throw it for the same effect. Every other `TicketKeyError` from a sealer
 * stays fatal (alert 80).
 *
 * @example
 * ```ts
 * import { NoSealingKeyError, TicketKey, TicketKeyError } from "@seed/session-tickets";
 * const key = await TicketKey.generate({ sealBudget: 0 });
 * const e = await key.sealBytes(new Uint8Array([1])).catch((e) => e);
 * console.log(e instanceof NoSealingKeyError, e instanceof TicketKeyError, e.reason); // true true "budget-spent"
 * ```
 */
export class NoSealingKeyError extends TicketKeyError {
  /** Why no key can seal. */
  readonly reason: NoSealingKeyReason;
  /** When (clock milliseconds) a key is due to seal, or null when none is known. */
  readonly sealsFrom: number | null;

  /**
   * Creates the error.
   *
   * @param reason Why no key can seal.
   * @param message What the sealer holds and what would let it seal again.
   * @param sealsFrom When a key is due to seal (clock milliseconds), if known.
   * @throws {TicketKeyError} For a reason that is not a {@link NoSealingKeyReason}.
   */
  constructor(reason: NoSealingKeyReason, message: string, sealsFrom: number | null = null) {
    if (!NO_SEALING_KEY_REASONS.includes(reason)) {
      throw new TicketKeyError(
        `unknown NoSealingKeyError reason ${JSON.stringify(String(reason))}; reasons: ${
          NO_SEALING_KEY_REASONS.join(", ")
        }`,
      );
    }
    super(message);
    this.name = "NoSealingKeyError";
    this.reason = reason;
    this.sealsFrom = typeof sealsFrom === "number" && Number.isFinite(sealsFrom) ? sealsFrom : null;
  }
}

/**
 * Zeroed counters, one per {@link NoSealingKeyReason}.
 *
 * @example
 * ```ts
 * import { noSealingKeyCounts } from "./errors.ts";
 * console.log(noSealingKeyCounts()); // { "not-yet": 0, "budget-spent": 0, retired: 0, "no-key": 0 }
 * ```
 *
 * @returns A new record of zeros.
 */
export function noSealingKeyCounts(): Record<NoSealingKeyReason, number> {
  return { "not-yet": 0, "budget-spent": 0, retired: 0, "no-key": 0 };
}
