/**
 * Private helpers shared by the ticket formats and the key ring: counted results of the formats,
 * the hot-path internals of a `TicketKey`, and the typed refusal of an argument that is not
 * bytes. The early checks and `NO_DECRYPT` results themselves are public, in
 * `ticket_format.ts`; decoding an opened plaintext is `decodeOpenedTicket` in `sealer.ts`.
 *
 * @module
 */

import { TicketKeyError } from "./errors.ts";
import { encodeSessionTransient } from "../session/codec.ts";
import { SslSession } from "../session/ssl_session.ts";
import { TicketStatus } from "./status.ts";
import {
  noDecryptTicket,
  type OpenedTicketBytes,
  TICKET_KEY_NAME_LENGTH,
} from "./ticket_format.ts";

/**
 * The refusal of a ticket that is not a `Uint8Array` (`null`, a string...), as a rejected
 * promise: `open` and `openBytes` resolve to a status for any bytes, and reject with
 * `TicketKeyError` for an argument that is no bytes at all.
 */
export function notTicketBytes(ticket: unknown): Promise<never> {
  return Promise.reject(
    new TicketKeyError(`a ticket to open is a Uint8Array, got ${typeOf(ticket)}`),
  );
}

/**
 * Encodes a session to seal into the codec's shared scratch buffer (`encodeSessionTransient`):
 * the view is valid until the next encode, and holds the master key. The caller hands it to the
 * seal (Web Crypto copies it before the seal returns its promise), then wipes it with
 * `fill(0)`. Throws `TicketKeyError` for a non-session, `DerError` for one OpenSSL cannot encode.
 */
export function encodeToSeal(session: SslSession): Uint8Array<ArrayBuffer> {
  if (!(session instanceof SslSession)) {
    throw new TicketKeyError(`seal takes an SslSession, got ${typeOf(session)}`);
  }
  return encodeSessionTransient(session);
}

/** `typeof`, with `null` and arrays told apart: what a message may say of a wrong argument. */
export function typeOf(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
}

/** Per-key open counters a ring keeps; the formats update them on the hot path. */
export interface OpenCounters {
  /** Tickets opened (SUCCESS or SUCCESS_RENEW). */
  opened: number;
  /** Of those, SUCCESS_RENEW. */
  renewed: number;
  /** Failures by reason. */
  failures: { tooShort: number; badMac: number; badPadding: number; badSession: number };
}

/** A successful byte-level open, counted. */
export function opened(
  ticket: Uint8Array,
  plaintext: ArrayBuffer,
  status: TicketStatus,
  counters: OpenCounters | null,
): OpenedTicketBytes {
  if (counters !== null) {
    counters.opened++;
    if (status === TicketStatus.SUCCESS_RENEW) counters.renewed++;
  }
  return {
    status,
    plaintext: new Uint8Array(plaintext),
    keyName: ticket.subarray(0, TICKET_KEY_NAME_LENGTH),
    failure: null,
  };
}

/** A format-level failure, counted. */
export function failed(
  ticket: Uint8Array,
  eticklen: number,
  failure: "tooShort" | "badMac" | "badPadding",
  counters: OpenCounters | null,
): OpenedTicketBytes {
  if (counters !== null) counters.failures[failure]++;
  return noDecryptTicket(ticket, eticklen, failure);
}

/**
 * What an open hands its byte-level result to, inside the one reaction to Web Crypto's promise:
 * {@link asIs}, or a decode to a session. (An extra `then` layer measured about 0.4 µs per open
 * with 64 in flight, against about 1 µs for the decode.)
 */
export type OpenFinish<R> = (opened: OpenedTicketBytes) => R;

/** The {@link OpenFinish} of the byte-level opens. */
export const asIs: OpenFinish<OpenedTicketBytes> = (opened) => opened;

/** The hot-path operations of one `TicketKey`, for `TicketKeyRing`. */
export interface KeyInternals {
  /**
   * Opens a ticket whose name matched (format checks onward), reporting `success` as the status
   * of a ticket that opens, updating `counters` when given, and resolving to `finish(result)`.
   */
  open<R>(
    ticket: Uint8Array,
    success: TicketStatus,
    counters: OpenCounters | null,
    finish: OpenFinish<R>,
  ): Promise<R>;
  /** Checks and counts synchronously (throws `TicketKeyError`), then seals. */
  seal(plaintext: Uint8Array, iv: Uint8Array | undefined): Promise<Uint8Array>;
}

/** Each `TicketKey`'s internals, registered at construction. */
export const keyInternals: WeakMap<object, KeyInternals> = new WeakMap();
