/**
 * TLS 1.3 handshake messages as the server reads and writes them (RFC 8446 §4): the
 * ClientHello and its extensions, read with the RFC's alerts, and the server's ServerHello,
 * HelloRetryRequest, EncryptedExtensions, Certificate, CertificateVerify, Finished and
 * KeyUpdate. Handshake messages are reassembled across records within a size bound.
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "../server/alert.ts";
import { parseExtensions } from "../server/wire/extensions.ts";
import { Reader } from "../server/wire/reader.ts";
import { Writer } from "../server/wire/writer.ts";
import { TLS1_2_VERSION, TLS1_3_VERSION } from "../session/versions.ts";

/**
 * Handshake message types (RFC 8446 §4).
 *
 * @example
 * ```ts
 * import { HandshakeType } from "./messages.ts";
 * console.log(HandshakeType.FINISHED); // 20
 * ```
 */
export const HandshakeType = {
  /** client_hello (1). */
  CLIENT_HELLO: 1,
  /** server_hello (2), also HelloRetryRequest. */
  SERVER_HELLO: 2,
  /** new_session_ticket (4). */
  NEW_SESSION_TICKET: 4,
  /** end_of_early_data (5). */
  END_OF_EARLY_DATA: 5,
  /** encrypted_extensions (8). */
  ENCRYPTED_EXTENSIONS: 8,
  /** certificate (11). */
  CERTIFICATE: 11,
  /** certificate_verify (15). */
  CERTIFICATE_VERIFY: 15,
  /** finished (20). */
  FINISHED: 20,
  /** key_update (24). */
  KEY_UPDATE: 24,
  /** message_hash (254): stands for ClientHello1 in the transcript after a HelloRetryRequest. */
  MESSAGE_HASH: 254,
} as const;

/**
 * Extension types the server reads or writes (IANA "TLS ExtensionType Values").
 *
 * @example
 * ```ts
 * import { Ext } from "./messages.ts";
 * console.log(Ext.KEY_SHARE); // 51
 * ```
 */
export const Ext = {
  /** server_name (0), RFC 6066. */
  SERVER_NAME: 0,
  /** supported_groups (10). */
  SUPPORTED_GROUPS: 10,
  /** signature_algorithms (13). */
  SIGNATURE_ALGORITHMS: 13,
  /** application_layer_protocol_negotiation (16), RFC 7301. */
  ALPN: 16,
  /** pre_shared_key (41). */
  PRE_SHARED_KEY: 41,
  /** early_data (42). */
  EARLY_DATA: 42,
  /** supported_versions (43). */
  SUPPORTED_VERSIONS: 43,
  /** cookie (44). */
  COOKIE: 44,
  /** psk_key_exchange_modes (45). */
  PSK_KEY_EXCHANGE_MODES: 45,
  /** key_share (51). */
  KEY_SHARE: 51,
} as const;

/** TLS 1.3 on the wire: {@link TLS1_3_VERSION}. */
export const TLS13: typeof TLS1_3_VERSION = TLS1_3_VERSION;
/** The legacy version field of TLS 1.3 messages and records: {@link TLS1_2_VERSION}. */
export const LEGACY_VERSION: typeof TLS1_2_VERSION = TLS1_2_VERSION;
/** The largest ClientHello accepted (bytes of body); a larger one is refused. */
export const MAX_CLIENT_HELLO_LENGTH = 65536;
/** The largest other handshake message a client may send the server (Finished, KeyUpdate). */
export const MAX_CLIENT_MESSAGE_LENGTH = 1024;

/**
 * The special ServerHello.random of a HelloRetryRequest: SHA-256("HelloRetryRequest")
 * (RFC 8446 §4.1.3).
 */
export const HELLO_RETRY_REQUEST_RANDOM: Uint8Array<ArrayBuffer> = Uint8Array.fromHex(
  "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c",
);

