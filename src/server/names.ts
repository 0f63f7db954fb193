/**
 * The names of the ticket engine's numbers, taken from the keys of the constant objects that
 * define them ({@link TicketStatus}, {@link DecryptTicketReturn}, {@link AlertDescription}), so
 * that narration, logs and error messages never keep a second copy of a table.
 *
 * @example
 * ```ts
 * import { decryptTicketReturnName, ticketStatusName } from "./names.ts";
 * console.log(`${ticketStatusName(6)}->${decryptTicketReturnName(4)}`); // "SUCCESS_RENEW->USE_RENEW"
 * ```
 *
 * @module
 */

import { AlertDescription } from "./alert.ts";
import { TicketStatus } from "../ticket/status.ts";
import { DecryptTicketReturn } from "./callbacks.ts";

/** The name of a {@link TicketStatus} value: OpenSSL's `SSL_TICKET_*` without the prefix. */
export type TicketStatusName = keyof typeof TicketStatus;
/** The name of a {@link DecryptTicketReturn} value: `SSL_TICKET_RETURN_*` without the prefix. */
export type DecryptTicketReturnName = keyof typeof DecryptTicketReturn;

/** Inverts a `{ NAME: number }` constant object into a number → name lookup. */
function byValue<K extends string>(
  constants: Readonly<Record<K, number>>,
): ReadonlyMap<number, K> {
  return new Map(Object.entries(constants).map(([k, v]) => [v as number, k as K]));
}

const STATUS_NAMES = byValue(TicketStatus);
const RETURN_NAMES = byValue(DecryptTicketReturn);
const ALERT_NAMES = byValue(AlertDescription);

/**
 * The name of a ticket status, as OpenSSL spells it without `SSL_TICKET_` (the key of
 * {@link TicketStatus} that holds `status`), or `undefined` for a number that is no status.
 *
 * @example
 * ```ts
 * import { ticketStatusName } from "./names.ts";
 * import { TicketStatus } from "../ticket/status.ts";
 * console.log(ticketStatusName(TicketStatus.SUCCESS_RENEW), ticketStatusName(7)); // "SUCCESS_RENEW" undefined
 * ```
 *
 * @param status A status number, e.g. the one `dec_cb` received.
 * @returns The name, or `undefined`.
 */
export function ticketStatusName(status: number): TicketStatusName | undefined {
  return STATUS_NAMES.get(status);
}

/**
 * The name of a `dec_cb` return value, as OpenSSL spells it without `SSL_TICKET_RETURN_` (the
 * key of {@link DecryptTicketReturn} that holds `ret`), or `undefined` for a number that is no
 * return value.
 *
 * @example
 * ```ts
 * import { decryptTicketReturnName } from "./names.ts";
 * import { DecryptTicketReturn } from "./callbacks.ts";
 * console.log(decryptTicketReturnName(DecryptTicketReturn.IGNORE_RENEW)); // "IGNORE_RENEW"
 * console.log(decryptTicketReturnName(5)); // undefined
 * ```
 *
 * @param ret What `dec_cb` returned.
 * @returns The name, or `undefined`.
 */
export function decryptTicketReturnName(ret: number): DecryptTicketReturnName | undefined {
  return RETURN_NAMES.get(ret);
}

/**
 * The RFC 8446 name of an alert description this module sends (`internal_error` for 80: the
 * key of {@link AlertDescription} in lower case), or `undefined` for any other number.
 *
 * @example
 * ```ts
 * import { alertName } from "./names.ts";
 * import { TlsAlert } from "./alert.ts";
 * const e = new TlsAlert(80, "dec_cb returned ABORT");
 * console.log(`fatal alert ${e.alert} (${alertName(e.alert)})`); // "fatal alert 80 (internal_error)"
 * ```
 *
 * @param alert An alert description number.
 * @returns The name, or `undefined`.
 */
export function alertName(alert: number): string | undefined {
  return ALERT_NAMES.get(alert)?.toLowerCase();
}
