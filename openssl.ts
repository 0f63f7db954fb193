/**
 * OpenSSL's C API for server-side session tickets, under OpenSSL's own names and numeric
 * values, so that C code using `SSL_CTX_set_session_ticket_cb` ports line by line. Every
 * function is a thin layer over the engine ({@link SslContext}, {@link ServerConnection},
 * {@link SslSession}); the objects are the engine's, so both APIs can be mixed freely.
 *
 * Differences from C, each forced by JavaScript:
 * - Functions that import keys with Web Crypto are `async` ({@link SSL_CTX_new},
 *   {@link SSL_CTX_set_tlsext_ticket_keys}, {@link SSL_CTX_get_tlsext_ticket_keys}): `await`
 *   them.
 * - Out-parameters (`void **data, size_t *len`) become a returned object, e.g.
 *   {@link SSL_SESSION_get0_ticket_appdata} returns `{ ret, data, len }`.
 * - `i2d_SSL_SESSION` returns the DER bytes; `d2i_SSL_SESSION` returns the session or `null`.
 * - Nothing needs freeing: there are no `*_free` functions.
 *
 * @example
 * ```ts
 * import {
 *   SSL_CTX_new, SSL_CTX_set_session_ticket_cb, SSL_get_session, SSL_SESSION_get0_ticket_appdata,
 *   SSL_SESSION_set1_ticket_appdata, SSL_TICKET_RETURN_IGNORE_RENEW, SSL_TICKET_RETURN_USE,
 *   SSL_TICKET_RETURN_USE_RENEW, SSL_TICKET_SUCCESS, SSL_TICKET_SUCCESS_RENEW,
 *   TLS_server_method,
 * } from "@seed/session-tickets/openssl";
 *
 * const ctx = await SSL_CTX_new(TLS_server_method());
 * SSL_CTX_set_session_ticket_cb(
 *   ctx,
 *   (s, _arg) => SSL_SESSION_set1_ticket_appdata(SSL_get_session(s)!, "Hello World", 11),
 *   (_s, ss, _keyname, status, _arg) => {
 *     if (status !== SSL_TICKET_SUCCESS && status !== SSL_TICKET_SUCCESS_RENEW) {
 *       return SSL_TICKET_RETURN_IGNORE_RENEW;
 *     }
 *     const { len } = SSL_SESSION_get0_ticket_appdata(ss!);
 *     console.log("app data length", len);
 *     return status === SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE : SSL_TICKET_RETURN_USE_RENEW;
 *   },
 *   null,
 * );
 * ```
 *
 * @module
 */

import { DerReader } from "./src/der/reader.ts";
import { decodeSession, encodeSession, SESSION_ASN1_VERSION } from "./src/session/codec.ts";
import type { SslSession } from "./src/session/ssl_session.ts";
import { AlertDescription } from "./src/server/alert.ts";
import {
  type DecryptTicketCallback,
  DecryptTicketReturn,
  type GenerateTicketCallback,
  type TicketKeyCallbackResult,
} from "./src/server/callbacks.ts";
import type { ServerConnection } from "./src/server/server_connection.ts";
import { SslContext } from "./src/server/ssl_context.ts";
import { TicketStatus } from "./src/ticket/status.ts";
import { TicketKey } from "./src/ticket/ticket_key.ts";

// ---------------------------------------------------------------------------------------------
// Types

/** `SSL_CTX`: the engine's {@link SslContext}. */
export type SSL_CTX = SslContext;

/** `SSL` (server side): the engine's {@link ServerConnection}. */
export type SSL = ServerConnection;

/** `SSL_SESSION`: the engine's {@link SslSession}. */
export type SSL_SESSION = SslSession;

/** `SSL_TICKET_STATUS` (`typedef int`): one of the `SSL_TICKET_*` status values. */
export type SSL_TICKET_STATUS = number;

/** `SSL_TICKET_RETURN` (`typedef int`): one of the `SSL_TICKET_RETURN_*` values. */
export type SSL_TICKET_RETURN = number;

/**
 * `SSL_CTX_generate_session_ticket_fn` (`int (*)(SSL *s, void *arg)`): `gen_cb`. Called once
 * per NewSessionTicket, before the ticket is sealed; `SSL_get_session(s)` is the session that
 * goes into it. Return 1 to continue; 0 ends the handshake with internal_error (80). It may
 * also return a Promise.
 */
export type SSL_CTX_generate_session_ticket_fn = GenerateTicketCallback;

/**
 * `SSL_CTX_decrypt_session_ticket_fn`: `dec_cb`. The C arguments are
 * `(s, ss, keyname, keyname_length, status, arg)`; here `keyname` is a `Uint8Array` and
 * `keyname_length` is `keyname.length`, so the arguments are `(s, ss, keyname, status, arg)`.
 * `ss` is non-null only for `SSL_TICKET_SUCCESS` and `SSL_TICKET_SUCCESS_RENEW`. Return one of
 * the `SSL_TICKET_RETURN_*` values (or a Promise of one).
 */
export type SSL_CTX_decrypt_session_ticket_fn = DecryptTicketCallback;

/**
 * The ticket key callback of {@link SSL_CTX_set_tlsext_ticket_key_evp_cb}. C's
 * `(s, key_name, iv, EVP_CIPHER_CTX *ctx, EVP_MAC_CTX *hctx, int enc)` initialises the cipher
 * and MAC contexts; Web Crypto has no such contexts, so the callback instead returns
 * `{ ret, key, iv }`: `ret` is C's return value and, when positive, `key` is the
 * {@link TicketKey} (format `"openssl"`) to seal or open with. When sealing (`enc === 1`),
 * `key_name` and `iv` are empty and an `iv` may be returned (random when omitted); when
 * opening (`enc === 0`) they are the ticket's first 16 bytes and the next 16.
 *
 * Returns, as in C: issue `<0` fatal, `0` no ticket, `>0` issue; accept `<0` fatal, `0` not
 * found (`SSL_TICKET_NO_DECRYPT`), `1` ok, `2` ok and renew.
 */