const decodeError = (why: string) => new TlsAlert(AlertDescription.DECODE_ERROR, why);
const illegal = (why: string) => new TlsAlert(AlertDescription.ILLEGAL_PARAMETER, why);

/** A ClientHello as read by {@link parseClientHello}. */
export interface ClientHello {
  /** The whole handshake message, header included (for the transcript). */
  message: Uint8Array;
  /** `legacy_version`. */
  legacyVersion: number;
  /** `random`, 32 bytes. */
  random: Uint8Array;
  /** `legacy_session_id`, 0 to 32 bytes (echoed in the ServerHello). */
  legacySessionId: Uint8Array;
  /** `cipher_suites`, in the client's order. */
  cipherSuites: number[];
  /** `legacy_compression_methods`. */
  compressionMethods: Uint8Array;
  /** Extension type → body, in the order received. */
  extensions: Map<number, Uint8Array>;
}

/**
 * Reads a ClientHello message (RFC 8446 §4.1.2): the fixed fields and the extensions block.
 * Duplicate extensions and a `pre_shared_key` that is not last are illegal_parameter (47);
 * every length error, an odd or empty cipher suite list, a session id over 32 bytes and
 * trailing bytes are decode_error (50).
 *
 * @param message The handshake message, 4-byte header included.
 * @returns The parsed message.
 * @throws {TlsAlert} 50 or 47 as above.
 *
 * @example
 * ```ts
 * import { parseClientHello } from "./messages.ts";
 * const body = [3, 3, ...new Uint8Array(32), 0, 0, 2, 0x13, 0x01, 1, 0, 0, 0];
 * const ch = parseClientHello(new Uint8Array([1, 0, 0, body.length, ...body]));
 * console.log(ch.cipherSuites, ch.extensions.size); // [ 4865 ] 0
 * ```
 */
export function parseClientHello(message: Uint8Array): ClientHello {
  const r = new Reader(message, "ClientHello", 4);
  if (message.length < 4 || message[0] !== HandshakeType.CLIENT_HELLO) {
    throw decodeError("not a ClientHello");
  }
  const legacyVersion = r.u16("legacy_version");
  const random = r.bytes(32, "random");
  const sid = r.prefixed8("legacy_session_id");
  if (sid.remaining > 32) sid.fail("legacy_session_id over 32 bytes");
  const legacySessionId = sid.bytes(sid.remaining, "legacy_session_id");
  const suites = r.prefixed16("cipher_suites");
  if (suites.remaining === 0 || suites.remaining % 2 !== 0) {
    suites.fail("cipher_suites length is zero or odd");
  }
  const cipherSuites: number[] = [];
  while (suites.remaining > 0) cipherSuites.push(suites.u16("cipher suite"));
  const comp = r.prefixed8("legacy_compression_methods");
  if (comp.remaining === 0) comp.fail("no compression methods");
  const compressionMethods = comp.bytes(comp.remaining, "legacy_compression_methods");
  const extensions = parseExtensions(message.subarray(r.pos), { clientHello: true });
  return {
    message,
    legacyVersion,
    random,
    legacySessionId,
    cipherSuites,
    compressionMethods,
    extensions,
  };
}

/** A u16 list with a one- or two-byte length (supported_versions, groups, algorithms). */
function u16List(body: Uint8Array, what: string, lengthBytes: 1 | 2): number[] {
  const r = new Reader(body, what);
  const list = lengthBytes === 1 ? r.prefixed8(what) : r.prefixed16(what);
  r.expectEnd(what);
  if (list.remaining === 0 || list.remaining % 2 !== 0) list.fail("empty or odd list");
  const out: number[] = [];
  while (list.remaining > 0) out.push(list.u16(what));
  return out;
}

/**
 * `supported_versions` in a ClientHello (RFC 8446 §4.2.1): `u8 len, versions`.
 *
 * @example
 * ```ts
 * import { parseSupportedVersions } from "./messages.ts";
 * console.log(parseSupportedVersions(new Uint8Array([4, 3, 4, 3, 3]))); // [ 772, 771 ]
 * ```
 */
