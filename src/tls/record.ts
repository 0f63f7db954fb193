/**
 * The TLS 1.3 record layer (RFC 8446 §5): framing over a byte transport, the length limits,
 * and AEAD record protection with AES-GCM in Web Crypto (§5.2, §5.3). Every limit is checked
 * before anything is buffered or decrypted: a record longer than the protocol allows is
 * record_overflow (22), an unknown content type unexpected_message (10), a record that fails
 * authentication bad_record_mac (20).
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "../server/alert.ts";
import { TLS1_2_VERSION } from "../session/versions.ts";
import { asBufferBytes } from "../ticket/bytes.ts";
import { TlsConnectionError } from "./errors.ts";

/**
 * Record content types (RFC 8446 §5.1).
 *
 * @example
 * ```ts
 * import { ContentType } from "./record.ts";
 * console.log(ContentType.HANDSHAKE); // 22
 * ```
 */
export const ContentType = {
  /** change_cipher_spec (20): only the middlebox-compatibility record in TLS 1.3. */
  CHANGE_CIPHER_SPEC: 20,
  /** alert (21). */
  ALERT: 21,
  /** handshake (22). */
  HANDSHAKE: 22,
  /** application_data (23): also the outer type of every protected record. */
  APPLICATION_DATA: 23,
} as const;

/** The largest plaintext fragment, 2^14 bytes (RFC 8446 §5.1). */
export const MAX_PLAINTEXT_LENGTH = 16384;
/** The largest protected record body, 2^14 + 256 bytes (RFC 8446 §5.2). */
export const MAX_CIPHERTEXT_LENGTH = MAX_PLAINTEXT_LENGTH + 256;
/** Record header length: type, legacy_record_version, length. */
export const RECORD_HEADER_LENGTH = 5;
/** The AES-GCM tag length. */
const TAG_LENGTH = 16;

/**
 * The byte stream a TLS connection runs over. `Deno.Conn` is one; tests use in-memory pairs.
 * `read` resolves `null` at end of stream; `write` may write part of its input.
 */
export interface TlsTransport {
  /** Reads into `p`; the number of bytes read, or `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes from `p`; the number of bytes written. */
  write(p: Uint8Array): Promise<number>;
  /** Closes the transport. */
  close(): void;
}

/** One record as received: its type and body (a view valid until the next read). */
export interface RawRecord {
  /** The outer content type. */
  type: number;
  /** The record body (ciphertext when protected). */
  body: Uint8Array<ArrayBuffer>;
  /** The 5-byte header (the additional data of a protected record). */
  header: Uint8Array<ArrayBuffer>;
}

/**
 * Writes all of `bytes` to a transport (`Deno.Conn.write` may write part).
 *
 * @param transport The transport.
 * @param bytes What to write.
 *
 * @example
 * ```ts
 * import { writeAll } from "./record.ts";
 * const sink: Uint8Array[] = [];
 * const t = { read: () => Promise.resolve(null), write: (p: Uint8Array) => (sink.push(p.slice(0, 2)), Promise.resolve(Math.min(2, p.length))), close() {} };
 * await writeAll(t, new Uint8Array([1, 2, 3]));
 * console.log(sink.length); // 2
 * ```
 */
export async function writeAll(transport: TlsTransport, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) {
    const n = await transport.write(off === 0 ? bytes : bytes.subarray(off));
    if (!Number.isInteger(n) || n <= 0) {
      throw new TlsConnectionError("closed", "the transport accepted no bytes");
    }
    off += n;
  }
}

/**
 * Reads whole records from a transport into one buffer of at most two maximal records, so a
 * peer can never make it buffer more. The header is checked before the body is read: a known
 * content type, a legacy version of the form 3.x, and a length within
 * {@link RecordReader.maxBodyLength}.
 *
 * @example
 * ```ts
 * import { RecordReader } from "./record.ts";
 * const bytes = new Uint8Array([22, 3, 1, 0, 2, 0xaa, 0xbb]);
 * let done = false;
 * const t = {
 *   read: (p: Uint8Array) => { if (done) return Promise.resolve(null); done = true; p.set(bytes); return Promise.resolve(bytes.length); },
 *   write: () => Promise.resolve(0), close() {},
 * };
 * const r = await new RecordReader(t).next();
 * console.log(r?.type, r?.body.length); // 22 2
 * ```
 */
export class RecordReader {
  /** The longest record body accepted now: 2^14 before protection, 2^14 + 256 after. */
  maxBodyLength: number = MAX_PLAINTEXT_LENGTH;
  readonly #transport: TlsTransport;
  // Starts small (most records of a handshake are short) and grows to at most two maximal
  // records, so a peer can never make it buffer more.
  #buf = new Uint8Array(1024);
  #start = 0;
  #end = 0;

  /** @param transport The transport to read from. */
  constructor(transport: TlsTransport) {
    this.#transport = transport;
  }