export type SSL_TICKET_KEY_EVP_CB = (
  s: SSL,
  key_name: Uint8Array,
  iv: Uint8Array,
  enc: number,
) => TicketKeyCallbackResult | Promise<TicketKeyCallbackResult>;

/**
 * `SSL_METHOD`: accepted by {@link SSL_CTX_new} for source compatibility and otherwise unused
 * (the engine is server-side, TLS 1.2 and TLS 1.3).
 */
export interface SSL_METHOD {
  /** The C function that returned it. */
  readonly name: string;
}

// ---------------------------------------------------------------------------------------------
// Constants (include/openssl/ssl.h.in, ssl/ssl_local.h, include/openssl/tls1.h)
// The ticket statuses and returns, the alert and the versions are the engine's own values
// (TicketStatus, DecryptTicketReturn, AlertDescription, src/session/versions.ts) under C's names.

/**
 * `SSL_TICKET_FATAL_ERR_MALLOC` (0): internal, never passed to `dec_cb`.
 *
 * @example
 * ```ts
 * import { SSL_TICKET_FATAL_ERR_MALLOC } from "@seed/session-tickets/openssl";
 * console.log(SSL_TICKET_FATAL_ERR_MALLOC); // 0
 * ```
 */
export const SSL_TICKET_FATAL_ERR_MALLOC: typeof TicketStatus.FATAL_ERR_MALLOC =
  TicketStatus.FATAL_ERR_MALLOC;
/**
 * `SSL_TICKET_FATAL_ERR_OTHER` (1): internal, never passed to `dec_cb`.
 *
 * @example
 * ```ts
 * import { SSL_TICKET_FATAL_ERR_OTHER } from "@seed/session-tickets/openssl";
 * console.log(SSL_TICKET_FATAL_ERR_OTHER); // 1
 * ```
 */
export const SSL_TICKET_FATAL_ERR_OTHER: typeof TicketStatus.FATAL_ERR_OTHER =
  TicketStatus.FATAL_ERR_OTHER;
/**
 * `SSL_TICKET_NONE` (2): no ticket; internal, never passed to `dec_cb`.
 *
 * @example
 * ```ts
 * import { SSL_TICKET_NONE } from "@seed/session-tickets/openssl";
 * console.log(SSL_TICKET_NONE); // 2
 * ```
 */
export const SSL_TICKET_NONE: typeof TicketStatus.NONE = TicketStatus.NONE;
/**
 * `SSL_TICKET_EMPTY` (3): an empty TLS 1.2 ticket (TLS 1.2 only).
 *
 * @example
 * ```ts
 * import { SSL_TICKET_EMPTY } from "@seed/session-tickets/openssl";
 * console.log(SSL_TICKET_EMPTY); // 3
 * ```
 */
export const SSL_TICKET_EMPTY: typeof TicketStatus.EMPTY = TicketStatus.EMPTY;
/**
 * `SSL_TICKET_NO_DECRYPT` (4): a ticket that could not be used.
 *
 * @example
 * ```ts
 * import { SSL_TICKET_NO_DECRYPT } from "@seed/session-tickets/openssl";
 * console.log(SSL_TICKET_NO_DECRYPT); // 4
 * ```
 */
export const SSL_TICKET_NO_DECRYPT: typeof TicketStatus.NO_DECRYPT = TicketStatus.NO_DECRYPT;
/**
 * `SSL_TICKET_SUCCESS` (5): decrypted; do not renew.
 *
 * @example
 * ```ts
 * import { SSL_TICKET_SUCCESS } from "@seed/session-tickets/openssl";
 * console.log(SSL_TICKET_SUCCESS); // 5
 * ```
 */
export const SSL_TICKET_SUCCESS: typeof TicketStatus.SUCCESS = TicketStatus.SUCCESS;
/**
 * `SSL_TICKET_SUCCESS_RENEW` (6): decrypted; renew.
 *
 * @example
 * ```ts
 * import { SSL_TICKET_SUCCESS_RENEW } from "@seed/session-tickets/openssl";
 * console.log(SSL_TICKET_SUCCESS_RENEW); // 6
 * ```
 */
export const SSL_TICKET_SUCCESS_RENEW: typeof TicketStatus.SUCCESS_RENEW =
  TicketStatus.SUCCESS_RENEW;

/**
 * `SSL_TICKET_RETURN_ABORT` (0): abort the handshake (alert 80).
 *
 * @example
 * ```ts
 * import { SSL_TICKET_RETURN_ABORT } from "@seed/session-tickets/openssl";
 * console.log(SSL_TICKET_RETURN_ABORT); // 0
 * ```
 */
export const SSL_TICKET_RETURN_ABORT: typeof DecryptTicketReturn.ABORT = DecryptTicketReturn.ABORT;
/**
 * `SSL_TICKET_RETURN_IGNORE` (1): do not use the ticket; do not send a new one.
 *
 * @example
 * ```ts
 * import { SSL_TICKET_RETURN_IGNORE } from "@seed/session-tickets/openssl";
 * console.log(SSL_TICKET_RETURN_IGNORE); // 1
 * ```
 */