export function parseSupportedVersions(body: Uint8Array): number[] {
  return u16List(body, "supported_versions", 1);
}

/**
 * `supported_groups` (RFC 8446 §4.2.7) or `signature_algorithms` (§4.2.3): `u16 len, u16s`.
 *
 * @example
 * ```ts
 * import { parseU16List } from "./messages.ts";
 * console.log(parseU16List(new Uint8Array([0, 2, 0, 0x1d]), "supported_groups")); // [ 29 ]
 * ```
 */
export function parseU16List(body: Uint8Array, what: string): number[] {
  return u16List(body, what, 2);
}

/** One `KeyShareEntry`. */
export interface KeyShareEntry {
  /** The named group. */
  group: number;
  /** The `key_exchange` bytes. */
  keyExchange: Uint8Array;
}

/**
 * The ClientHello `key_share` (RFC 8446 §4.2.8): `u16 len { u16 group, u16 len, key }*`. An
 * empty key or a group offered twice is illegal_parameter; lengths are decode_error.
 *
 * @example
 * ```ts
 * import { parseKeyShares } from "./messages.ts";
 * const shares = parseKeyShares(new Uint8Array([0, 6, 0, 0x1d, 0, 2, 9, 9]));
 * console.log(shares[0].group, shares[0].keyExchange.length); // 29 2
 * ```
 */
export function parseKeyShares(body: Uint8Array): KeyShareEntry[] {
  const r = new Reader(body, "key_share");
  const list = r.prefixed16("client_shares");
  r.expectEnd("key_share");
  const out: KeyShareEntry[] = [];
  while (list.remaining > 0) {
    const group = list.u16("group");
    const keyExchange = list.bytes(list.u16("key_exchange length"), "key_exchange");
    if (keyExchange.length === 0) throw illegal("empty key_exchange");
    if (out.some((s) => s.group === group)) throw illegal(`key_share repeats group ${group}`);
    out.push({ group, keyExchange });
  }
  return out;
}

/**
 * The host name of a ClientHello `server_name` (RFC 6066 §3): the first `host_name` entry,
 * lower-cased. An empty name, a name with a NUL or non-ASCII byte, or a malformed list is
 * decode_error.
 *
 * @example
 * ```ts
 * import { parseServerName } from "./messages.ts";
 * const name = new TextEncoder().encode("Example.COM");
 * const body = new Uint8Array([0, name.length + 3, 0, 0, name.length, ...name]);
 * console.log(parseServerName(body)); // example.com
 * ```
 */
export function parseServerName(body: Uint8Array): string | null {
  const r = new Reader(body, "server_name");
  const list = r.prefixed16("server_name_list");
  r.expectEnd("server_name");
  if (list.remaining === 0) list.fail("empty server_name_list");
  let host: string | null = null;
  while (list.remaining > 0) {
    const type = list.u8("name_type");
    const name = list.prefixed16("host_name");
    if (type !== 0 || host !== null) continue;
    if (name.remaining === 0) name.fail("empty host_name");
    let s = "";
    while (name.remaining > 0) {
      const c = name.u8("host_name");
      if (c === 0 || c > 0x7e) name.fail("host_name is not printable ASCII");
      s += String.fromCharCode(c);
    }
    host = s.toLowerCase();
  }
  return host;
}

/**
 * The protocols of a ClientHello ALPN extension (RFC 7301 §3.1): `u16 len { u8 len, name }*`,
 * none empty and at least one; each name read as Latin-1, so any byte string maps to a string.
 *
 * @example
 * ```ts
 * import { parseAlpn } from "./messages.ts";
 * console.log(parseAlpn(new Uint8Array([0, 3, 2, 104, 50]))); // [ "h2" ]
 * ```
 */
