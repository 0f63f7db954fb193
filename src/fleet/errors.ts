/**
 * The fleet layer's error for a configuration mistake: options out of range, settings that
 * differ from the fleet's, a key-encryption key of the wrong size or not the fleet's, an export
 * to a layout the fleet's keys cannot fill. (A fleet that has no key to seal with is a runtime
 * condition, reported as `TicketKeyError`; a store that cannot be reached is
 * `KeyStoreUnavailableError`.)
 *
 * @module
 */

/**
 * A fleet was configured in a way that cannot work; the message says what and how to fix it.
 *
 * @example
 * ```ts
 * import { FleetConfigError, FleetRing, MemoryKeyStore } from "@seed/session-tickets/fleet";
 * try {
 *   await FleetRing.start({ store: new MemoryKeyStore(), kek: new Uint8Array(16) });
 * } catch (e) {
 *   console.log(e instanceof FleetConfigError); // true
 * }
 * ```
 */
export class FleetConfigError extends Error {
  /**
   * Creates a fleet configuration error.
   *
   * @param message What is wrong and what would work.
   */
  constructor(message: string) {
    super(message);
    this.name = "FleetConfigError";
  }
}