export const SSL_TICKET_RETURN_IGNORE: typeof DecryptTicketReturn.IGNORE =
  DecryptTicketReturn.IGNORE;
/**
 * `SSL_TICKET_RETURN_IGNORE_RENEW` (2): do not use the ticket; send a new one.
 *
 * @example
 * ```ts
 * import { SSL_TICKET_RETURN_IGNORE_RENEW } from "@seed/session-tickets/openssl";
 * console.log(SSL_TICKET_RETURN_IGNORE_RENEW); // 2
 * ```
 */
export const SSL_TICKET_RETURN_IGNORE_RENEW: typeof DecryptTicketReturn.IGNORE_RENEW =
  DecryptTicketReturn.IGNORE_RENEW;
/**
 * `SSL_TICKET_RETURN_USE` (3): use the ticket; do not send a new one.
 *
 * @example
 * ```ts
 * import { SSL_TICKET_RETURN_USE } from "@seed/session-tickets/openssl";
 * console.log(SSL_TICKET_RETURN_USE); // 3
 * ```
 */
export const SSL_TICKET_RETURN_USE: typeof DecryptTicketReturn.USE = DecryptTicketReturn.USE;
/**
 * `SSL_TICKET_RETURN_USE_RENEW` (4): use the ticket and send a new one.
 *
 * @example
 * ```ts
 * import { SSL_TICKET_RETURN_USE_RENEW } from "@seed/session-tickets/openssl";
 * console.log(SSL_TICKET_RETURN_USE_RENEW); // 4
 * ```
 */
export const SSL_TICKET_RETURN_USE_RENEW: typeof DecryptTicketReturn.USE_RENEW =
  DecryptTicketReturn.USE_RENEW;

/**
 * `TLSEXT_KEYNAME_LENGTH` (16): the ticket key name length.
 *
 * @example
 * ```ts
 * import { TLSEXT_KEYNAME_LENGTH } from "@seed/session-tickets/openssl";
 * console.log(TLSEXT_KEYNAME_LENGTH); // 16
 * ```
 */
export const TLSEXT_KEYNAME_LENGTH = 16;
/**
 * `TLSEXT_TICK_KEY_LENGTH` (32): the HMAC and the AES ticket key lengths.
 *
 * @example
 * ```ts
 * import { TLSEXT_TICK_KEY_LENGTH } from "@seed/session-tickets/openssl";
 * console.log(TLSEXT_TICK_KEY_LENGTH); // 32
 * ```
 */
export const TLSEXT_TICK_KEY_LENGTH = 32;
/**
 * The length of the `SSL_CTX_set_tlsext_ticket_keys` block (80 = 16 + 32 + 32).
 *
 * @example
 * ```ts
 * import { TLSEXT_TICKET_KEYS_LENGTH } from "@seed/session-tickets/openssl";
 * console.log(TLSEXT_TICKET_KEYS_LENGTH); // 80
 * ```
 */
export const TLSEXT_TICKET_KEYS_LENGTH = 80;
/**
 * `SSL_OP_NO_TICKET` (`1 << 14`).
 *
 * @example
 * ```ts
 * import { SSL_OP_NO_TICKET } from "@seed/session-tickets/openssl";
 * console.log(SSL_OP_NO_TICKET); // 16384
 * ```
 */
export const SSL_OP_NO_TICKET = 1 << 14;
/**
 * `SSL_OP_NO_ANTI_REPLAY` (`1 << 24`).
 *
 * @example
 * ```ts
 * import { SSL_OP_NO_ANTI_REPLAY } from "@seed/session-tickets/openssl";
 * console.log(SSL_OP_NO_ANTI_REPLAY); // 16777216
 * ```
 */
export const SSL_OP_NO_ANTI_REPLAY = 1 << 24;
/**
 * `SSL_CTRL_GET_TLSEXT_TICKET_KEYS` (58).
 *
 * @example
 * ```ts
 * import { SSL_CTRL_GET_TLSEXT_TICKET_KEYS } from "@seed/session-tickets/openssl";
 * console.log(SSL_CTRL_GET_TLSEXT_TICKET_KEYS); // 58
 * ```
 */
export const SSL_CTRL_GET_TLSEXT_TICKET_KEYS = 58;
/**
 * `SSL_CTRL_SET_TLSEXT_TICKET_KEYS` (59).
 *
 * @example
 * ```ts
 * import { SSL_CTRL_SET_TLSEXT_TICKET_KEYS } from "@seed/session-tickets/openssl";
 * console.log(SSL_CTRL_SET_TLSEXT_TICKET_KEYS); // 59
 * ```
 */
export const SSL_CTRL_SET_TLSEXT_TICKET_KEYS = 59;
/**
 * `SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB` (72).
 *
 * @example
 * ```ts
 * import { SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB } from "@seed/session-tickets/openssl";
 * console.log(SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB); // 72
 * ```
 */
export const SSL_CTRL_SET_TLSEXT_TICKET_KEY_CB = 72;
// TLS1_2_VERSION (0x0303) and TLS1_3_VERSION (0x0304): the declarations of src/session/versions.ts.
export { TLS1_2_VERSION, TLS1_3_VERSION } from "./src/session/versions.ts";
/**
 * `SSL_SESSION_ASN1_VERSION` (1): the first field of every `SSL_SESSION` DER.
 *
 * @example
 * ```ts
 * import { SSL_SESSION_ASN1_VERSION } from "@seed/session-tickets/openssl";
 * console.log(SSL_SESSION_ASN1_VERSION); // 1
 * ```
 */
