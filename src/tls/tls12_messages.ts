/**
 * TLS 1.2 handshake messages the server writes and reads that TLS 1.3 does not have, or has in
 * another form (RFC 5246 §7.4, RFC 8422 §5.4): Certificate without request context or
 * per-certificate extensions, ServerKeyExchange for ECDHE with its signed parameters,
 * ServerHelloDone and ClientKeyExchange. The suites and the server's extension bodies are here
 * as data.
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "../server/alert.ts";
import { Writer } from "../server/wire/writer.ts";
import { handshakeMessage } from "./messages.ts";

/** TLS 1.2 handshake message types not in TLS 1.3 (RFC 5246 §7.4). */
export const HandshakeType12 = {
  /** server_key_exchange (12). */
  SERVER_KEY_EXCHANGE: 12,
  /** server_hello_done (14). */
  SERVER_HELLO_DONE: 14,
  /** client_key_exchange (16). */
  CLIENT_KEY_EXCHANGE: 16,
} as const;

/** Extension types of TLS 1.2 only. */
export const Ext12 = {
  /** ec_point_formats (11), RFC 8422 §5.1.2. */
  EC_POINT_FORMATS: 11,
  /** extended_master_secret (23), RFC 7627 §5.1. */
  EXTENDED_MASTER_SECRET: 23,
  /** session_ticket (35), RFC 5077 §3.2. */
  SESSION_TICKET: 35,
  /** renegotiation_info (0xff01), RFC 5746 §3.2. */
  RENEGOTIATION_INFO: 0xff01,
} as const;

/** TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 §3.3). */
export const EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;
/** TLS_FALLBACK_SCSV (RFC 7507 §2). */
export const FALLBACK_SCSV = 0x5600;

/** One TLS 1.2 cipher suite this server negotiates. */
export interface Tls12Suite {
  /** The 16-bit id. */
  readonly id: number;
  /** OpenSSL's name, as `openssl s_client` prints it. */
  readonly name: string;
  /** The PRF and transcript hash. */
  readonly hash: "SHA-256" | "SHA-384";
  /** The AES key length. */
  readonly keyLength: 16 | 32;
  /** The certificate the suite authenticates with. */
  readonly auth: "ECDSA" | "RSA";
}

/**
 * The TLS 1.2 suites (RFC 5289 §3.2): ECDHE key exchange, AES-GCM, ECDSA or RSA certificates.
 *
 * @example
 * ```ts
 * import { TLS12_SUITES } from "./tls12_messages.ts";
 * console.log(TLS12_SUITES.get(0xc02f)?.name); // ECDHE-RSA-AES128-GCM-SHA256
 * ```
 */
export const TLS12_SUITES: ReadonlyMap<number, Tls12Suite> = new Map(
  ([
    [0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256", "SHA-256", 16, "ECDSA"],
    [0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384", "SHA-384", 32, "ECDSA"],
    [0xc02f, "ECDHE-RSA-AES128-GCM-SHA256", "SHA-256", 16, "RSA"],
    [0xc030, "ECDHE-RSA-AES256-GCM-SHA384", "SHA-384", 32, "RSA"],
  ] as const).map(([id, name, hash, keyLength, auth]) => [
    id,
    Object.freeze({ id, name, hash, keyLength, auth }),
  ]),
);

/**
 * The TLS 1.2 Certificate message (RFC 5246 §7.4.2): `u24 list { u24 len, cert }*`.
 *
 * @example
 * ```ts
 * import { certificate12 } from "./tls12_messages.ts";
 * console.log(certificate12([new Uint8Array(3)]).length); // 4 + 3 + 3 + 3
 * ```
 */
export function certificate12(chain: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let list = 0;
  for (const c of chain) list += 3 + c.length;
  const w = new Writer(3 + list);
  w.u24(list);
  for (const c of chain) {
    w.u24(c.length);
    w.bytes(c);
  }
  return handshakeMessage(11, w.done());
}

/**
 * The signed part of an ECDHE ServerKeyExchange (RFC 8422 §5.4): `ServerECDHParams` =
 * `curve_type named_curve (3), u16 group, u8 len, point`.
 *
 * @example
 * ```ts
 * import { ecdheParams } from "./tls12_messages.ts";
 * console.log(Array.from(ecdheParams(29, new Uint8Array([7])))); // [3, 0, 29, 1, 7]
 * ```
 */
export function ecdheParams(group: number, publicKey: Uint8Array): Uint8Array<ArrayBuffer> {
  const w = new Writer(4 + publicKey.length);
  w.u8(3);
  w.u16(group);
  w.u8(publicKey.length);
  w.bytes(publicKey);
  return w.done();
}

/**
 * What a TLS 1.2 ServerKeyExchange signature covers (RFC 8422 §5.4, RFC 5246 §7.4.3):
 * `client_random + server_random + ServerECDHParams`.
 *
 * @example
 * ```ts
 * import { serverKeyExchangeSigned } from "./tls12_messages.ts";
 * console.log(serverKeyExchangeSigned(new Uint8Array(32), new Uint8Array(32), new Uint8Array(5)).length); // 69
 * ```
 */
export function serverKeyExchangeSigned(
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
  params: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(64 + params.length);
  out.set(clientRandom);
  out.set(serverRandom, 32);
  out.set(params, 64);
  return out;
}

/**
 * The ServerKeyExchange message: the parameters, then `u16 scheme, u16 len, signature`
 * (RFC 5246 §7.4.3 `digitally-signed`).
 *
 * @example
 * ```ts
 * import { serverKeyExchange } from "./tls12_messages.ts";
 * const m = serverKeyExchange(new Uint8Array(5), 0x0403, new Uint8Array(8));
 * console.log(m[0], m.length); // 12 21
 * ```
 */
export function serverKeyExchange(
  params: Uint8Array,
  scheme: number,
  signature: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const w = new Writer(params.length + 4 + signature.length);
  w.bytes(params);
  w.u16(scheme);
  w.u16(signature.length);
  w.bytes(signature);
  return handshakeMessage(HandshakeType12.SERVER_KEY_EXCHANGE, w.done());
}

/**
 * ServerHelloDone (RFC 5246 §7.4.5): an empty body.
 *
 * @example
 * ```ts
 * import { serverHelloDone } from "./tls12_messages.ts";
 * console.log(Array.from(serverHelloDone())); // [14, 0, 0, 0]
 * ```
 */
export function serverHelloDone(): Uint8Array<ArrayBuffer> {
  return handshakeMessage(HandshakeType12.SERVER_HELLO_DONE, new Uint8Array(0));
}

/**
 * The client's ECDHE public key from a ClientKeyExchange body (RFC 8422 §5.7):
 * `u8 len, point`, nothing after it.
 *
 * @throws {TlsAlert} decode_error (50) when the lengths do not match or the point is empty.
 *
 * @example
 * ```ts
 * import { parseClientKeyExchange } from "./tls12_messages.ts";
 * console.log(parseClientKeyExchange(new Uint8Array([2, 9, 9])).length); // 2
 * ```
 */
export function parseClientKeyExchange(body: Uint8Array): Uint8Array {
  if (body.length < 2 || body[0] !== body.length - 1) {
    throw new TlsAlert(AlertDescription.DECODE_ERROR, "ClientKeyExchange of the wrong length");
  }
  return body.subarray(1);
}