export function parseAlpn(body: Uint8Array): string[] {
  const r = new Reader(body, "application_layer_protocol_negotiation");
  const list = r.prefixed16("protocol_name_list");
  r.expectEnd("ALPN");
  if (list.remaining === 0) list.fail("empty protocol_name_list");
  const out: string[] = [];
  while (list.remaining > 0) {
    const name = list.prefixed8("protocol name");
    if (name.remaining === 0) name.fail("empty protocol name");
    let s = "";
    while (name.remaining > 0) s += String.fromCharCode(name.u8("protocol name"));
    out.push(s);
  }
  return out;
}

/**
 * Frames a handshake message: `u8 type, u24 length, body`.
 *
 * @example
 * ```ts
 * import { handshakeMessage } from "./messages.ts";
 * console.log(Array.from(handshakeMessage(24, new Uint8Array([1])))); // [24, 0, 0, 1, 1]
 * ```
 */
export function handshakeMessage(type: number, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const w = new Writer(4 + body.length);
  w.u8(type);
  w.u24(body.length);
  w.bytes(body);
  return w.done();
}

/** An extension to write: type and body. */
export type ExtensionEntry = readonly [type: number, body: Uint8Array];

function extensionsSize(exts: readonly ExtensionEntry[]): number {
  let n = 2;
  for (const [, body] of exts) n += 4 + body.length;
  return n;
}

function writeExtensions(w: Writer, exts: readonly ExtensionEntry[]): void {
  w.u16(extensionsSize(exts) - 2);
  for (const [type, body] of exts) {
    w.u16(type);
    w.u16(body.length);
    w.bytes(body);
  }
}

/** The fields of a ServerHello or HelloRetryRequest. */
export interface ServerHelloFields {
  /** 32 random bytes, or {@link HELLO_RETRY_REQUEST_RANDOM}. */
  random: Uint8Array;
  /** The client's `legacy_session_id`, echoed. */
  legacySessionId: Uint8Array;
  /** The selected cipher suite. */
  cipherSuite: number;
  /** Extensions, written in this order. */
  extensions: readonly ExtensionEntry[];
}

/**
 * A ServerHello (RFC 8446 §4.1.3); with {@link HELLO_RETRY_REQUEST_RANDOM} it is a
 * HelloRetryRequest.
 *
 * @example
 * ```ts
 * import { serverHello } from "./messages.ts";
 * const sh = serverHello({ random: new Uint8Array(32), legacySessionId: new Uint8Array(0), cipherSuite: 0x1301, extensions: [[43, new Uint8Array([3, 4])]] });
 * console.log(sh[0], sh.length); // 2 52
 * ```
 */
export function serverHello(f: ServerHelloFields): Uint8Array<ArrayBuffer> {
  const w = new Writer(
    2 + 32 + 1 + f.legacySessionId.length + 2 + 1 + extensionsSize(f.extensions),
  );
  w.u16(LEGACY_VERSION);
  w.bytes(f.random);
  w.u8(f.legacySessionId.length);
  w.bytes(f.legacySessionId);
  w.u16(f.cipherSuite);
  w.u8(0);
  writeExtensions(w, f.extensions);
  return handshakeMessage(HandshakeType.SERVER_HELLO, w.done());
}

/**
 * EncryptedExtensions (RFC 8446 §4.3.1).
 *
 * @example
 * ```ts
 * import { encryptedExtensions } from "./messages.ts";
 * console.log(Array.from(encryptedExtensions([]))); // [8, 0, 0, 2, 0, 0]
 * ```
 */
export function encryptedExtensions(exts: readonly ExtensionEntry[]): Uint8Array<ArrayBuffer> {
  const w = new Writer(extensionsSize(exts));
  writeExtensions(w, exts);
  return handshakeMessage(HandshakeType.ENCRYPTED_EXTENSIONS, w.done());
}

