/**
 * `ssl/t1_lib.c:tls_decrypt_ticket` and its `end:` block: the one place where a ticket is
 * opened and the status → `dec_cb` → result mapping is decided, for both
 * TLS 1.2 and TLS 1.3.
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "./alert.ts";
import type { SslSession } from "../session/ssl_session.ts";
import { TicketStatus } from "../ticket/status.ts";
import { decodeOpenedTicket, type TicketOpenResult } from "../ticket/sealer.ts";
import {
  MIN_TICKET_LENGTH,
  noDecryptTicket,
  precheckTicket,
  TICKET_KEY_NAME_LENGTH,
} from "../ticket/ticket_format.ts";
import { TicketKey } from "../ticket/ticket_key.ts";
import { DecryptTicketReturn, type TicketKeyCallback } from "./callbacks.ts";
import type { ServerConnection } from "./server_connection.ts";

/** What {@link decryptTicket} decided. */
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

/**
 * What a value is, for a message about a callback's return: its type or class, and a number's
 * or boolean's value, never the contents of a string, bytes or an object (they may be secrets).
 *
 * @example
 * ```ts
 * import { describeValue } from "./_decrypt_ticket.ts";
 * console.log(describeValue({}), describeValue("k3y"), describeValue(42)); // "a plain object" "a string" "the number 42"
 * console.log(describeValue(new Uint8Array(80))); // "a Uint8Array"
 * ```
 *
 * @param v Any value.
 * @returns A short description.
 */
export function describeValue(v: unknown): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "undefined":
      return "undefined";
    case "string":
      return "a string";
    case "number":
      return Number.isNaN(v) ? "NaN" : `the number ${v}`;
    case "boolean":
      return String(v);
    case "bigint":
      return "a bigint";
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
  }
  if (Array.isArray(v)) return "an array";
  let name: unknown;
  try {
    name = Object.getPrototypeOf(v)?.constructor?.name;
  } catch {
    return "an object";
  }
  if (typeof name !== "string" || name === "" || name === "Object") return "a plain object";
  return `${/^[AEIO]/.test(name) ? "an" : "a"} ${name}`;
}

/** A ticket key callback's answer, checked: `ret` 0 (no ticket, or key not found) or a key. */
export interface KeyCallbackAnswer {
  /** OpenSSL's return value: 0, or positive (2 when opening: renew). */
  ret: number;
  /** The key to seal or open with; `null` exactly when `ret` is 0. */
  key: TicketKey | null;
  /** The IV to seal with, when the callback chose one. */
  iv: Uint8Array | undefined;
}

/**
 * Calls the ticket key callback, counts the call, and checks its answer as libssl checks the C
 * callback's return: a negative `ret` is fatal, 0 is "no ticket" (sealing) or "not found"
 * (opening), a positive `ret` needs a {@link TicketKey}. A throw, a rejected promise, a result
 * of the wrong shape, a non-integer or negative `ret`, a positive `ret` without a `TicketKey` or
 * an IV that is not a `Uint8Array` ends the handshake with internal_error (80), the message
 * naming the callback and what it returned (types, never bytes).
 *
 * @example
 * ```ts
 * import { SslContext } from "./ssl_context.ts";
 * import { callTicketKeyCb } from "./_decrypt_ticket.ts";
 * const cb = () => ({ ret: 1, key: "k3y" }) as never;
 * const conn = (await SslContext.create({ ticketKeyCb: cb })).newConnection();
 * const e = await callTicketKeyCb(conn, cb, new Uint8Array(0), new Uint8Array(0), true).catch((e) => e);
 * console.log(e.alert, e.message); // 80 "TLS alert 80: ticketKeyCb (sealing a ticket) returned ret 1 with key = a string, not a TicketKey"
 * ```
 *
 * @param conn The connection (its counters).
 * @param keyCb The callback.
 * @param keyName The ticket's key name (empty when sealing).
 * @param iv The ticket's IV (empty when sealing).
 * @param enc True when sealing.
 * @returns The checked answer.
 * @throws {TlsAlert} 80, as described.
 */
export async function callTicketKeyCb(
  conn: ServerConnection,
  keyCb: TicketKeyCallback,
  keyName: Uint8Array,
  iv: Uint8Array,
  enc: boolean,
): Promise<KeyCallbackAnswer> {
  const who = enc ? "ticketKeyCb (sealing a ticket)" : "ticketKeyCb (opening a ticket)";
  const fail = (why: string) => new TlsAlert(AlertDescription.INTERNAL_ERROR, `${who} ${why}`);
  if (enc) conn.counters.keyCbEnc++;
  else conn.counters.keyCbDec++;
  let rv: unknown;
  try {
    rv = await keyCb(conn, keyName, iv, enc);
  } catch {
    throw fail("threw or rejected");
  }
  if (rv === null || typeof rv !== "object") {
    throw fail(`returned ${describeValue(rv)}, not a { ret, key } result`);
  }
  let ret: unknown, key: unknown, ivOut: unknown;
  try {
    ({ ret, key, iv: ivOut } = rv as Record<string, unknown>);
  } catch {
    throw fail(`returned ${describeValue(rv)} whose fields could not be read`);
  }
  if (typeof ret !== "number" || !Number.isInteger(ret)) {
    throw fail(`returned ret = ${describeValue(ret)}, not an integer`);
  }
  if (ret < 0) throw fail(`returned ret ${ret} (fatal)`);
  if (ret === 0) return { ret, key: null, iv: undefined };
  if (!(key instanceof TicketKey)) {
    throw fail(
      key === undefined
        ? `returned ret ${ret} without a key`
        : `returned ret ${ret} with key = ${describeValue(key)}, not a TicketKey`,
    );
  }
  if (!enc || ivOut == null) return { ret, key, iv: undefined };
  if (!(ivOut instanceof Uint8Array)) {
    throw fail(`returned iv = ${describeValue(ivOut)}, not a Uint8Array`);
  }
  return { ret, key, iv: ivOut };
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
  // The ticket layer's early checks, as for a sealer: a ticket too short to hold a key name
  // and an IV never reaches the callback.
  const early = precheckTicket(ticket);
  if (early !== null) return decodeOpenedTicket(early);
  const answer = await callTicketKeyCb(
    conn,
    keyCb,
    ticket.subarray(0, TICKET_KEY_NAME_LENGTH),
    ticket.subarray(TICKET_KEY_NAME_LENGTH, MIN_TICKET_LENGTH), // the IV: 16 + EVP_MAX_IV_LENGTH
    false,
  );
  if (answer.key === null) {
    return decodeOpenedTicket(noDecryptTicket(ticket, TICKET_KEY_NAME_LENGTH, "unknownKey"));
  }
  // The callback found the key by name itself, so the key's own name is not compared again.
  const opened = decodeOpenedTicket(await answer.key.openBytes(ticket, { anyName: true }));
  if (answer.ret === 2 && opened.status === TicketStatus.SUCCESS) {
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
 * @throws {TlsAlert} 80 when the ticket key callback fails (see {@link callTicketKeyCb}).
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
