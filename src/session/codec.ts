/**
 * The `SSL_SESSION` DER codec, byte-compatible with OpenSSL 3.0's `i2d_SSL_SESSION` and
 * `d2i_SSL_SESSION` (`ssl/ssl_asn1.c`), and its PEM form (`SSL SESSION PARAMETERS`). The
 * OPTIONAL fields are written as the template table of `_template.ts` lists them, the table
 * the decoder (`_decode.ts`) reads by.
 *
 * @module
 */

import { DerError } from "../der/errors.ts";
import { DerWriter } from "../der/writer.ts";
import { CIPHER_NAMES } from "./_cipher_names.ts";
import { decodeSessionDer } from "./_decode.ts";
import {
  INT32,
  type IntKind,
  SESSION_ASN1_VERSION,
  SESSION_TEMPLATE,
  type TemplateRow,
} from "./_template.ts";
import { MAX_MASTER_KEY_LENGTH, MAX_SESSION_ID_LENGTH, type SslSession } from "./ssl_session.ts";

export { SESSION_ASN1_VERSION } from "./_template.ts";

function checkInt(field: string, v: number, kind: IntKind): void {
  if (!Number.isInteger(v) || v < kind.min || v > kind.max) {
    throw new DerError(`cannot encode ${field}: ${v} is not a ${kind.name} integer`);
  }
}

function checkBytes(field: string, b: Uint8Array, max: number): void {
  if (b.length > max) {
    throw new DerError(`cannot encode ${field}: ${b.length} bytes, OpenSSL allows at most ${max}`);
  }
}

function latin1(field: string, s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new DerError(`cannot encode ${field}: not an ASCII/Latin-1 string`);
    out[i] = c;
  }
  return out;
}

/**
 * Encodes a session exactly as OpenSSL 3.0's `i2d_SSL_SESSION` does: fields in template
 * order, zero-valued optional integers omitted, `[4]` session-id context and `[19]` kex group
 * always written, minimal INTEGERs. Throws {@link DerError} naming the field when a value is
 * outside OpenSSL's limits (session id over 32 bytes, master key over 512, ...).
 *
 * @example
 * ```ts
 * import { SslSession, encodeSession } from "@seed/session-tickets";
 * const s = new SslSession({ sslVersion: 0x0304, cipherId: 0x1302, time: 1, timeout: 7200 });
 * console.log(encodeSession(s)[0]); // 48 (SEQUENCE)
 * ```
 */
export function encodeSession(s: SslSession): Uint8Array<ArrayBuffer> {
  const w = new DerWriter(encodedSizeHint(s));
  writeSession(w, s);
  return w.toBytes();
}

const scratch = new DerWriter(4096);

/**
 * {@link encodeSession} into a buffer shared by every call: the view returned is valid only
 * until the next call. For the seal path, which hands it synchronously to Web Crypto (which
 * copies it) and so saves one allocation per ticket. The bytes hold the master key: the caller
 * zeroes them right after use, and a refused session leaves the buffer zeroed. Internal.
 */
export function encodeSessionTransient(s: SslSession): Uint8Array<ArrayBuffer> {
  scratch.reset();
  try {
    writeSession(scratch, s);
  } catch (e) {
    scratch.wipe(); // a refused field may follow the master key, already written
    throw e;
  }
  return scratch.toBytes();
}

/** Room for the integers and headers, plus the byte fields' lengths, as the template lists them. */
function encodedSizeHint(s: SslSession): number {
  let n = 160 + s.sessionId.length + s.masterKey.length;
  for (const row of SESSION_TEMPLATE) {
    switch (row.type) {
      case "octets":
      case "cstring":
      case "certificate":
      case "string":
        n += s[row.field]?.length ?? 0;
        break;
      case "appData":
        n += s.getTicketAppData()?.length ?? 0;
        break;
    }
  }
  return n;
}

function writeSession(w: DerWriter, s: SslSession): void {
  checkInt("sslVersion", s.sslVersion, INT32);
  if (!Number.isInteger(s.cipherId) || s.cipherId < 0 || s.cipherId > 0xffff) {
    throw new DerError(`cannot encode cipherId: ${s.cipherId} is not a 16-bit suite id`);
  }
  checkBytes("sessionId", s.sessionId, MAX_SESSION_ID_LENGTH);
  checkBytes("masterKey", s.masterKey, MAX_MASTER_KEY_LENGTH);
  // Written back to front: the last field first, each OPTIONAL one as its template row says.
  const mark = w.length;
  for (let i = SESSION_TEMPLATE.length - 1; i >= 0; i--) writeField(w, s, SESSION_TEMPLATE[i]);
  w.writeOctetString(s.masterKey);
  w.writeOctetString(s.sessionId);
  w.writeByte(s.cipherId & 0xff); // the 2-byte cipher OCTET STRING, written in place
  w.writeByte(s.cipherId >> 8);
  w.writeHeader(0x04, 2);
  w.writeInteger(s.sslVersion);
  w.writeInteger(SESSION_ASN1_VERSION);
  w.wrap(0x30, mark);
}

/**
 * Prepends the row's field of `s` as its `[n]` element, or nothing when the field is 0 or
 * absent and the row is not `always` written. Throws {@link DerError} when the value is
 * outside what OpenSSL can hold.
 */
