/**
 * The small DER reader and writer under the `SSL_SESSION` codec: element headers and lengths as
 * libssl's `ASN1_get_object` reads them (BER length forms, high tag numbers, a nesting limit),
 * minimal INTEGERs, constructed OCTET STRINGs; every malformed input is a {@link DerError}.
 * Most applications never need it: `encodeSession` / `decodeSession` in the main entry use it.
 *
 * @example
 * ```ts
 * import { DerReader, DerWriter } from "@seed/session-tickets/der";
 * const w = new DerWriter();
 * w.writeExplicitInteger(2, 7200); // [2] EXPLICIT INTEGER, as the session's timeout
 * const r = new DerReader(w.toBytes());
 * const inner = r.enter(r.readHeader());
 * console.log(inner.readIntegerValue()); // 7200
 * ```
 *
 * @module
 */

export { DerError } from "./src/der/errors.ts";
export { type DerHeader, DerReader, MAX_DEPTH } from "./src/der/reader.ts";
export { DerWriter } from "./src/der/writer.ts";
