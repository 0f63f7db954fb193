/**
 * One connection's records in both directions (RFC 8446 §5): reads whole handshake messages or
 * application data, applies the current read and write protection, drops the middlebox
 * ChangeCipherSpec while the handshake runs (§5, Appendix D.4), skips rejected 0-RTT data
 * within a bound (§4.2.10), and turns every other record out of place into the right alert.
 * Writes are serialised so records leave in sequence order.
 *
 * @module
 */

import { concatBytes } from "../ticket/bytes.ts";
import { AlertDescription, TlsAlert } from "../server/alert.ts";
import { TlsConnectionError } from "./errors.ts";
import { HandshakeBuffer } from "./messages.ts";
import {
  ContentType,
  MAX_CIPHERTEXT_LENGTH,
  MAX_PLAINTEXT_LENGTH,
  type OpenedRecord,
  plaintextRecord,
  RecordReader,
  type TlsTransport,
  writeAll,
} from "./record.ts";

/** A handshake message read by {@link RecordStream.readHandshake}. */
export interface HandshakeMessage {
  /** The handshake type. */
  type: number;
  /** The body, without the 4-byte header. */
  body: Uint8Array;
  /** The whole message, header included (for the transcript). */
  message: Uint8Array;
}

/** What {@link RecordStream.readPostHandshake} returns. */
export type PostHandshakeRecord =
  | { kind: "data"; data: Uint8Array<ArrayBuffer> }
  | { kind: "handshake"; message: HandshakeMessage }
  | { kind: "close" };

/**
 * TLS 1.2 warning alerts taken in a row before the connection is refused with
 * unexpected_message (libssl's `MAX_WARN_ALERT_COUNT`): the fifth one is fatal.
 */
export const MAX_WARNING_ALERTS = 5;
const unexpected = (why: string) => new TlsAlert(AlertDescription.UNEXPECTED_MESSAGE, why);

/**
 * One direction's record protection: TLS 1.3's `RecordCipher` or TLS 1.2's `Tls12GcmCipher`.
 */
export interface RecordProtection {
  /** Records processed under this key. */
  sequence: number;
  /** Protects one record of `type`; returns the whole record. */
  seal(type: number, content: Uint8Array): Promise<Uint8Array<ArrayBuffer>>;
  /** Removes protection from one record; returns its real type and content. */
  open(header: Uint8Array, body: Uint8Array): Promise<OpenedRecord>;
}

/**
 * The record stream of one server connection.
 *
 * @example
 * ```ts
 * import { RecordStream } from "./record_stream.ts";
 * const sent: Uint8Array[] = [];
 * const t = { read: () => Promise.resolve(null), write: (p: Uint8Array) => (sent.push(p.slice()), Promise.resolve(p.length)), close() {} };
 * await new RecordStream(t).sendAlert(40);
 * console.log(Array.from(sent[0])); // [21, 3, 3, 0, 2, 2, 40]
 * ```
 */
export class RecordStream {
  /** The transport underneath. */
  readonly transport: TlsTransport;
  /** While true, a ChangeCipherSpec record of the single byte 1 is dropped. */
  acceptChangeCipherSpec = false;
  /**
   * Bytes of rejected 0-RTT data that may still be skipped: records that fail to decrypt
   * under the handshake key (or application_data records before the second ClientHello).
   */
  earlyDataBudget = 0;
  /**
   * TLS 1.2 records (RFC 5246 §6.2): once the read key is set every record is protected,
   * whatever its type, and a ChangeCipherSpec is read only by
   * {@link RecordStream.readChangeCipherSpec}.
   */
  tls12 = false;
  readonly #reader: RecordReader;
  readonly #handshake = new HandshakeBuffer(0);
  #read: RecordProtection | null = null;
  #write: RecordProtection | null = null;
  #writes: Promise<void> = Promise.resolve();
  #corked: Uint8Array[] | null = null;
  #peerProtected = false;
  #warnings = 0; // TLS 1.2 warning alerts in a row
  #closed = false;

  /** @param transport The transport (e.g. a `Deno.Conn`). */
  constructor(transport: TlsTransport) {
    this.transport = transport;
    this.#reader = new RecordReader(transport);
  }

  /** Installs the read protection (from now on every record but a CCS must be protected). */
  setReadCipher(cipher: RecordProtection): void {
    if (this.#handshake.pending > 0) {
      // RFC 8446 §5.1: handshake messages must not span a key change.
      throw unexpected("handshake data left over at a key change");
    }
    this.#read = cipher;
    this.#reader.maxBodyLength = MAX_CIPHERTEXT_LENGTH;
  }

