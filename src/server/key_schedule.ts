/**
 * The pieces of the TLS 1.3 key schedule (RFC 8446 §7.1) that ticket issuance needs, on Web
 * Crypto only: HKDF-Expand (RFC 5869 §2.3) over HMAC, HKDF-Expand-Label with the `"tls13 "`
 * prefix (libssl `ssl/tls13_enc.c:tls13_hkdf_expand`), and the per-ticket resumption PSK
 * (`ssl/statem/statem_srvr.c:tls_construct_new_session_ticket`).
 *
 * Secrets may be passed as bytes or as an HMAC `CryptoKey` from {@link importHkdfSecret}, so a
 * connection that issues several tickets imports its resumption master secret once. Secret bytes
 * never appear in error messages.
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "../errors.ts";
import { hashLength, type TlsHash } from "./wire/cipher_suites.ts";

/** A PRK / traffic secret: raw bytes, or an HMAC key from {@link importHkdfSecret}. */
export type HkdfSecret = Uint8Array | CryptoKey;

const LABEL_PREFIX = "tls13 ";
const encoder = new TextEncoder();

function internal(message: string): TlsAlert {
  return new TlsAlert(AlertDescription.INTERNAL_ERROR, message);
}

function ownBuffer(b: Uint8Array): Uint8Array<ArrayBuffer> {
  return b.buffer instanceof ArrayBuffer ? b as Uint8Array<ArrayBuffer> : new Uint8Array(b);
}

/**
 * Imports secret bytes as a non-extractable HMAC key for {@link hkdfExpand} and friends.
 *
 * @param secret The secret (PRK), any non-zero length.
 * @param hash The suite hash.
 * @returns An HMAC `CryptoKey` usable for `sign`.
 * @throws {TlsAlert} internal_error (80) on an empty secret or an unknown hash.
 *
 * @example
 * ```ts
 * import { importHkdfSecret } from "./key_schedule.ts";
 * const key = await importHkdfSecret(new Uint8Array(32), "SHA-256");
 * console.log(key.extractable); // false
 * ```
 */
export async function importHkdfSecret(secret: Uint8Array, hash: TlsHash): Promise<CryptoKey> {
  if (!(secret instanceof Uint8Array) || secret.length === 0) {
    throw internal("HKDF secret must be a non-empty Uint8Array");
  }
  if (hash !== "SHA-256" && hash !== "SHA-384") throw internal(`unsupported hash ${hash}`);
  return await crypto.subtle.importKey(
    "raw",
    ownBuffer(secret),
    { name: "HMAC", hash },
    false,
    ["sign"],
  );
}

async function toKey(secret: HkdfSecret, hash: TlsHash): Promise<CryptoKey> {
  if (secret instanceof Uint8Array) return await importHkdfSecret(secret, hash);
  const alg = secret?.algorithm as HmacKeyAlgorithm | undefined;
  if (alg?.name !== "HMAC" || alg.hash?.name !== hash || !secret.usages.includes("sign")) {
    throw internal(`HKDF secret key must be an HMAC ${hash} signing key`);
  }
  return secret;
}

/**
 * HKDF-Expand (RFC 5869 §2.3): `T(i) = HMAC(PRK, T(i-1) | info | i)`, output the first `length`
 * bytes of `T(1) | T(2) | …`.
 *
 * @param prk The pseudorandom key (bytes or an HMAC key for `hash`).
 * @param info Context information (any length).
 * @param length Output length, 1 … 255·Hash.length.
 * @param hash `"SHA-256"` or `"SHA-384"`.
 * @returns `length` bytes.
 * @throws {TlsAlert} internal_error (80) on a bad length, hash or key.
 *
 * @example
 * ```ts
 * import { hkdfExpand } from "./key_schedule.ts";
 * const okm = await hkdfExpand(new Uint8Array(32).fill(1), new Uint8Array(0), 42, "SHA-256");
 * console.log(okm.length); // 42
 * ```
 */
export async function hkdfExpand(
  prk: HkdfSecret,
  info: Uint8Array,
  length: number,
  hash: TlsHash,
): Promise<Uint8Array<ArrayBuffer>> {
  if (hash !== "SHA-256" && hash !== "SHA-384") throw internal(`unsupported hash ${hash}`);
  const hLen = hashLength(hash);
  if (!Number.isInteger(length) || length < 1 || length > 255 * hLen) {
    throw internal(`HKDF-Expand length must be 1..${255 * hLen}`);
  }
  if (!(info instanceof Uint8Array)) throw internal("HKDF info must be a Uint8Array");
  const key = await toKey(prk, hash);
  const out = new Uint8Array(length);
  // Block input: T(i-1) | info | i. T(0) is empty, so the first block starts at hLen.
  const block = new Uint8Array(hLen + info.length + 1);
  block.set(info, hLen);
  let start: number = hLen;
  for (let i = 1, done = 0; done < length; i++) {
    block[block.length - 1] = i;
    const t = new Uint8Array(await crypto.subtle.sign("HMAC", key, block.subarray(start)));
    out.set(t.subarray(0, Math.min(hLen, length - done)), done);
    done += hLen;
    block.set(t, 0);
    start = 0;
  }
  return out;
}