export const SSL_SESSION_ASN1_VERSION: number = SESSION_ASN1_VERSION;
/**
 * `SSL_MAX_MASTER_KEY_LENGTH` (48): the TLS 1.2 master secret length.
 *
 * @example
 * ```ts
 * import { SSL_MAX_MASTER_KEY_LENGTH } from "@seed/session-tickets/openssl";
 * console.log(SSL_MAX_MASTER_KEY_LENGTH); // 48
 * ```
 */
export const SSL_MAX_MASTER_KEY_LENGTH = 48;
/**
 * `SSL_AD_INTERNAL_ERROR` (80): the alert of every callback failure.
 *
 * @example
 * ```ts
 * import { SSL_AD_INTERNAL_ERROR } from "@seed/session-tickets/openssl";
 * console.log(SSL_AD_INTERNAL_ERROR); // 80
 * ```
 */
export const SSL_AD_INTERNAL_ERROR: typeof AlertDescription.INTERNAL_ERROR =
  AlertDescription.INTERNAL_ERROR;

// ---------------------------------------------------------------------------------------------
// SSL_CTX and SSL

const SERVER_METHOD: SSL_METHOD = Object.freeze({ name: "TLS_server_method" });

/**
 * `TLS_server_method()`: the method to pass to {@link SSL_CTX_new}.
 *
 * @example
 * ```ts
 * import { SSL_CTX_new, TLS_server_method } from "@seed/session-tickets/openssl";
 * const ctx = await SSL_CTX_new(TLS_server_method());
 * console.log(ctx.timeout); // 7200
 * ```
 */
export function TLS_server_method(): SSL_METHOD {
  return SERVER_METHOD;
}

/**
 * `SSL_CTX_new(meth)`: a server context with OpenSSL's defaults: random ticket keys (16-byte
 * name, 32-byte HMAC and AES keys), 2 tickets per TLS 1.3 handshake, a 7200 s timeout, no
 * callbacks (`ssl/ssl_lib.c:SSL_CTX_new_ex`).
 *
 * **Async** (unlike C): Web Crypto imports the ticket keys asynchronously, so write
 * `ctx = await SSL_CTX_new(TLS_server_method())`. `meth` is accepted for source compatibility
 * and ignored.
 *
 * @example
 * ```ts
 * import { SSL_CTX_get_num_tickets, SSL_CTX_new, TLS_server_method } from "@seed/session-tickets/openssl";
 * const ctx = await SSL_CTX_new(TLS_server_method());
 * console.log(SSL_CTX_get_num_tickets(ctx)); // 2
 * ```
 */
export async function SSL_CTX_new(_meth?: SSL_METHOD | null): Promise<SSL_CTX> {
  return await SslContext.create();
}

/**
 * `SSL_new(ctx)`: a server connection that inherits the context's settings (`num_tickets`).
 *
 * @example
 * ```ts
 * import { SSL_CTX_new, SSL_get_num_tickets, SSL_new } from "@seed/session-tickets/openssl";
 * const s = SSL_new(await SSL_CTX_new());
 * console.log(SSL_get_num_tickets(s)); // 2
 * ```
 */
export function SSL_new(ctx: SSL_CTX): SSL {
  return ctx.newConnection();
}

/**
 * `SSL_get_session(s)`: the connection's current session, or `null` before one exists. Inside
 * `gen_cb` it is the session being put into the ticket.
 *
 * @example
 * ```ts
 * import { SSL_CTX_new, SSL_get_session, SSL_new } from "@seed/session-tickets/openssl";
 * const s = SSL_new(await SSL_CTX_new());
 * console.log(SSL_get_session(s)); // null
 * ```
 */
export function SSL_get_session(s: SSL): SSL_SESSION | null {
  return s.session;
}

/**
 * `SSL_CTX_set_session_ticket_cb(ctx, gen_cb, dec_cb, arg)`: sets both callbacks (either may
 * be `null`) and the `arg` passed to them. Always returns 1 (`ssl/ssl_lib.c`).
 *
 * @example
 * ```ts
 * import { SSL_CTX_new, SSL_CTX_set_session_ticket_cb } from "@seed/session-tickets/openssl";
 * const ctx = await SSL_CTX_new();
 * console.log(SSL_CTX_set_session_ticket_cb(ctx, () => 1, null, null)); // 1
 * ```
 */
export function SSL_CTX_set_session_ticket_cb(
  ctx: SSL_CTX,
  gen_cb: SSL_CTX_generate_session_ticket_fn | null,
  dec_cb: SSL_CTX_decrypt_session_ticket_fn | null,
  arg: unknown,
): 1 {
  ctx.setSessionTicketCb(gen_cb, dec_cb, arg);
  return 1;
}

/**
 * `SSL_CTX_set_tlsext_ticket_keys(ctx, keys, keylen)`: replaces the context's single ticket
 * key with 80 bytes `name[16] | hmac[32] | aes[32]` (`ssl/s3_lib.c:ssl3_ctx_ctrl`,
 * `SSL_CTRL_SET_TLSEXT_TICKET_KEYS`). Resolves to 80 when `keys` is `null`, 0 when `keylen`
 * is not 80 (or `keys` is shorter than `keylen`), and 1 on success. On 0 the keys are
 * unchanged. `keylen` defaults to `keys.length`.
 *
 * **Async**: the keys are imported into Web Crypto (non-extractable).
 *
 * @example
 * ```ts
 * import { SSL_CTX_new, SSL_CTX_set_tlsext_ticket_keys } from "@seed/session-tickets/openssl";
 * const ctx = await SSL_CTX_new();
 * const keys = new Uint8Array(80).map((_, i) => i);
 * console.log(await SSL_CTX_set_tlsext_ticket_keys(ctx, keys, 80)); // 1
 * console.log(await SSL_CTX_set_tlsext_ticket_keys(ctx, keys, 48)); // 0
 * console.log(await SSL_CTX_set_tlsext_ticket_keys(ctx, null, 0)); // 80
 * ```
 */
