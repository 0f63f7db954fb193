/**
 * Facts about TLS 1.3 cipher suites that the ticket engine needs: the hash each suite uses (it
 * sets the resumption PSK length and decides whether a ticket's session can serve the negotiated
 * suite, as in `ssl/statem/extensions_srvr.c:tls_parse_ctos_psk`). The suites are the five that
 * libssl 3.0 knows (`ssl/s3_lib.c:tls13_ciphers`).
 *
 * @module
 */

/** A hash used by a TLS 1.3 cipher suite, named as `crypto.subtle` names it. */
export type TlsHash = "SHA-256" | "SHA-384";

/** One TLS 1.3 cipher suite. */
export interface Tls13CipherSuite {
  /** The 16-bit suite id, e.g. `0x1302`. */
  readonly id: number;
  /** The IANA / OpenSSL name, e.g. `"TLS_AES_256_GCM_SHA384"`. */
  readonly name: string;
  /** The suite's hash (HKDF and transcript hash). */
  readonly hash: TlsHash;
  /** `Hash.length` in bytes: 32 or 48. Also the resumption PSK (master key) length. */
  readonly hashLength: 32 | 48;
}

function suite(id: number, name: string, hash: TlsHash): Tls13CipherSuite {
  return Object.freeze({ id, name, hash, hashLength: hash === "SHA-384" ? 48 : 32 });
}

/**
 * The TLS 1.3 cipher suites libssl 3.0 implements, by id.
 *
 * @example
 * ```ts
 * import { TLS13_CIPHER_SUITES } from "./cipher_suites.ts";
 * console.log(TLS13_CIPHER_SUITES.get(0x1302)?.hash); // "SHA-384"
 * ```
 */
export const TLS13_CIPHER_SUITES: ReadonlyMap<number, Tls13CipherSuite> = new Map(
  [
    suite(0x1301, "TLS_AES_128_GCM_SHA256", "SHA-256"),
    suite(0x1302, "TLS_AES_256_GCM_SHA384", "SHA-384"),
    suite(0x1303, "TLS_CHACHA20_POLY1305_SHA256", "SHA-256"),
    suite(0x1304, "TLS_AES_128_CCM_SHA256", "SHA-256"),
    suite(0x1305, "TLS_AES_128_CCM_8_SHA256", "SHA-256"),
  ].map((s) => [s.id, s]),
);

/**
 * Whether a 16-bit cipher suite id is a TLS 1.3 suite libssl knows.
 *
 * @param id The suite id, e.g. an `SslSession`'s `cipherId`.
 * @returns `true` for 0x1301–0x1305.
 *
 * @example
 * ```ts
 * import { isTls13Suite } from "./cipher_suites.ts";
 * console.log(isTls13Suite(0x1301), isTls13Suite(0xc030)); // true false
 * ```
 */
export function isTls13Suite(id: number): boolean {
  return TLS13_CIPHER_SUITES.has(id);
}

/**
 * The TLS 1.3 suite with this id, or `undefined`.
 *
 * @param id The 16-bit suite id.
 * @returns The suite's facts.
 *
 * @example
 * ```ts
 * import { tls13Suite } from "./cipher_suites.ts";
 * console.log(tls13Suite(0x1303)?.hashLength); // 32
 * ```
 */
export function tls13Suite(id: number): Tls13CipherSuite | undefined {
  return TLS13_CIPHER_SUITES.get(id);
}

/**
 * The output length of a {@link TlsHash} in bytes.
 *
 * @param hash `"SHA-256"` or `"SHA-384"`.
 * @returns 32 or 48.
 *
 * @example
 * ```ts
 * import { hashLength } from "./cipher_suites.ts";
 * console.log(hashLength("SHA-384")); // 48
 * ```
 */
export function hashLength(hash: TlsHash): 32 | 48 {
  return hash === "SHA-384" ? 48 : 32;
}