/**
 * The `HkdfLabel` structure of RFC 8446 §7.1: `u16 length | u8 len, "tls13 " + label |
 * u8 len, context`.
 *
 * @param label The label without the `"tls13 "` prefix (at most 249 bytes, libssl's
 *   `TLS13_MAX_LABEL_LEN`).
 * @param context The context (at most 255 bytes), e.g. a ticket nonce or transcript hash.
 * @param length The requested output length (uint16).
 * @returns The encoded `HkdfLabel` (the HKDF `info`).
 * @throws {TlsAlert} internal_error (80) when a field does not fit.
 *
 * @example
 * ```ts
 * import { hkdfLabel } from "./key_schedule.ts";
 * console.log(Array.from(hkdfLabel("iv", new Uint8Array(0), 12)));
 * // [0, 12, 8, 116, 108, 115, 49, 51, 32, 105, 118, 0]
 * ```
 */
export function hkdfLabel(
  label: string,
  context: Uint8Array,
  length: number,
): Uint8Array<ArrayBuffer> {
  const full = encoder.encode(LABEL_PREFIX + label);
  if (full.length > 255) throw internal("HKDF label longer than 249 bytes");
  if (!(context instanceof Uint8Array) || context.length > 255) {
    throw internal("HKDF-Expand-Label context must be a Uint8Array of at most 255 bytes");
  }
  if (!Number.isInteger(length) || length < 0 || length > 0xffff) {
    throw internal("HKDF-Expand-Label length must be a uint16");
  }
  const out = new Uint8Array(2 + 1 + full.length + 1 + context.length);
  out[0] = length >>> 8;
  out[1] = length & 0xff;
  out[2] = full.length;
  out.set(full, 3);
  out[3 + full.length] = context.length;
  out.set(context, 4 + full.length);
  return out;
}

/**
 * HKDF-Expand-Label (RFC 8446 §7.1): `HKDF-Expand(secret, HkdfLabel(label, context, length),
 * length)` with the `"tls13 "` prefix.
 *
 * @param secret The secret (bytes or an HMAC key for `hash`).
 * @param label The label without prefix, e.g. `"resumption"`.
 * @param context The context bytes (≤ 255).
 * @param length Output length.
 * @param hash The suite hash.
 * @returns `length` bytes.
 * @throws {TlsAlert} internal_error (80) on bad arguments.
 *
 * @example
 * ```ts
 * import { hkdfExpandLabel } from "./key_schedule.ts";
 * const iv = await hkdfExpandLabel(new Uint8Array(32), "iv", new Uint8Array(0), 12, "SHA-256");
 * console.log(iv.length); // 12
 * ```
 */
export async function hkdfExpandLabel(
  secret: HkdfSecret,
  label: string,
  context: Uint8Array,
  length: number,
  hash: TlsHash,
): Promise<Uint8Array<ArrayBuffer>> {
  return await hkdfExpand(secret, hkdfLabel(label, context, length), length, hash);
}

/**
 * The resumption PSK a TLS 1.3 ticket carries as its session's master key:
 * `HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length)`
 * (RFC 8446 §4.6.1; libssl `tls_construct_new_session_ticket`).
 *
 * @param resumptionMasterSecret The connection's resumption master secret: `Hash.length` bytes,
 *   or an HMAC key from {@link importHkdfSecret} (import it once per connection).
 * @param nonce The ticket nonce (libssl: the 8-byte big-endian ticket counter, `ticketNonce` in `wire/new_session_ticket.ts`).
 * @param hash The hash of the connection's cipher suite.
 * @returns `Hash.length` bytes (32 or 48). Secret: do not log.
 * @throws {TlsAlert} internal_error (80) if the secret's length is not `Hash.length`.
 *
 * @example
 * ```ts
 * import { resumptionPsk } from "./key_schedule.ts";
 * const psk = await resumptionPsk(new Uint8Array(48), new Uint8Array(8), "SHA-384");
 * console.log(psk.length); // 48
 * ```
 */
export async function resumptionPsk(
  resumptionMasterSecret: HkdfSecret,
  nonce: Uint8Array,
  hash: TlsHash,
): Promise<Uint8Array<ArrayBuffer>> {
  if (hash !== "SHA-256" && hash !== "SHA-384") throw internal(`unsupported hash ${hash}`);
  const hLen = hashLength(hash);
  const bits = resumptionMasterSecret instanceof Uint8Array
    ? resumptionMasterSecret.length * 8
    : (resumptionMasterSecret?.algorithm as HmacKeyAlgorithm | undefined)?.length;
  if (bits !== hLen * 8) {
    throw internal(`resumption master secret must be ${hLen} bytes for ${hash}`);
  }
  return await hkdfExpandLabel(resumptionMasterSecret, "resumption", nonce, hLen, hash);
}