  /** Installs the write protection for records queued after this call. */
  setWriteCipher(cipher: RecordProtection): void {
    this.#queue(() => {
      this.#write = cipher;
    });
  }

  /** The current write cipher's record count (for key-usage limits). */
  get writeSequence(): number {
    return this.#write?.sequence ?? 0;
  }

  /** Whether handshake bytes of an incomplete message are buffered. */
  get handshakePending(): boolean {
    return this.#handshake.pending > 0;
  }

  /**
   * Reads the next handshake message of at most `maxLength` body bytes.
   *
   * @throws {TlsAlert} unexpected_message (10) for application data, a misplaced CCS, a
   * zero-length handshake record or plaintext after protection started; illegal_parameter
   * (47) for a message over `maxLength`; the record layer's alerts.
   * @throws {TlsConnectionError} when the peer closes or sends an alert.
   */
  async readHandshake(maxLength: number): Promise<HandshakeMessage> {
    this.#handshake.maxLength = maxLength;
    for (;;) {
      const ready = this.#handshake.next();
      if (ready) return ready;
      const rec = await this.#nextRecord();
      if (rec === null) continue; // dropped (CCS or skipped early data)
      if (rec.type !== ContentType.HANDSHAKE) {
        throw unexpected(`record type ${rec.type} during the handshake`);
      }
      if (rec.content.length === 0) throw unexpected("zero-length handshake record");
      this.#handshake.push(rec.content);
    }
  }

  /**
   * Reads what follows the handshake: application data, a post-handshake handshake message
   * (at most `maxLength` bytes), or the peer's close_notify.
   *
   * @throws {TlsAlert} unexpected_message (10) for a CCS or an empty handshake record; the
   * record layer's alerts.
   * @throws {TlsConnectionError} when the peer closes without close_notify or sends an alert.
   */
  async readPostHandshake(maxLength: number): Promise<PostHandshakeRecord> {
    this.#handshake.maxLength = maxLength;
    for (;;) {
      const ready = this.#handshake.next();
      if (ready) return { kind: "handshake", message: ready };
      const rec = await this.#nextRecord();
      if (rec === null) continue;
      if (rec.type === ContentType.APPLICATION_DATA) {
        if (this.#handshake.pending > 0) throw unexpected("data inside a handshake message");
        return { kind: "data", data: rec.content };
      }
      if (rec.type === -1) return { kind: "close" };
      if (rec.type !== ContentType.HANDSHAKE) {
        throw unexpected(`record type ${rec.type} after the handshake`);
      }
      if (rec.content.length === 0) throw unexpected("zero-length handshake record");
      this.#handshake.push(rec.content);
    }
  }

  /**
   * The next record with its real content type; `null` when it was dropped; type -1 for the
   * peer's close_notify.
   */
  async #nextRecord(): Promise<{ type: number; content: Uint8Array<ArrayBuffer> } | null> {
    const raw = await this.#reader.next();
    if (raw === null) {
      throw new TlsConnectionError("closed", "the peer closed the connection");
    }
    if (raw.type === ContentType.CHANGE_CIPHER_SPEC) {
      // RFC 8446 §5: dropped while the handshake runs if it is the single byte 1.
      if (!this.acceptChangeCipherSpec || raw.body.length !== 1 || raw.body[0] !== 1) {
        throw unexpected("ChangeCipherSpec out of place");
      }
      return null;
    }
    if (this.#read === null) {
      if (raw.type === ContentType.APPLICATION_DATA && this.earlyDataBudget > 0) {
        return this.#skip(raw.body.length);
      }
      if (raw.type === ContentType.APPLICATION_DATA) {
        throw unexpected("application data before the handshake keys");
      }
      return this.#plain(raw.type, raw.body.slice());
    }
    if (raw.type !== ContentType.APPLICATION_DATA && !this.tls12) {
      if (raw.type === ContentType.ALERT && raw.body.length === 2 && !this.#peerProtected) {
        // A client that fails on the ServerHello alerts before it has keys. Once a record of
        // the client's decrypted, an unprotected alert could be anyone's (a forged close).
        return this.#plain(raw.type, raw.body.slice());
      }
      throw unexpected(`unprotected record of type ${raw.type} after keys were set`);
    }
    let opened;
    try {
      opened = await this.#read.open(raw.header, raw.body);
    } catch (e) {
      if (this.earlyDataBudget > 0 && e instanceof TlsAlert && e.alert === 20) {
        this.#read.sequence--; // a skipped record does not count (RFC 8446 §4.2.10)
        return this.#skip(raw.body.length);
      }
      throw e;
    }
    this.earlyDataBudget = 0; // the first record that decrypts ends the skipping
    this.#peerProtected = true;
    return this.#plain(opened.type, opened.content);
  }

  /**
   * TLS 1.2: reads the client's ChangeCipherSpec (RFC 5246 §7.1), which must come at a
   * handshake message boundary, before the read key is set. Alerts from the peer are taken as
   * usual.
   *
   * @throws {TlsAlert} unexpected_message (10) for any other record or a CCS inside a
   * handshake message; illegal_parameter (47) for a CCS that is not the single byte 1.
   * @throws {TlsConnectionError} when the peer closes or sends an alert.
   */
  async readChangeCipherSpec(): Promise<void> {
    for (;;) {
      const raw = await this.#reader.next();
      if (raw === null) throw new TlsConnectionError("closed", "the peer closed the connection");
      if (raw.type === ContentType.CHANGE_CIPHER_SPEC) {
        if (this.#handshake.pending > 0) {
          throw unexpected("ChangeCipherSpec inside a handshake message");
        }
        if (raw.body.length !== 1 || raw.body[0] !== 1) {
          throw new TlsAlert(AlertDescription.ILLEGAL_PARAMETER, "malformed ChangeCipherSpec");
        }
        return;
      }
      if (raw.type === ContentType.ALERT && this.#read === null) {
        const r = this.#plain(raw.type, raw.body.slice());
        if (r === null) continue;
        throw new TlsConnectionError("closed", "the peer closed the connection");
      }
      throw unexpected(`record type ${raw.type} where ChangeCipherSpec was expected`);
    }
  }

  #skip(length: number): null {
    this.earlyDataBudget -= length;
    if (this.earlyDataBudget < 0) throw unexpected("too much rejected early data");
    return null;
  }

  #plain(
    type: number,
    content: Uint8Array<ArrayBuffer>,
  ): { type: number; content: Uint8Array<ArrayBuffer> } | null {
    if (type !== ContentType.ALERT) {
      this.#warnings = 0;
      if (type === ContentType.CHANGE_CIPHER_SPEC) throw unexpected("protected ChangeCipherSpec");
      return { type, content };
    }
    if (content.length !== 2) {
      throw new TlsAlert(AlertDescription.DECODE_ERROR, "alert record of the wrong length");
    }
    const description = content[1];
    if (this.tls12 && content[0] === 1 && description !== AlertDescription.CLOSE_NOTIFY) {
      // RFC 5246 §7.2: a warning does not end a TLS 1.2 connection; as libssl
      // (ssl/record/rec_layer_s3.c), only so many in a row are taken.
      if (++this.#warnings >= MAX_WARNING_ALERTS) throw unexpected("too many warning alerts");
      return null;
    }
    this.#warnings = 0;
    if (description === AlertDescription.CLOSE_NOTIFY) {
      if (this.#handshake.pending > 0) throw unexpected("close_notify inside a handshake message");
      return { type: -1, content };
    }
    if (description === AlertDescription.USER_CANCELED) return null; // followed by close_notify
    throw new TlsConnectionError("peer-alert", `the peer sent alert ${description}`, description);
  }

  /**
   * Queues records of `type` carrying `content` (split into fragments of at most 2^14 bytes),
   * protected with the current write cipher if there is one.
   *
   * @returns When the records are written.
   */
  write(type: number, content: Uint8Array): Promise<void> {
    return this.#queue(async () => {
      if (this.#closed) throw new TlsConnectionError("closed", "the connection is closed");
      for (let off = 0; off < content.length || off === 0; off += MAX_PLAINTEXT_LENGTH) {
        const part = content.subarray(off, off + MAX_PLAINTEXT_LENGTH);
        const record = this.#write === null
          ? plaintextRecord(type, part)
          : await this.#write.seal(type, part);
        await this.#send(record);
        if (content.length === 0) break;
      }
    });
  }

  /** Queues an unprotected ChangeCipherSpec record (`14 03 03 00 01 01`). */
  writeChangeCipherSpec(): Promise<void> {
    return this.#queue(() =>
      this.#send(plaintextRecord(ContentType.CHANGE_CIPHER_SPEC, new Uint8Array([1])))
    );
  }

  /**
   * Holds the records queued from now on until {@link RecordStream.uncork}, which sends them in
   * one transport write (a server flight in one TCP segment where it fits).
   */
  cork(): void {
    this.#queue(() => {
      this.#corked ??= [];
    });
  }

  /** Sends the records held since {@link RecordStream.cork}. */
  uncork(): Promise<void> {
    return this.#queue(async () => {
      const held = this.#corked;
      this.#corked = null;
      if (held === null || held.length === 0) return;
      await writeAll(this.transport, concatBytes(held));
    });
  }

  async #send(record: Uint8Array): Promise<void> {
    if (this.#corked !== null) this.#corked.push(record);
    else await writeAll(this.transport, record);
  }

  #queue(step: () => void | Promise<void>): Promise<void> {
    const run = this.#writes.then(step);
    this.#writes = run.catch(() => {});
    return run;
  }

  /**
   * Sends an alert (fatal, or close_notify with `description` 0), protected when a write key
   * is set. Errors writing it are ignored: the connection is ending anyway. `warning` sends
   * it at level warning (TLS 1.2's no_renegotiation).
   */
  async sendAlert(description: number, warning = false): Promise<void> {
    const level = warning || description === AlertDescription.CLOSE_NOTIFY ? 1 : 2;
    try {
      await this.write(ContentType.ALERT, new Uint8Array([level, description]));
    } catch {
      // The peer may be gone.
    }
  }

  /** Closes the transport once queued writes are done; later writes fail. */
  async close(): Promise<void> {
    await this.#writes;
    this.closeNow();
  }

  /** Closes the transport at once. */
  closeNow(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.transport.close();
    } catch {
      // Already closed.
    }
  }
}
