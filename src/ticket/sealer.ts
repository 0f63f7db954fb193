/**
 * The ticket sealer interface: what a TLS server needs to turn a session into a ticket and back.
 * {@link TicketKey} (one key) and {@link TicketKeyRing} (rotating keys) implement it, and an
 * application may supply its own (a remote key service, a hardware module).
 *
 * @module
 */

import { DerError } from "../der/errors.ts";
import { decodeOwnedSession } from "../session/codec.ts";
import type { SslSession } from "../session/ssl_session.ts";
import { TicketStatus } from "./status.ts";
import type { OpenedTicketBytes, TicketFailureReason } from "./ticket_format.ts";

/** The result of opening a ticket to a session. */
export interface TicketOpenResult {
  /** `EMPTY`, `NO_DECRYPT`, `SUCCESS` or `SUCCESS_RENEW` (`TicketStatus`). */
  status: TicketStatus;
  /** The session; non-null exactly when `status` is `SUCCESS` or `SUCCESS_RENEW`. */
  session: SslSession | null;
  /**
   * OpenSSL's `keyname` / `keyname_length` as passed to `dec_cb`: a view of the ticket's first
   * `min(16, eticklen)` bytes (see `OpenedTicketBytes.keyName`).
   */
  keyName: Uint8Array;
  /** Why the ticket did not open (absent or `null` when it opened or was empty). */
  failure?: TicketFailureReason | null;
}

/**
 * Seals sessions into tickets and opens tickets back into sessions.
 *
 * `open` never throws: every malformed, foreign, truncated or tampered ticket opens as
 * `NO_DECRYPT` (and a zero-length one as `EMPTY`), and an argument that is not a `Uint8Array`
 * gives a rejected promise with `TicketKeyError` (`TicketKey`, `TicketKeyRing` and `FleetRing`
 * alike). `seal` rejects with `NoSealingKeyError` (a `TicketKeyError`) when it has no key that
 * can seal now (not yet, budget spent, every key retired): the engine then sends no ticket and
 * the handshake goes on, as when OpenSSL's key callback returns 0. Any other rejection (a
 * session too large, for instance) is fatal to the handshake (alert 80).
 */
export interface TicketSealer {
  /** Encodes `session` as `i2d_SSL_SESSION` DER and seals it. */
  seal(session: SslSession): Promise<Uint8Array>;
  /** Opens a ticket and decodes its session with `d2i_SSL_SESSION`'s rules. */
  open(ticket: Uint8Array): Promise<TicketOpenResult>;
  /**
   * Optional: the longest lifetime hint (seconds) worth sending for a session of
   * `sessionTimeout` seconds sealed now, when keys expire (a key ring: the sealing key's
   * remaining decrypt life). A server sends the smaller of the two.
   */
  lifetimeHint?(sessionTimeout: number): number;
}

/**
 * The byte-level half of a sealer: seal and open plaintext bytes (normally an `SSL_SESSION`
 * DER) without the session codec. {@link TicketKey} and {@link TicketKeyRing} implement it.
 */
export interface TicketByteSealer {
  /** Seals 1 to 65280 plaintext bytes. */
  sealBytes(plaintext: Uint8Array): Promise<Uint8Array>;
  /** Opens a ticket to its plaintext bytes; never throws (see {@link TicketSealer}). */
  openBytes(ticket: Uint8Array): Promise<OpenedTicketBytes>;
}

/**
 * Decodes the plaintext of a ticket opened at the byte level to its session, as
 * `tls_decrypt_ticket` does after decryption: `d2i_SSL_SESSION` then the trailing-bytes check
 * (checks 13 and 14); a plaintext libssl rejects is `NO_DECRYPT` (`badSession`), never a throw.
 * A result without plaintext (`EMPTY`, `NO_DECRYPT`) passes through with its reason. The
 * `keyName` stays as it was. The plaintext must be a buffer nobody else holds (a fresh
 * decryption): the session keeps views into it.
 *
 * @example
 * ```ts
 * import { decodeOpenedTicket } from "./sealer.ts";
 * import { TicketKey } from "./ticket_key.ts";
 * import { encodeSession } from "../session/codec.ts";
 * import { SslSession } from "../session/ssl_session.ts";
 * const key = await TicketKey.generate();
 * const der = encodeSession(new SslSession({ cipherId: 0x1302, time: 1, timeout: 7200 }));
 * const opened = await key.openBytes(await key.sealBytes(der));
 * console.log(decodeOpenedTicket(opened).session?.cipherId); // 4866
 * const notASession = { ...opened, plaintext: new Uint8Array([1, 2, 3]) };
 * console.log(decodeOpenedTicket(notASession).failure); // "badSession" (status 4, NO_DECRYPT)
 * ```
 *
 * @param opened The byte-level result.
 * @param nowSeconds The time for a session without one (default: the clock).
 * @returns The session-level result.
 */
export function decodeOpenedTicket(
  opened: OpenedTicketBytes,
  nowSeconds?: number,
): TicketOpenResult {
  if (opened.plaintext === null) {
    return {
      status: opened.status,
      session: null,
      keyName: opened.keyName,
      failure: opened.failure,
    };
  }
  try {
    const session = decodeOwnedSession(opened.plaintext, nowSeconds);
    return { status: opened.status, session, keyName: opened.keyName, failure: null };
  } catch (e) {
    if (!(e instanceof DerError)) throw e;
    return {
      status: TicketStatus.NO_DECRYPT,
      session: null,
      keyName: opened.keyName,
      failure: "badSession",
    };
  }
}
