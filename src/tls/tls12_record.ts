/**
 * TLS 1.2 AES-GCM record protection (RFC 5246 §6.2.3.3, RFC 5288 §3): the nonce is the 4-byte
 * implicit salt from the key block followed by an 8-byte explicit part sent in front of each
 * record (this server sends the sequence number, as OpenSSL does); the additional data is
 * `seq_num + type + version + length` with the plaintext length. Unlike TLS 1.3 the record keeps
 * its real content type and there is no inner padding.
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "../server/alert.ts";
import { TLS1_2_VERSION } from "../session/versions.ts";
import { asBufferBytes } from "../ticket/bytes.ts";
import { MAX_PLAINTEXT_LENGTH, type OpenedRecord, RECORD_HEADER_LENGTH } from "./record.ts";

/** The explicit nonce bytes in front of each record. */
const EXPLICIT_NONCE_LENGTH = 8;
/** The AES-GCM tag length. */
const TAG_LENGTH = 16;
/** Bytes a protected record adds to its plaintext. */
export const TLS12_GCM_OVERHEAD = EXPLICIT_NONCE_LENGTH + TAG_LENGTH;

/**
 * One direction's TLS 1.2 AES-GCM protection. The sequence number counts records under this
 * key from 0 (set at each ChangeCipherSpec).
 *
 * @example
 * ```ts
 * import { Tls12GcmCipher } from "./tls12_record.ts";
 * const key = new Uint8Array(16), salt = new Uint8Array(4);
 * const w = await Tls12GcmCipher.create(key, salt), r = await Tls12GcmCipher.create(key, salt);
 * const rec = await w.seal(23, new TextEncoder().encode("hi"));
 * console.log(rec.length); // 5 + 8 + 2 + 16 = 31
 * const opened = await r.open(rec.subarray(0, 5), rec.subarray(5));
 * console.log(opened.type, new TextDecoder().decode(opened.content)); // 23 hi
 * ```
 */
export class Tls12GcmCipher {
  /** Records processed under this key. */
  sequence = 0;
  readonly #key: CryptoKey;
  readonly #salt: Uint8Array<ArrayBuffer>;

  private constructor(key: CryptoKey, salt: Uint8Array<ArrayBuffer>) {
    this.#key = key;
    this.#salt = salt;
  }

  /**
   * Imports a write key (16 or 32 bytes) and its 4-byte implicit nonce (`write_IV`).
   *
   * @param key The write key.
   * @param salt The write IV from the key block.
   * @returns The cipher, sequence number 0.
   */
  static async create(key: Uint8Array, salt: Uint8Array): Promise<Tls12GcmCipher> {
    if ((key.length !== 16 && key.length !== 32) || salt.length !== 4) {
      throw new TlsAlert(AlertDescription.INTERNAL_ERROR, "AES-GCM key or salt of the wrong size");
    }
    const k = await crypto.subtle.importKey("raw", new Uint8Array(key), "AES-GCM", false, [
      "encrypt",
      "decrypt",
    ]);
    return new Tls12GcmCipher(k, new Uint8Array(salt));
  }

  /** `seq_num` as 8 big-endian bytes, and the sequence advanced. */
  #nextSequence(): Uint8Array<ArrayBuffer> {
    const out = new Uint8Array(8);
    let seq = this.sequence++;
    for (let i = 7; i >= 0 && seq > 0; i--) {
      out[i] = seq % 256;
      seq = Math.floor(seq / 256);
    }
    return out;
  }

  #additionalData(seq: Uint8Array, type: number, length: number): Uint8Array<ArrayBuffer> {
    const ad = new Uint8Array(13);
    ad.set(seq);
    ad[8] = type;
    ad[9] = TLS1_2_VERSION >> 8;
    ad[10] = TLS1_2_VERSION & 0xff;
    ad[11] = length >>> 8;
    ad[12] = length & 0xff;
    return ad;
  }

  /**
   * Protects one record of `type`.
   *
   * @param type The content type (kept in the record header).
   * @param content At most 2^14 bytes.
   * @returns The whole record: header, explicit nonce, ciphertext and tag.
   */
  async seal(type: number, content: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    if (content.length > MAX_PLAINTEXT_LENGTH) {
      throw new TlsAlert(AlertDescription.INTERNAL_ERROR, "record content over 2^14 bytes");
    }
    const seq = this.#nextSequence();
    const length = EXPLICIT_NONCE_LENGTH + content.length + TAG_LENGTH;
    const out = new Uint8Array(RECORD_HEADER_LENGTH + length);
    out[0] = type;
    out[1] = TLS1_2_VERSION >> 8;
    out[2] = TLS1_2_VERSION & 0xff;
    out[3] = length >>> 8;
    out[4] = length & 0xff;
    out.set(seq, RECORD_HEADER_LENGTH);
    const nonce = new Uint8Array(12);
    nonce.set(this.#salt);
    nonce.set(seq, 4);
    const sealed = await crypto.subtle.encrypt(
      {
        name: "AES-GCM",
        iv: nonce,
        additionalData: this.#additionalData(seq, type, content.length),
      },
      this.#key,
      asBufferBytes(content),
    );
    out.set(new Uint8Array(sealed), RECORD_HEADER_LENGTH + EXPLICIT_NONCE_LENGTH);
    return out;
  }

  /**
   * Removes protection from one record (RFC 5246 §6.2.3.3).
   *
   * @param header The 5-byte record header (its type is the content type).
   * @param body Explicit nonce, ciphertext and tag.
   * @returns The content type from the header and the plaintext.
   * @throws {TlsAlert} bad_record_mac (20) when the record is too short or fails
   * authentication, record_overflow (22) for more than 2^14 bytes of plaintext.
   */
  async open(header: Uint8Array, body: Uint8Array): Promise<OpenedRecord> {
    if (body.length < TLS12_GCM_OVERHEAD) {
      throw new TlsAlert(AlertDescription.BAD_RECORD_MAC, "protected record too short");
    }
    const plainLength = body.length - TLS12_GCM_OVERHEAD;
    if (plainLength > MAX_PLAINTEXT_LENGTH) {
      throw new TlsAlert(AlertDescription.RECORD_OVERFLOW, "record content over 2^14 bytes");
    }
    const seq = this.#nextSequence();
    const nonce = new Uint8Array(12);
    nonce.set(this.#salt);
    nonce.set(body.subarray(0, EXPLICIT_NONCE_LENGTH), 4);
    let plain: Uint8Array<ArrayBuffer>;
    try {
      plain = new Uint8Array(
        await crypto.subtle.decrypt(
          {
            name: "AES-GCM",
            iv: nonce,
            additionalData: this.#additionalData(seq, header[0], plainLength),
          },
          this.#key,
          asBufferBytes(body.subarray(EXPLICIT_NONCE_LENGTH)),
        ),
      );
    } catch {
      throw new TlsAlert(AlertDescription.BAD_RECORD_MAC, "record authentication failed");
    }
    return { type: header[0], content: plain };
  }
}