function writeField(w: DerWriter, s: SslSession, row: TemplateRow): void {
  switch (row.type) {
    case "integer": {
      const v = s[row.field];
      checkInt(row.field, v, row.value);
      if (v !== 0 || row.always) w.writeExplicitInteger(row.tag, v);
      break;
    }
    case "octets":
    case "cstring": {
      const v = s[row.field];
      if (v != null) {
        checkBytes(row.field, v, row.maxLength);
        w.writeExplicitOctetString(row.tag, v);
      } else if (row.always) w.writeExplicitOctetString(row.tag, EMPTY);
      break;
    }
    case "string": {
      const v = s[row.field];
      if (v != null) w.writeExplicitOctetString(row.tag, latin1(row.field, v));
      else if (row.always) w.writeExplicitOctetString(row.tag, EMPTY);
      break;
    }
    case "byte": {
      const v = s[row.field];
      if (!Number.isInteger(v) || v < 0 || v > 0xff) {
        throw new DerError(`cannot encode ${row.field}: ${v} is not a byte`);
      }
      if (v !== 0 || row.always) w.writeExplicitOctetString(row.tag, Uint8Array.of(v));
      break;
    }
    case "certificate": {
      const v = s[row.field];
      if (v != null) {
        const mark = w.length;
        w.writeRaw(v);
        w.wrap(0xa0 | row.tag, mark);
      }
      break;
    }
    case "appData": {
      const v = s.getTicketAppData();
      if (v != null) w.writeExplicitOctetString(row.tag, v);
      break;
    }
    case "ignored": // i2d never writes it
      break;
  }
}

const EMPTY = new Uint8Array(0);

/** Options for {@link decodeSession}. */
export interface DecodeSessionOptions {
  /** The current time in seconds, used when the DER has no `[1]` time (default: the clock). */
  now?: number;
}

/**
 * Decodes a DER (or BER-length) `SSL_SESSION` exactly as OpenSSL's `d2i_SSL_SESSION` accepts
 * it, then rejects trailing bytes as `tls_decrypt_ticket` does. Lengths may be non-minimal or
 * indefinite; INTEGER contents must be minimal; fields must be in template order. Applies
 * d2i's normalisations: a missing or zero `time` becomes `now`, a missing or zero `timeout`
 * becomes 3 seconds. Anything libssl rejects throws {@link DerError}, naming the field.
 *
 * @example
 * ```ts
 * import { decodeSession, encodeSession, SslSession } from "@seed/session-tickets";
 * const der = encodeSession(new SslSession({ cipherId: 0xc030, time: 1, timeout: 300 }));
 * console.log(decodeSession(der).timeout); // 300
 * ```
 */
export function decodeSession(der: Uint8Array, options: DecodeSessionOptions = {}): SslSession {
  return decodeSessionDer(der.slice(), options.now);
}

/**
 * {@link decodeSession} of a buffer nobody else holds (a freshly decrypted ticket plaintext),
 * which it then owns: the session's byte fields are views into it. Internal.
 */
export function decodeOwnedSession(der: Uint8Array, now?: number): SslSession {
  return decodeSessionDer(der, now);
}

const PEM_LABEL = "SSL SESSION PARAMETERS";

/**
 * The PEM form `openssl sess_id` and `openssl s_client -sess_out` write
 * (`-----BEGIN SSL SESSION PARAMETERS-----`, base64 in 64-character lines).
 *
 * @example
 * ```ts
 * import { SslSession, sessionToPem } from "@seed/session-tickets";
 * const pem = sessionToPem(new SslSession({ cipherId: 0xc030, time: 1, timeout: 300 }));
 * console.log(pem.split("\n")[0]); // "-----BEGIN SSL SESSION PARAMETERS-----"
 * ```
 */
export function sessionToPem(s: SslSession): string {
  const b64 = encodeSession(s).toBase64();
  const lines = [`-----BEGIN ${PEM_LABEL}-----`];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  lines.push(`-----END ${PEM_LABEL}-----`, "");
  return lines.join("\n");
}

/**
 * Reads the first `SSL SESSION PARAMETERS` PEM block of `pem` and decodes it with
 * {@link decodeSession}. Throws {@link DerError} when there is no such block or its base64 is
 * malformed.
 *
 * @example
 * ```ts
 * import { SslSession, sessionFromPem, sessionToPem } from "@seed/session-tickets";
 * const pem = sessionToPem(new SslSession({ cipherId: 0xc030, time: 1, timeout: 300 }));
 * console.log(sessionFromPem(pem).cipherId === 0xc030); // true
 * ```
 */
export function sessionFromPem(pem: string, options: DecodeSessionOptions = {}): SslSession {
  const begin = `-----BEGIN ${PEM_LABEL}-----`;
  const end = `-----END ${PEM_LABEL}-----`;
  const i = pem.indexOf(begin);
  const j = i < 0 ? -1 : pem.indexOf(end, i + begin.length);
  if (i < 0 || j < 0) throw new DerError(`no "${begin}" ... "${end}" block found`);
  const body = pem.slice(i + begin.length, j).replace(/\s+/g, "");
  let der: Uint8Array;
  try {
    der = Uint8Array.fromBase64(body);
  } catch {
    throw new DerError("PEM body is not valid base64");
  }
  return decodeSession(der, options);
}

/**
 * OpenSSL's name for a cipher suite id (`SSL_CIPHER_get_name`), or `undefined` when libssl
 * does not know the id (such sessions fail `d2i_SSL_SESSION`).
 *
 * @example
 * ```ts
 * import { cipherName } from "@seed/session-tickets";
 * console.log(cipherName(0x1302)); // "TLS_AES_256_GCM_SHA384"
 * ```
 */
export function cipherName(id: number): string | undefined {
  return CIPHER_NAMES.get(id);
}
