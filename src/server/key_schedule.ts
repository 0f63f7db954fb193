/**
 * The one step of the TLS 1.3 key schedule that ticket issuance needs: the per-ticket
 * resumption PSK, `HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce,
 * Hash.length)` (RFC 8446 §4.6.1; libssl `ssl/statem/statem_srvr.c:
 * tls_construct_new_session_ticket`), on the shared synchronous HKDF of `hkdf.ts`
 * (the TLS server's key schedule uses the same one).
 *
 * @module
 */

import { hkdfExpandLabel } from "./hkdf.ts";
import { AlertDescription, TlsAlert } from "./alert.ts";
import { hashLength, type TlsHash } from "./wire/cipher_suites.ts";

/**
 * The resumption PSK a TLS 1.3 ticket carries as its session's master key.
 *
 * @param resumptionMasterSecret The connection's resumption master secret, `Hash.length` bytes.
 * @param nonce The ticket nonce (libssl: the 8-byte big-endian ticket counter, `ticketNonce` in
 *   `wire/new_session_ticket.ts`).
 * @param hash The hash of the connection's cipher suite.
 * @returns `Hash.length` bytes (32 or 48). Secret: do not log.
 * @throws {TlsAlert} internal_error (80) if the secret is not `Hash.length` bytes.
 *
 * @example
 * ```ts
 * import { resumptionPsk } from "./key_schedule.ts";
 * const psk = resumptionPsk(new Uint8Array(48), new Uint8Array(8), "SHA-384");
 * console.log(psk.length); // 48
 * ```
 */
export function resumptionPsk(
  resumptionMasterSecret: Uint8Array,
  nonce: Uint8Array,
  hash: TlsHash,
): Uint8Array<ArrayBuffer> {
  if (hash !== "SHA-256" && hash !== "SHA-384") {
    throw new TlsAlert(AlertDescription.INTERNAL_ERROR, `unsupported hash ${String(hash)}`);
  }
  const hLen = hashLength(hash);
  if (!(resumptionMasterSecret instanceof Uint8Array) || resumptionMasterSecret.length !== hLen) {
    throw new TlsAlert(
      AlertDescription.INTERNAL_ERROR,
      `resumption master secret must be ${hLen} bytes for ${hash}`,
    );
  }
  return hkdfExpandLabel(hash, resumptionMasterSecret, "resumption", nonce, hLen);
}
