/**
 * `ssl/t1_lib.c:tls_decrypt_ticket` and its `end:` block: the one place where a ticket is
 * opened and the status → `dec_cb` → result mapping (spec §5, §5.1) is decided, for both
 * TLS 1.2 and TLS 1.3.
 *
 * @module
 */

import type { SslSession } from "../session/ssl_session.ts";
import { decodeOpened } from "../ticket/_open.ts";
import { TicketStatus } from "../ticket/status.ts";
import type { TicketOpenResult } from "../ticket/sealer.ts";
import { DecryptTicketReturn } from "./callbacks.ts";
import type { ServerConnection } from "./server_connection.ts";

/**
 * What {@link decryptTicket} decided.
 *
 * @example
 * ```ts
 * import type { DecryptedTicket } from "./_decrypt_ticket.ts";
 * const none: DecryptedTicket = { status: 2, session: null, ticketExpected: false };
 * console.log(none.status); // 2
 * ```
 */
export interface DecryptedTicket {
  /** NONE, EMPTY, NO_DECRYPT, SUCCESS, SUCCESS_RENEW or FATAL_ERR_OTHER. */
  status: TicketStatus;
  /** The session, for SUCCESS and SUCCESS_RENEW (and kept on ABORT, as libssl keeps it). */
  session: SslSession | null;
  /** Whether this ticket makes the server send a new one (`s->ext.ticket_expected = 1`). */
  ticketExpected: boolean;
}

const SUCCESSES: ReadonlySet<number> = new Set([TicketStatus.SUCCESS, TicketStatus.SUCCESS_RENEW]);

async function callSafely<T>(f: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch {
    return undefined;
  }
}

/** Opens the ticket: key callback path (5a) or the context's sealer (5b). */
async function openTicket(
  conn: ServerConnection,
  ticket: Uint8Array,
  tls13: boolean,
): Promise<TicketOpenResult> {
  const ctx = conn.context;
  const keyCb = ctx.ticketKeyCb;
  if (keyCb === null || ticket.length === 0) {
    const r = await ctx.ticketSealer.open(ticket);
    // Only the default-key path forces renewal in TLS 1.3 (`if (SSL_IS_TLS13(s)) renew = 1`).
    if (tls13 && r.status === TicketStatus.SUCCESS) r.status = TicketStatus.SUCCESS_RENEW;
    return r;
  }
  const keyName = ticket.subarray(0, Math.min(16, ticket.length));
  if (ticket.length < 32) return { status: TicketStatus.NO_DECRYPT, session: null, keyName };
  conn.counters.keyCbDec++;
  const rv = await callSafely(() =>
    keyCb(conn, ticket.subarray(0, 16), ticket.subarray(16, 32), false)
  );
  if (rv == null || !Number.isInteger(rv.ret) || rv.ret < 0) {
    return { status: TicketStatus.FATAL_ERR_OTHER, session: null, keyName };
  }
  if (rv.ret === 0) return { status: TicketStatus.NO_DECRYPT, session: null, keyName };
  if (!rv.key) return { status: TicketStatus.FATAL_ERR_OTHER, session: null, keyName };
  const key = rv.key;
  // The callback found the key by name itself, so the key's own name is not compared again.
  const opened = decodeOpened(await key.openBytes(ticket, { anyName: true }));
  if (rv.ret === 2 && opened.status === TicketStatus.SUCCESS) {
    opened.status = TicketStatus.SUCCESS_RENEW;
  }
  return opened;
}

/**
 * Runs `tls_decrypt_ticket` on one ticket: open it, copy the TLS 1.2 ClientHello session id
 * into a decrypted session, call `dec_cb` when the status is EMPTY, NO_DECRYPT, SUCCESS or
 * SUCCESS_RENEW, and map its return value as OpenSSL does.
 *
 * @example
 * ```ts
 * import { SslContext } from "./ssl_context.ts";
 * import { decryptTicket } from "./_decrypt_ticket.ts";
 * const conn = (await SslContext.create({ decCb: () => 1 })).newConnection();
 * const r = await decryptTicket(conn, new Uint8Array(0), new Uint8Array(0), false);
 * console.log(r.status, r.ticketExpected); // 2 false (EMPTY, then IGNORE: NONE)
 * ```
 *
 * @param conn The connection (its context's keys and callbacks, its counters).
 * @param ticket The ticket bytes (TLS 1.2 extension body or TLS 1.3 identity).
 * @param clientSessionId The TLS 1.2 ClientHello session id, `null` in TLS 1.3.
 * @param tls13 Whether this is TLS 1.3 (the default-key path then always renews).
 * @returns The final status, the session and whether a new ticket is expected.
 */
export async function decryptTicket(
  conn: ServerConnection,
  ticket: Uint8Array,
  clientSessionId: Uint8Array | null,
  tls13: boolean,
): Promise<DecryptedTicket> {
  const ctx = conn.context;
  const opened = await openTicket(conn, ticket, tls13);
  let status: TicketStatus = opened.status;
  let session = SUCCESSES.has(status) ? opened.session : null;
  if (session && clientSessionId && clientSessionId.length > 0) {
    session.sessionId = clientSessionId.slice();
  }
  if (status === TicketStatus.FATAL_ERR_OTHER) {
    return { status, session: null, ticketExpected: false };
  }

  const decCb = ctx.decCb;
  if (decCb !== null) {
    const keyName = opened.keyName;
    conn.counters.decCb++;
    const ret = await callSafely(() => decCb(conn, session, keyName, status, ctx.cbArg));
    conn.decCbCalls.push({
      status,
      keyNameLength: keyName.length,
      ret: typeof ret === "number" ? ret : null,
    });
    switch (ret) {
      case DecryptTicketReturn.ABORT:
        status = TicketStatus.FATAL_ERR_OTHER;
        break;
      case DecryptTicketReturn.IGNORE:
        status = TicketStatus.NONE;
        session = null;
        break;
      case DecryptTicketReturn.IGNORE_RENEW:
        if (status !== TicketStatus.EMPTY && status !== TicketStatus.NO_DECRYPT) {
          status = TicketStatus.NO_DECRYPT;
        }
        session = null;
        break;
      case DecryptTicketReturn.USE:
      case DecryptTicketReturn.USE_RENEW:
        status = !SUCCESSES.has(status)
          ? TicketStatus.FATAL_ERR_OTHER
          : ret === DecryptTicketReturn.USE
          ? TicketStatus.SUCCESS
          : TicketStatus.SUCCESS_RENEW;
        break;
      default: // an unknown value, a throw or a rejected Promise
        status = TicketStatus.FATAL_ERR_OTHER;
    }
  }
  const ticketExpected = status === TicketStatus.NO_DECRYPT ||
    status === TicketStatus.SUCCESS_RENEW || status === TicketStatus.EMPTY;
  return { status, session, ticketExpected };
}