export async function SSL_CTX_set_tlsext_ticket_keys(
  ctx: SSL_CTX,
  keys: Uint8Array | null,
  keylen?: number,
): Promise<number> {
  if (keys == null) return TLSEXT_TICKET_KEYS_LENGTH;
  const len = keylen ?? keys.length;
  if (len !== TLSEXT_TICKET_KEYS_LENGTH || keys.length < len) return 0;
  try {
    ctx.ticketSealer = await TicketKey.import(keys.subarray(0, len), "openssl-80");
  } catch {
    return 0;
  }
  return 1;
}

/**
 * `SSL_CTX_get_tlsext_ticket_keys(ctx, keys, keylen)`: copies the context's 80-byte key block
 * into `keys` (`SSL_CTRL_GET_TLSEXT_TICKET_KEYS`). Resolves to 80 when `keys` is `null`, 0
 * when `keylen` is not 80 or `keys` is shorter, and 1 when the keys were copied.
 *
 * Unlike C it can fail for a valid length: the keys live in Web Crypto, and
 * {@link SSL_CTX_new} and {@link SSL_CTX_set_tlsext_ticket_keys} import them non-extractable,
 * so this resolves to 0 and leaves `keys` untouched unless the context's key is an extractable
 * `"openssl"`-format {@link TicketKey} (e.g. `ctx.ticketSealer = await TicketKey.import(raw,
 * "openssl-80", { extractable: true })`).
 *
 * @example
 * ```ts
 * import { TicketKey } from "@seed/session-tickets";
 * import { SSL_CTX_get_tlsext_ticket_keys, SSL_CTX_new } from "@seed/session-tickets/openssl";
 * const ctx = await SSL_CTX_new();
 * console.log(await SSL_CTX_get_tlsext_ticket_keys(ctx, null, 0)); // 80
 * console.log(await SSL_CTX_get_tlsext_ticket_keys(ctx, new Uint8Array(80), 80)); // 0
 * const raw = new Uint8Array(80).map((_, i) => i);
 * ctx.ticketSealer = await TicketKey.import(raw, "openssl-80", { extractable: true });
 * const out = new Uint8Array(80);
 * console.log(await SSL_CTX_get_tlsext_ticket_keys(ctx, out, 80), out[79]); // 1 79
 * ```
 */
export async function SSL_CTX_get_tlsext_ticket_keys(
  ctx: SSL_CTX,
  keys: Uint8Array | null,
  keylen?: number,
): Promise<number> {
  if (keys == null) return TLSEXT_TICKET_KEYS_LENGTH;
  const len = keylen ?? keys.length;
  if (len !== TLSEXT_TICKET_KEYS_LENGTH || keys.length < len) return 0;
  const key = ctx.ticketSealer;
  if (!(key instanceof TicketKey) || !key.extractable || !key.layouts.includes("openssl-80")) {
    return 0;
  }
  let raw: Uint8Array;
  try {
    raw = await key.export("openssl-80");
  } catch {
    return 0;
  }
  keys.set(raw);
  raw.fill(0);
  return 1;
}

/**
 * `SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, cb)`: sets (or with `null` clears) the ticket key
 * callback, which then replaces the context's ticket keys for sealing and opening. Always
 * returns 1 (`ssl/s3_lib.c`). See {@link SSL_TICKET_KEY_EVP_CB} for the JS shape of the
 * callback (`enc` is 1 when sealing, 0 when opening).
 *
 * @example
 * ```ts
 * import { TicketKey } from "@seed/session-tickets";
 * import { SSL_CTX_new, SSL_CTX_set_tlsext_ticket_key_evp_cb } from "@seed/session-tickets/openssl";
 * const ctx = await SSL_CTX_new();
 * const key = await TicketKey.import(new Uint8Array(80), "openssl-80");
 * console.log(SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, () => ({ ret: 1, key }))); // 1
 * ```
 */
export function SSL_CTX_set_tlsext_ticket_key_evp_cb(
  ctx: SSL_CTX,
  cb: SSL_TICKET_KEY_EVP_CB | null,
): 1 {
  ctx.ticketKeyCb = cb === null ? null : (s, keyName, iv, enc) => cb(s, keyName, iv, enc ? 1 : 0);
  return 1;
}

function isCount(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
}

/**
 * `SSL_CTX_set_num_tickets(ctx, num_tickets)`: TLS 1.3 tickets per full handshake, inherited
 * by later {@link SSL_new} connections. Returns 1; returns 0 (nothing changed) when the value
 * is not a non-negative integer, which C's `size_t` cannot express.
 *
 * @example
 * ```ts
 * import { SSL_CTX_get_num_tickets, SSL_CTX_new, SSL_CTX_set_num_tickets } from "@seed/session-tickets/openssl";
 * const ctx = await SSL_CTX_new();
 * console.log(SSL_CTX_set_num_tickets(ctx, 5), SSL_CTX_get_num_tickets(ctx)); // 1 5
 * ```
 */
export function SSL_CTX_set_num_tickets(ctx: SSL_CTX, num_tickets: number): number {
  if (!isCount(num_tickets)) return 0;
  ctx.numTickets = num_tickets;
  return 1;
}

