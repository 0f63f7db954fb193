/**
 * Negotiation rules the TLS 1.3 and TLS 1.2 handshakes share: the SNI context switch, ALPN
 * selection and its extension body (RFC 7301), and the signature scheme names reported in
 * `HandshakeInfo`.
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "../server/alert.ts";
import type { SslContext } from "../server/ssl_context.ts";
import type { ServerNameContexts } from "./handshake.ts";

/** Signature scheme names (RFC 8446 §4.2.3) of the schemes this server signs with. */
export const SIGNATURE_SCHEME_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0403, "ecdsa_secp256r1_sha256"],
  [0x0503, "ecdsa_secp384r1_sha384"],
  [0x0807, "ed25519"],
  [0x0804, "rsa_pss_rsae_sha256"],
  [0x0805, "rsa_pss_rsae_sha384"],
  [0x0401, "rsa_pkcs1_sha256"],
  [0x0501, "rsa_pkcs1_sha384"],
]);

/**
 * The context for the client's SNI name from the `serverNames` option, or `undefined`.
 *
 * @throws {TlsAlert} internal_error (80) when the servername function throws.
 */
export async function contextForName(
  names: ServerNameContexts | undefined,
  name: string | null,
): Promise<SslContext | undefined> {
  if (names === undefined || name === null) return undefined;
  if (typeof names === "function") {
    try {
      return await names(name);
    } catch {
      throw new TlsAlert(AlertDescription.INTERNAL_ERROR, "the servername callback failed");
    }
  }
  if (names instanceof Map) return names.get(name);
  return Object.hasOwn(names, name) ? (names as Record<string, SslContext>)[name] : undefined;
}

/**
 * The ALPN protocol to select (RFC 7301 §3.2): the server's first protocol the client offered;
 * `null` when either side has none.
 *
 * @throws {TlsAlert} no_application_protocol (120) when both have protocols but none in common.
 */
export function selectAlpn(offered: readonly string[] | null, ours: readonly string[]) {
  if (offered === null || ours.length === 0) return null;
  const chosen = ours.find((p) => offered.includes(p));
  if (chosen === undefined) {
    throw new TlsAlert(AlertDescription.NO_APPLICATION_PROTOCOL, "no ALPN protocol in common");
  }
  return chosen;
}

/** The ServerHello / EncryptedExtensions ALPN body for one protocol (RFC 7301 §3.1). */
export function encodeAlpn(name: string): Uint8Array {
  const out = new Uint8Array(3 + name.length);
  out[0] = 0;
  out[1] = name.length + 1;
  out[2] = name.length;
  for (let i = 0; i < name.length; i++) out[3 + i] = name.charCodeAt(i);
  return out;
}

/** A protocol name's bytes (ALPN names are read as Latin-1). */
export function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}