  /** Ensures `n` bytes are buffered from `#start`; false at a clean end of stream. */
  async #fill(n: number): Promise<boolean> {
    while (this.#end - this.#start < n) {
      if (this.#buf.length < n) {
        const grown = new Uint8Array(
          Math.min(
            Math.max(2 * this.#buf.length, 2 * n),
            2 * (RECORD_HEADER_LENGTH + MAX_CIPHERTEXT_LENGTH),
          ),
        );
        grown.set(this.#buf.subarray(this.#start, this.#end));
        this.#end -= this.#start;
        this.#start = 0;
        this.#buf = grown;
      } else if (this.#buf.length - this.#start < n) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      const got = await this.#transport.read(this.#buf.subarray(this.#end));
      if (got === null || got === 0) return false;
      this.#end += got;
    }
    return true;
  }

  /**
   * The next record, or `null` when the peer closed the stream between records.
   *
   * @throws {TlsAlert} unexpected_message (10) for an unknown content type, decode_error (50)
   * for a legacy version that is not 3.x, record_overflow (22) for an over-long body.
   * @throws {TlsConnectionError} `closed` when the stream ends inside a record.
   */
  async next(): Promise<RawRecord | null> {
    if (!await this.#fill(RECORD_HEADER_LENGTH)) {
      if (this.#end > this.#start) {
        throw new TlsConnectionError("closed", "the peer closed the connection inside a record");
      }
      return null;
    }
    const b = this.#buf, s = this.#start;
    const type = b[s];
    if (type < ContentType.CHANGE_CIPHER_SPEC || type > ContentType.APPLICATION_DATA) {
      throw new TlsAlert(AlertDescription.UNEXPECTED_MESSAGE, `unknown record type ${type}`);
    }
    if (b[s + 1] !== TLS1_2_VERSION >> 8) {
      throw new TlsAlert(AlertDescription.DECODE_ERROR, "record version is not 3.x");
    }
    const length = (b[s + 3] << 8) | b[s + 4];
    if (length > this.maxBodyLength) {
      throw new TlsAlert(
        AlertDescription.RECORD_OVERFLOW,
        `record of ${length} bytes, at most ${this.maxBodyLength} allowed`,
      );
    }
    if (!await this.#fill(RECORD_HEADER_LENGTH + length)) {
      throw new TlsConnectionError("closed", "the peer closed the connection inside a record");
    }
    const start = this.#start;
    this.#start += RECORD_HEADER_LENGTH + length;
    return {
      type,
      header: this.#buf.subarray(start, start + RECORD_HEADER_LENGTH),
      body: this.#buf.subarray(start + RECORD_HEADER_LENGTH, this.#start),
    };
  }
}

/**
 * Frames `fragment` as one unprotected record (`TLSPlaintext`, RFC 8446 §5.1) with
 * legacy_record_version 0x0303 (TLS 1.2's number, as RFC 8446 §5.1 asks).
 *
 * @param type The content type.
 * @param fragment At most 2^14 bytes.
 * @returns Header and fragment.
 *
 * @example
 * ```ts
 * import { plaintextRecord } from "./record.ts";
 * console.log(Array.from(plaintextRecord(21, new Uint8Array([2, 40]))));
 * // [21, 3, 3, 0, 2, 2, 40]
 * ```
 */
export function plaintextRecord(type: number, fragment: Uint8Array): Uint8Array<ArrayBuffer> {
  if (fragment.length > MAX_PLAINTEXT_LENGTH) {
    throw new TlsAlert(AlertDescription.INTERNAL_ERROR, "plaintext record over 2^14 bytes");
  }
  const out = new Uint8Array(RECORD_HEADER_LENGTH + fragment.length);
  out[0] = type;
  out[1] = TLS1_2_VERSION >> 8;
  out[2] = TLS1_2_VERSION & 0xff;
  out[3] = fragment.length >>> 8;
  out[4] = fragment.length & 0xff;
  out.set(fragment, RECORD_HEADER_LENGTH);
  return out;
}

/** A record after {@link RecordCipher.open}: the inner content type and its content. */
export interface OpenedRecord {
  /** The real content type (`TLSInnerPlaintext.type`). */
  type: number;
  /** The content, padding removed. */
  content: Uint8Array<ArrayBuffer>;
}

/**
 * One direction's AEAD protection (RFC 8446 §5.2, §5.3): AES-GCM with the per-record nonce
 * `iv XOR sequence number` and the record header as additional data. The sequence number
 * counts records under this key; a new key (after a KeyUpdate) is a new `RecordCipher`.
 *
 * @example
 * ```ts
 * import { RecordCipher } from "./record.ts";
 * const key = new Uint8Array(16), iv = new Uint8Array(12);
 * const w = await RecordCipher.create(key, iv), r = await RecordCipher.create(key, iv);
 * const record = await w.seal(23, new TextEncoder().encode("hi"));
 * const opened = await r.open(record.subarray(0, 5), record.subarray(5));
 * console.log(opened.type, new TextDecoder().decode(opened.content)); // 23 hi
 * ```
 */
export class RecordCipher {
  /** Records processed under this key. */
  sequence = 0;
  readonly #key: CryptoKey;
  readonly #iv: Uint8Array<ArrayBuffer>;
  readonly #nonceBuf = new Uint8Array(12);

  private constructor(key: CryptoKey, iv: Uint8Array<ArrayBuffer>) {
    this.#key = key;
    this.#iv = iv;
  }

  /**
   * Imports a traffic key (16 bytes for AES-128-GCM, 32 for AES-256-GCM) and its 12-byte IV.
   *
   * @param key The write key.
   * @param iv The write IV.
   * @returns The cipher, sequence number 0.
   */
  static async create(key: Uint8Array, iv: Uint8Array): Promise<RecordCipher> {
    if ((key.length !== 16 && key.length !== 32) || iv.length !== 12) {
      throw new TlsAlert(AlertDescription.INTERNAL_ERROR, "AES-GCM key or IV of the wrong size");
    }
    // importKey copies the key before it returns (WebCryptoAPI §14.3.9), so no copy here.
    const k = await crypto.subtle.importKey("raw", asBufferBytes(key), "AES-GCM", false, [
      "encrypt",
      "decrypt",
    ]);
    return new RecordCipher(k, new Uint8Array(iv));
  }

  /**
   * The next record's nonce, written into one buffer per cipher: encrypt and decrypt copy their
   * parameters before they return (WebCryptoAPI §14.3.1), so the next record may overwrite it.
   */
  #nonce(): Uint8Array<ArrayBuffer> {
    const nonce = this.#nonceBuf;
    nonce.set(this.#iv);
    let seq = this.sequence++;
    for (let i = 11; i >= 4 && seq > 0; i--) {
      nonce[i] ^= seq % 256;
      seq = Math.floor(seq / 256);
    }
    return nonce;
  }

  /**
   * Protects one record: `TLSInnerPlaintext` (content, type, no padding) under AES-GCM.
   *
   * @param type The real content type.
   * @param content At most 2^14 bytes.
   * @returns The whole record, outer type application_data.
   */
  async seal(type: number, content: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    if (content.length > MAX_PLAINTEXT_LENGTH) {
      throw new TlsAlert(AlertDescription.INTERNAL_ERROR, "record content over 2^14 bytes");
    }
    // One buffer: the header, then TLSInnerPlaintext where the ciphertext will go (encrypt
    // copies its input before it returns, so the ciphertext may overwrite it).
    const innerLength = content.length + 1;
    const length = innerLength + TAG_LENGTH;
    const out = new Uint8Array(RECORD_HEADER_LENGTH + length);
    out[0] = ContentType.APPLICATION_DATA;
    out[1] = TLS1_2_VERSION >> 8;
    out[2] = TLS1_2_VERSION & 0xff;
    out[3] = length >>> 8;
    out[4] = length & 0xff;
    out.set(content, RECORD_HEADER_LENGTH);
    out[RECORD_HEADER_LENGTH + content.length] = type;
    const sealed = crypto.subtle.encrypt(
      { name: "AES-GCM", iv: this.#nonce(), additionalData: out.subarray(0, RECORD_HEADER_LENGTH) },
      this.#key,
      out.subarray(RECORD_HEADER_LENGTH, RECORD_HEADER_LENGTH + innerLength),
    );
    out.set(new Uint8Array(await sealed), RECORD_HEADER_LENGTH);
    return out;
  }

  /**
   * Removes protection from one record (RFC 8446 §5.2, §5.4): authenticates it, strips the
   * zero padding and reads the inner content type.
   *
   * @param header The record header (additional data).
   * @param body The record body.
   * @returns The inner type and content.
   * @throws {TlsAlert} bad_record_mac (20) when authentication fails, record_overflow (22)
   * for more than 2^14 bytes of content, unexpected_message (10) for an all-zero plaintext.
   */
  async open(header: Uint8Array, body: Uint8Array): Promise<OpenedRecord> {
    if (body.length < TAG_LENGTH + 1) {
      throw new TlsAlert(AlertDescription.BAD_RECORD_MAC, "protected record too short");
    }
    let plain: Uint8Array<ArrayBuffer>;
    try {
      plain = new Uint8Array(
        await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: this.#nonce(), additionalData: asBufferBytes(header) },
          this.#key,
          asBufferBytes(body),
        ),
      );
    } catch {
      throw new TlsAlert(AlertDescription.BAD_RECORD_MAC, "record authentication failed");
    }
    if (plain.length > MAX_PLAINTEXT_LENGTH + 1) {
      throw new TlsAlert(AlertDescription.RECORD_OVERFLOW, "record content over 2^14 bytes");
    }
    let end = plain.length;
    while (end > 0 && plain[end - 1] === 0) end--;
    if (end === 0) {
      throw new TlsAlert(AlertDescription.UNEXPECTED_MESSAGE, "record with no content type");
    }
    return { type: plain[end - 1], content: plain.subarray(0, end - 1) };
  }
}
