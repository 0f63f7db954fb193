// Shared reader for `{ u16 type, u16 len, body }*` lists (ssl/statem/extensions.c:
// tls_collect_extensions), used by the ClientHello and NewSessionTicket decoders.

import { AlertDescription, TlsAlert } from "../alert.ts";
import type { Reader } from "./reader.ts";

/** `pre_shared_key` (41), which must come last in a ClientHello. */
const PRE_SHARED_KEY = 41;

/**
 * Reads entries until `r` is exhausted. Truncation is decode_error (50); a repeated type, or (in
 * a ClientHello) pre_shared_key before the end, is illegal_parameter (47).
 */
export function readExtensionEntries(
  r: Reader,
  clientHello: boolean,
): Map<number, Uint8Array<ArrayBuffer>> {
  const out = new Map<number, Uint8Array<ArrayBuffer>>();
  while (r.remaining > 0) {
    const type = r.u16("extension type");
    const body = r.bytes(r.u16("extension length"), `extension ${type} body`);
    if (out.has(type)) {
      throw new TlsAlert(
        AlertDescription.ILLEGAL_PARAMETER,
        `${r.what}: duplicate extension ${type}`,
      );
    }
    if (clientHello && type === PRE_SHARED_KEY && r.remaining !== 0) {
      throw new TlsAlert(
        AlertDescription.ILLEGAL_PARAMETER,
        `${r.what}: pre_shared_key is not the last extension`,
      );
    }
    out.set(type, body);
  }
  return out;
}