/**
 * A server Certificate message (RFC 8446 §4.4.2): empty request context, each certificate
 * with an empty extensions block.
 *
 * @example
 * ```ts
 * import { certificateMessage } from "./messages.ts";
 * console.log(certificateMessage([new Uint8Array(3)]).length); // 4 + 1 + 3 + 3 + 3 + 2
 * ```
 */
export function certificateMessage(chain: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let list = 0;
  for (const c of chain) list += 3 + c.length + 2;
  const w = new Writer(1 + 3 + list);
  w.u8(0);
  w.u24(list);
  for (const c of chain) {
    w.u24(c.length);
    w.bytes(c);
    w.u16(0);
  }
  return handshakeMessage(HandshakeType.CERTIFICATE, w.done());
}

/**
 * CertificateVerify (RFC 8446 §4.4.3): the scheme and the signature.
 *
 * @example
 * ```ts
 * import { certificateVerifyMessage } from "./messages.ts";
 * console.log(Array.from(certificateVerifyMessage(0x0807, new Uint8Array([7]))));
 * // [15, 0, 0, 5, 8, 7, 0, 1, 7]
 * ```
 */
export function certificateVerifyMessage(
  scheme: number,
  signature: Uint8Array,
): Uint8Array<ArrayBuffer> {
  const w = new Writer(4 + signature.length);
  w.u16(scheme);
  w.u16(signature.length);
  w.bytes(signature);
  return handshakeMessage(HandshakeType.CERTIFICATE_VERIFY, w.done());
}

/**
 * Reassembles handshake messages from record contents (RFC 8446 §5.1: a message may span
 * records and a record may hold several). The declared length of each message is checked
 * against the current limit before its body is buffered: over it is illegal_parameter (47),
 * as libssl answers an excessive message size.
 *
 * @example
 * ```ts
 * import { HandshakeBuffer } from "./messages.ts";
 * const hb = new HandshakeBuffer(1024);
 * hb.push(new Uint8Array([20, 0, 0, 2, 1]));
 * console.log(hb.next()); // null (incomplete)
 * hb.push(new Uint8Array([2]));
 * console.log(hb.next()?.type); // 20
 * ```
 */
export class HandshakeBuffer {
  /** The largest body accepted for the next message. */
  maxLength: number;
  // Received bytes live in #buf[#start, #end); the buffer doubles when full, so a message sent
  // in many tiny records costs linear time, and never holds more than one message beyond the
  // limit's check.
  #buf: Uint8Array = new Uint8Array(0);
  #start = 0;
  #end = 0;

  /** @param maxLength The largest message body accepted. */
  constructor(maxLength: number) {
    this.maxLength = maxLength;
  }

  /** Bytes of an incomplete message held. */
  get pending(): number {
    return this.#end - this.#start;
  }

  /** Appends record content. */
  push(content: Uint8Array): void {
    if (this.#end + content.length > this.#buf.length) {
      const held = this.#end - this.#start;
      let size = Math.max(256, this.#buf.length);
      while (size < held + content.length) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#buf.subarray(this.#start, this.#end));
      this.#buf = next;
      this.#start = 0;
      this.#end = held;
    }
    this.#buf.set(content, this.#end);
    this.#end += content.length;
  }

  /**
   * The next complete message (a copy), or `null` until one is complete.
   *
   * @throws {TlsAlert} illegal_parameter (47) when the declared length is over the limit.
   */
  next(): { type: number; body: Uint8Array; message: Uint8Array } | null {
    const b = this.#buf, s = this.#start;
    if (this.#end - s < 4) return null;
    const length = (b[s + 1] << 16) | (b[s + 2] << 8) | b[s + 3];
    if (length > this.maxLength) {
      throw illegal(`handshake message of ${length} bytes, at most ${this.maxLength} accepted`);
    }
    if (this.#end - s < 4 + length) return null;
    const message = b.slice(s, s + 4 + length);
    this.#start = s + 4 + length;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return { type: message[0], body: message.subarray(4), message };
  }
}