/**
 * `SSL_CTX_get_num_tickets(ctx)`: the context's ticket count (default 2).
 *
 * @example
 * ```ts
 * import { SSL_CTX_get_num_tickets, SSL_CTX_new } from "@seed/session-tickets/openssl";
 * console.log(SSL_CTX_get_num_tickets(await SSL_CTX_new())); // 2
 * ```
 */
export function SSL_CTX_get_num_tickets(ctx: SSL_CTX): number {
  return ctx.numTickets;
}

/**
 * `SSL_set_num_tickets(s, num_tickets)`: this connection's TLS 1.3 ticket count. Returns 1; 0
 * (nothing changed) when the value is not a non-negative integer.
 *
 * @example
 * ```ts
 * import { SSL_CTX_new, SSL_get_num_tickets, SSL_new, SSL_set_num_tickets } from "@seed/session-tickets/openssl";
 * const s = SSL_new(await SSL_CTX_new());
 * console.log(SSL_set_num_tickets(s, 0), SSL_get_num_tickets(s)); // 1 0
 * ```
 */
export function SSL_set_num_tickets(s: SSL, num_tickets: number): number {
  if (!isCount(num_tickets)) return 0;
  s.numTickets = num_tickets;
  return 1;
}

/**
 * `SSL_get_num_tickets(s)`: this connection's ticket count.
 *
 * @example
 * ```ts
 * import { SSL_CTX_new, SSL_get_num_tickets, SSL_new } from "@seed/session-tickets/openssl";
 * console.log(SSL_get_num_tickets(SSL_new(await SSL_CTX_new()))); // 2
 * ```
 */
export function SSL_get_num_tickets(s: SSL): number {
  return s.numTickets;
}

// Option bits other than the two the engine models, per context (OpenSSL keeps them all).
const otherOptions = new WeakMap<SSL_CTX, bigint>();
const MAPPED = BigInt(SSL_OP_NO_TICKET | SSL_OP_NO_ANTI_REPLAY);
const OPTION_MASK = (1n << 64n) - 1n;

function optionBits(op: number): bigint {
  return Number.isSafeInteger(op) && op >= 0 ? BigInt(op) & OPTION_MASK : 0n;
}

function getOptions(ctx: SSL_CTX): bigint {
  return (otherOptions.get(ctx) ?? 0n) |
    (ctx.noTicket ? BigInt(SSL_OP_NO_TICKET) : 0n) |
    (ctx.noAntiReplay ? BigInt(SSL_OP_NO_ANTI_REPLAY) : 0n);
}

function putOptions(ctx: SSL_CTX, bits: bigint): number {
  ctx.noTicket = (bits & BigInt(SSL_OP_NO_TICKET)) !== 0n;
  ctx.noAntiReplay = (bits & BigInt(SSL_OP_NO_ANTI_REPLAY)) !== 0n;
  otherOptions.set(ctx, bits & ~MAPPED);
  return Number(bits);
}

/**
 * `SSL_CTX_set_options(ctx, op)`: ORs `op` into the context's options and returns the new
 * options. {@link SSL_OP_NO_TICKET} and {@link SSL_OP_NO_ANTI_REPLAY} act on the engine
 * (`ctx.noTicket`, `ctx.noAntiReplay`); other bits are kept and reported but have no effect.
 * Options are non-negative integers below 2^53 (a negative or fractional `op` sets nothing).
 *
 * @example
 * ```ts
 * import { SSL_CTX_new, SSL_CTX_set_options, SSL_OP_NO_TICKET } from "@seed/session-tickets/openssl";
 * const ctx = await SSL_CTX_new();
 * console.log(SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET), ctx.noTicket); // 16384 true
 * ```
 */
export function SSL_CTX_set_options(ctx: SSL_CTX, op: number): number {
  return putOptions(ctx, getOptions(ctx) | optionBits(op));
}

/**
 * `SSL_CTX_clear_options(ctx, op)`: clears the bits of `op` and returns the new options.
 *
 * @example
 * ```ts
 * import { SSL_CTX_clear_options, SSL_CTX_new, SSL_CTX_set_options, SSL_OP_NO_TICKET } from "@seed/session-tickets/openssl";
 * const ctx = await SSL_CTX_new();
 * SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
 * console.log(SSL_CTX_clear_options(ctx, SSL_OP_NO_TICKET), ctx.noTicket); // 0 false
 * ```
 */
export function SSL_CTX_clear_options(ctx: SSL_CTX, op: number): number {
  return putOptions(ctx, getOptions(ctx) & ~optionBits(op));
}

/**
 * `SSL_CTX_get_options(ctx)`: the context's options.
 *
 * @example
 * ```ts
 * import { SSL_CTX_get_options, SSL_CTX_new } from "@seed/session-tickets/openssl";
 * const ctx = await SSL_CTX_new();
 * ctx.noAntiReplay = true;
 * console.log(SSL_CTX_get_options(ctx)); // 16777216
 * ```
 */
export function SSL_CTX_get_options(ctx: SSL_CTX): number {
  return Number(getOptions(ctx));
}

/**
 * `SSL_CTX_set_timeout(ctx, t)`: sets the session timeout in seconds for new sessions and
 * returns the previous value (7200 on a fresh context). A `t` that is not an integer leaves
 * the timeout unchanged and returns 0.
 *
 * @example
 * ```ts
 * import { SSL_CTX_get_timeout, SSL_CTX_new, SSL_CTX_set_timeout } from "@seed/session-tickets/openssl";
 * const ctx = await SSL_CTX_new();
 * console.log(SSL_CTX_set_timeout(ctx, 300), SSL_CTX_get_timeout(ctx)); // 7200 300
 * ```
 */
