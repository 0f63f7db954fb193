/**
 * Protocol version numbers, under OpenSSL's names and with its values
 * (`include/openssl/prov_ssl.h`): what `SslSession.sslVersion` holds, what a ClientHello
 * offers and what the TLS layer writes on the wire. Every other module takes them from here.
 *
 * @example
 * ```ts
 * import { TLS1_2_VERSION, TLS1_3_VERSION } from "./versions.ts";
 * import { SslSession } from "./ssl_session.ts";
 * const s = new SslSession({ sslVersion: TLS1_3_VERSION });
 * console.log(s.sslVersion === TLS1_3_VERSION, TLS1_2_VERSION < TLS1_3_VERSION); // true true
 * ```
 *
 * @module
 */

/**
 * `SSL3_VERSION` (0x0300): SSL 3.0, which has no session tickets (`s->version <= SSL3_VERSION`
 * turns them off in libssl, and the TLS 1.3 server refuses a ClientHello this old).
 *
 * @example
 * ```ts
 * import { SSL3_VERSION } from "./versions.ts";
 * console.log(SSL3_VERSION.toString(16)); // "300"
 * ```
 */
export const SSL3_VERSION = 0x0300;

/**
 * `TLS1_VERSION` (0x0301): TLS 1.0.
 *
 * @example
 * ```ts
 * import { TLS1_VERSION } from "./versions.ts";
 * console.log(TLS1_VERSION); // 769
 * ```
 */
export const TLS1_VERSION = 0x0301;

/**
 * `TLS1_1_VERSION` (0x0302): TLS 1.1.
 *
 * @example
 * ```ts
 * import { TLS1_1_VERSION } from "./versions.ts";
 * console.log(TLS1_1_VERSION); // 770
 * ```
 */
export const TLS1_1_VERSION = 0x0302;

/**
 * `TLS1_2_VERSION` (0x0303): TLS 1.2, also the `legacy_version` of TLS 1.3 messages and
 * records (RFC 8446 §4.1.2, §5.1).
 *
 * @example
 * ```ts
 * import { TLS1_2_VERSION } from "@seed/session-tickets/openssl";
 * import { SslSession } from "@seed/session-tickets";
 * console.log(TLS1_2_VERSION, new SslSession().sslVersion === TLS1_2_VERSION); // 771 true
 * ```
 */
export const TLS1_2_VERSION = 0x0303;

/**
 * `TLS1_3_VERSION` (0x0304): TLS 1.3, as the `supported_versions` extension carries it.
 *
 * @example
 * ```ts
 * import { TLS1_3_VERSION } from "@seed/session-tickets/openssl";
 * import { SslSession } from "@seed/session-tickets";
 * console.log(TLS1_3_VERSION, new SslSession({ sslVersion: TLS1_3_VERSION }).sslVersion); // 772 772
 * ```
 */
export const TLS1_3_VERSION = 0x0304;