export function SSL_CTX_set_timeout(ctx: SSL_CTX, t: number): number {
  if (!Number.isSafeInteger(t)) return 0;
  const previous = ctx.timeout;
  ctx.timeout = t;
  return previous;
}

/**
 * `SSL_CTX_get_timeout(ctx)`: the session timeout in seconds (default 7200).
 *
 * @example
 * ```ts
 * import { SSL_CTX_get_timeout, SSL_CTX_new } from "@seed/session-tickets/openssl";
 * console.log(SSL_CTX_get_timeout(await SSL_CTX_new())); // 7200
 * ```
 */
export function SSL_CTX_get_timeout(ctx: SSL_CTX): number {
  return ctx.timeout;
}

/**
 * `SSL_CTX_set_security_level(ctx, level)`: at level 3 and above the default security
 * callback refuses `SSL_SECOP_TICKET`, so TLS ≤1.2 tickets are off (TLS 1.3 tickets stay).
 *
 * @example
 * ```ts
 * import { SSL_CTX_get_security_level, SSL_CTX_new, SSL_CTX_set_security_level } from "@seed/session-tickets/openssl";
 * const ctx = await SSL_CTX_new();
 * SSL_CTX_set_security_level(ctx, 3);
 * console.log(SSL_CTX_get_security_level(ctx)); // 3
 * ```
 */
export function SSL_CTX_set_security_level(ctx: SSL_CTX, level: number): void {
  ctx.securityLevel = level;
}

/**
 * `SSL_CTX_get_security_level(ctx)`: the context's security level (default 1).
 *
 * @example
 * ```ts
 * import { SSL_CTX_get_security_level, SSL_CTX_new } from "@seed/session-tickets/openssl";
 * console.log(SSL_CTX_get_security_level(await SSL_CTX_new())); // 1
 * ```
 */
export function SSL_CTX_get_security_level(ctx: SSL_CTX): number {
  return ctx.securityLevel;
}

/**
 * `SSL_new_session_ticket(s)`: queues one more TLS 1.3 ticket, sent by the next
 * `s.newSessionTickets(...)`. Returns 1, or 0 unless `s` is a TLS 1.3 connection whose
 * handshake tickets were already sent.
 *
 * @example
 * ```ts
 * import { SSL_CTX_new, SSL_new, SSL_new_session_ticket } from "@seed/session-tickets/openssl";
 * const s = SSL_new(await SSL_CTX_new());
 * console.log(SSL_new_session_ticket(s)); // 0 (no TLS 1.3 handshake yet)
 * ```
 */
export function SSL_new_session_ticket(s: SSL): number {
  return s.requestTicket() ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// SSL_SESSION

/**
 * `SSL_SESSION_set1_ticket_appdata(ss, data, len)`: copies the first `len` bytes of `data`
 * (a string is UTF-8 encoded first; `len` defaults to the whole) into the session, to be
 * placed into its tickets. `null` data or `len` 0 clears it. Returns 1; returns 0, leaving no
 * app data (as C does after a failed copy), when `len` is negative, fractional or longer than
 * `data` (C would read past the buffer).
 *
 * @example
 * ```ts
 * import { SSL_SESSION_get0_ticket_appdata, SSL_SESSION_set1_ticket_appdata } from "@seed/session-tickets/openssl";
 * import { SslSession } from "@seed/session-tickets";
 * const ss = new SslSession();
 * console.log(SSL_SESSION_set1_ticket_appdata(ss, "HelloWorld", 5)); // 1
 * console.log(new TextDecoder().decode(SSL_SESSION_get0_ticket_appdata(ss).data!)); // "Hello"
 * ```
 */
export function SSL_SESSION_set1_ticket_appdata(
  ss: SSL_SESSION,
  data: Uint8Array | string | null,
  len?: number,
): number {
  ss.setTicketAppData(null);
  if (data == null) return 1;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const n = len ?? bytes.length;
  if (!isCount(n) || n > bytes.length) return 0;
  ss.setTicketAppData(bytes.subarray(0, n));
  return 1;
}

/** What {@link SSL_SESSION_get0_ticket_appdata} returns in place of C's out-parameters. */
export interface TicketAppData {
  /** C's return value: always 1. */
  ret: 1;
  /** `*data`: the stored bytes (not a copy), or `null` when there is no app data. */
  data: Uint8Array | null;
  /** `*len`: the length, 0 when there is no app data. */
  len: number;
}

/**
 * `SSL_SESSION_get0_ticket_appdata(ss, &data, &len)`: the session's ticket app data. C's
 * out-parameters become the returned `{ ret, data, len }`: `ret` is always 1, `data` is the
 * stored bytes (internal memory, not a copy, as in C) or `null`, `len` is 0 when there is none.
 *
 * @example
 * ```ts
 * import { SSL_SESSION_get0_ticket_appdata } from "@seed/session-tickets/openssl";
 * import { SslSession } from "@seed/session-tickets";
 * const { ret, data, len } = SSL_SESSION_get0_ticket_appdata(new SslSession());
 * console.log(ret, data, len); // 1 null 0
 * ```
 */
export function SSL_SESSION_get0_ticket_appdata(ss: SSL_SESSION): TicketAppData {
  const data = ss.getTicketAppData();
  return { ret: 1, data, len: data?.length ?? 0 };
}

/**
 * `SSL_SESSION_get0_ticket(s, &tick, &len)` (a `void` function in C): the session's
 * client-side ticket as `{ tick, len }`; `tick` is `null` and `len` 0 when there is none.
 *
 * @example
 * ```ts
 * import { SSL_SESSION_get0_ticket } from "@seed/session-tickets/openssl";
 * import { SslSession } from "@seed/session-tickets";
 * console.log(SSL_SESSION_get0_ticket(new SslSession({ ticket: new Uint8Array(3) })).len); // 3
 * ```
 */
export function SSL_SESSION_get0_ticket(s: SSL_SESSION): { tick: Uint8Array | null; len: number } {
  const tick = s.ticket;
  return { tick, len: tick?.length ?? 0 };
}

/**
 * `SSL_SESSION_has_ticket(s)`: 1 when the session holds a non-empty ticket, else 0
 * (`ext.ticklen > 0 ? 1 : 0`).
 *
 * @example
 * ```ts
 * import { SSL_SESSION_has_ticket } from "@seed/session-tickets/openssl";
 * import { SslSession } from "@seed/session-tickets";
 * console.log(SSL_SESSION_has_ticket(new SslSession({ ticket: new Uint8Array(0) }))); // 0
 * ```
 */
export function SSL_SESSION_has_ticket(s: SSL_SESSION): number {
  return s.ticket !== null && s.ticket.length > 0 ? 1 : 0;
}

/**
 * `SSL_SESSION_get_ticket_lifetime_hint(s)`: the lifetime hint, in seconds, that came with
 * the session's ticket (`ext.tick_lifetime_hint`).
 *
 * @example
 * ```ts
 * import { SSL_SESSION_get_ticket_lifetime_hint } from "@seed/session-tickets/openssl";
 * import { SslSession } from "@seed/session-tickets";
 * console.log(SSL_SESSION_get_ticket_lifetime_hint(new SslSession({ ticketLifetimeHint: 7200 }))); // 7200
 * ```
 */
export function SSL_SESSION_get_ticket_lifetime_hint(s: SSL_SESSION): number {
  return s.ticketLifetimeHint;
}

/**
 * `SSL_SESSION_get_master_key(s, out, outlen)`: with `outlen` 0 returns the master key length;
 * otherwise copies `min(outlen, length)` bytes into `out` and returns that count
 * (`ssl/ssl_lib.c`). `outlen` defaults to `out.length` (0 for a `null` `out`) and is capped at
 * `out.length`.
 *
 * @example
 * ```ts
 * import { SSL_SESSION_get_master_key } from "@seed/session-tickets/openssl";
 * import { SslSession } from "@seed/session-tickets";
 * const s = new SslSession({ masterKey: new Uint8Array(48).fill(7) });
 * const out = new Uint8Array(16);
 * console.log(SSL_SESSION_get_master_key(s, null, 0), SSL_SESSION_get_master_key(s, out, 16)); // 48 16
 * ```
 */
export function SSL_SESSION_get_master_key(
  s: SSL_SESSION,
  out: Uint8Array | null,
  outlen?: number,
): number {
  const mk = s.masterKey;
  const want = out === null ? 0 : Math.min(isCount(outlen) ? outlen : out.length, out.length);
  if (want === 0) return mk.length;
  const n = Math.min(want, mk.length);
  out!.set(mk.subarray(0, n));
  return n;
}

/**
 * `i2d_SSL_SESSION(s, NULL)` followed by the write: the session's DER, byte for byte as
 * OpenSSL 3.0 writes it (`ssl/ssl_asn1.c`). C returns the length and writes through `pp`;
 * here the bytes are returned (their length is C's return value).
 *
 * @throws {DerError} When a field is outside OpenSSL's limits (e.g. a session id over 32
 * bytes), which C's structure cannot hold.
 *
 * @example
 * ```ts
 * import { i2d_SSL_SESSION, TLS1_2_VERSION } from "@seed/session-tickets/openssl";
 * import { SslSession } from "@seed/session-tickets";
 * const der = i2d_SSL_SESSION(new SslSession({ sslVersion: TLS1_2_VERSION, cipherId: 0xc030, time: 1, timeout: 7200 }));
 * console.log(der[0]); // 48
 * ```
 */
export function i2d_SSL_SESSION(s: SSL_SESSION): Uint8Array<ArrayBuffer> {
  return encodeSession(s);
}

/**
 * `d2i_SSL_SESSION(NULL, &p, length)`: decodes one `SSL_SESSION` from the start of `der`
 * (at most `length` bytes, default all) with libssl's rules, or returns `null` on anything
 * `d2i_SSL_SESSION` rejects. Like C, bytes after the SEQUENCE are not read (use
 * `decodeSession` to reject them, as `tls_decrypt_ticket` does). Never throws.
 *
 * @example
 * ```ts
 * import { d2i_SSL_SESSION, i2d_SSL_SESSION, TLS1_2_VERSION } from "@seed/session-tickets/openssl";
 * import { SslSession } from "@seed/session-tickets";
 * const der = i2d_SSL_SESSION(new SslSession({ sslVersion: TLS1_2_VERSION, cipherId: 0xc030, time: 1, timeout: 7200 }));
 * console.log(d2i_SSL_SESSION(der)?.cipherId, d2i_SSL_SESSION(der.subarray(0, 5))); // 49200 null
 * ```
 */
export function d2i_SSL_SESSION(der: Uint8Array | null, length?: number): SSL_SESSION | null {
  try {
    if (!(der instanceof Uint8Array)) return null;
    const n = length === undefined ? der.length : length;
    if (!isCount(n) || n === 0) return null;
    const element = new DerReader(der.subarray(0, Math.min(n, der.length))).skipElement();
    return decodeSession(element);
  } catch {
    return null;
  }
}
