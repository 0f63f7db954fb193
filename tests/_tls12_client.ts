/**
 * A small TLS 1.2 client for tests (ECDHE, AES-GCM): it builds ClientHellos with every field
 * under test control, runs full and abbreviated handshakes (RFC 5246 §7.3, RFC 5077 §3.1),
 * keeps what the server sent (ServerHello fields and extensions, NewSessionTicket, the master
 * secret) and can send any record, protected or not, out of order. The ServerKeyExchange
 * signature is verified against the leaf certificate.
 *
 * @module
 */

import { type ExtensionEntry, HandshakeBuffer, handshakeMessage } from "../src/tls/messages.ts";
import {
  ContentType,
  MAX_CIPHERTEXT_LENGTH,
  RecordReader,
  type TlsTransport,
  writeAll,
} from "../src/tls/record.ts";
import { TranscriptHash } from "../src/tls/key_schedule.ts";
import { keyExchange } from "../src/tls/key_exchange.ts";
import { keyBlock, masterSecret, type Tls12Keys, verifyData12 } from "../src/tls/prf.ts";
import { Tls12GcmCipher } from "../src/tls/tls12_record.ts";
import { concatBytes } from "../src/ticket/bytes.ts";
import { acceptTls, type TlsConnection, type TlsConnectionOptions } from "../src/tls/connection.ts";
import { type MemoryTransport, memoryTransportPair } from "./_memory_transport.ts";
import {
  certificateSpki,
  extensionBlock,
  record,
  ServerAlertError,
  uint,
  vec,
} from "./_tls13_client.ts";

export { ServerAlertError };

/** TLS 1.2 suites by id. */
export const Suite12 = {
  ECDHE_ECDSA_AES128_GCM_SHA256: 0xc02b,
  ECDHE_ECDSA_AES256_GCM_SHA384: 0xc02c,
  ECDHE_RSA_AES128_GCM_SHA256: 0xc02f,
  ECDHE_RSA_AES256_GCM_SHA384: 0xc030,
  /** A CBC suite this server does not negotiate. */
  ECDHE_RSA_AES128_CBC_SHA: 0xc013,
} as const;

/** Options of a TLS 1.2 ClientHello; `null` omits an extension. */
export interface Hello12Options {
  legacyVersion?: number;
  random?: Uint8Array;
  sessionId?: Uint8Array;
  suites?: number[];
  compression?: number[];
  groups?: number[] | null;
  signatureAlgorithms?: number[] | null;
  /** Send extended_master_secret (default true). */
  ems?: boolean;
  /** renegotiation_info body (default `[0]`, the empty renegotiated_connection). */
  renegotiationInfo?: Uint8Array | null;
  /** session_ticket body: default empty (ask for a ticket); `null` omits it. */
  ticket?: Uint8Array | null;
  /** ec_point_formats (default `[0]`). */
  pointFormats?: number[] | null;
  supportedVersions?: number[] | null;
  alpn?: string[] | null;
  /** More extensions, after the others. */
  extra?: ExtensionEntry[];
}

/** A handshake message from the server, or its ChangeCipherSpec. */
export type Message12 = { type: number; body: Uint8Array; message: Uint8Array } | "ccs";

/** The ServerHello as read. */
export interface ServerHello12 {
  version: number;
  random: Uint8Array;
  sessionId: Uint8Array;
  suite: number;
  compression: number;
  extensions: Map<number, Uint8Array>;
  message: Uint8Array;
}

/** A session the client can resume. */
export interface ClientSession12 {
  masterKey: Uint8Array;
  suite: number;
  sessionId: Uint8Array;
  ticket: Uint8Array | null;
  ems: boolean;
}

/** What a completed handshake saw. */
export interface Outcome12 {
  serverHello: ServerHello12;
  resumed: boolean;
  /** The NewSessionTicket, if one came. */
  ticket: { lifetime: number; ticket: Uint8Array } | null;
  /** The session, for resumption. */
  session: ClientSession12;
  /** Message types the server sent, in order (CCS as 20 with "ccs"). */
  serverMessages: (number | "ccs")[];
  /** The ServerKeyExchange's scheme (full handshakes). */
  scheme: number | null;
}

const DEFAULT_SUITES = [0xc02b, 0xc02c, 0xc02f, 0xc030];
const DEFAULT_GROUPS = [0x1d, 0x17, 0x18];
const DEFAULT_SIGALGS = [0x0403, 0x0503, 0x0807, 0x0804, 0x0805, 0x0401, 0x0501];

const u16s = (v: readonly number[]) => concatBytes(v.map((x) => uint(x, 2)));
const hashOf = (suite: number) => suite === 0xc02c || suite === 0xc030 ? "SHA-384" : "SHA-256";
const keyLengthOf = (suite: number): 16 | 32 => suite === 0xc02c || suite === 0xc030 ? 32 : 16;

/** The client. */
export class Tls12Client {
  readonly transport: TlsTransport;
  /** Verify the ServerKeyExchange signature (default true). */
  verifySignature = true;
  /** Runs after the ClientKeyExchange, before the ChangeCipherSpec (to inject records). */
  afterKeyExchange: ((c: Tls12Client) => Promise<void>) | null = null;
  /** The ChangeCipherSpec body (default `[1]`). */
  ccsBody: Uint8Array = new Uint8Array([1]);
  /** Rewrites the client Finished before it is sent. */
  mangleFinished: ((m: Uint8Array) => Uint8Array) | null = null;
  /** Fixed ECDHE key pairs by group (default: fresh ones). */
  keyPairs: Map<number, CryptoKeyPair> = new Map();
  /** The key block of the last handshake (to seal records as this client would). */
  keys: Tls12Keys | null = null;
  /** Rewrites the ClientKeyExchange before it is sent. */
  mangleKeyExchange: ((m: Uint8Array) => Uint8Array) | null = null;
  readonly #reader: RecordReader;
  readonly #hs = new HandshakeBuffer(1 << 24);
  #read: Tls12GcmCipher | null = null;
  #write: Tls12GcmCipher | null = null;
  #transcript: TranscriptHash | null = null;
  #hello: Uint8Array | null = null;
  #random = new Uint8Array(32);
  #serverCcs = false;

  constructor(transport: TlsTransport) {
    this.transport = transport;
    this.#reader = new RecordReader(transport);
    this.#reader.maxBodyLength = MAX_CIPHERTEXT_LENGTH;
  }

  /** The ClientHello message for `o`. */
  buildClientHello(o: Hello12Options = {}): Uint8Array<ArrayBuffer> {
    const exts: ExtensionEntry[] = [];
    if (o.renegotiationInfo !== null) {
      exts.push([0xff01, o.renegotiationInfo ?? new Uint8Array([0])]);
    }
    if (o.groups !== null) exts.push([10, vec(2, u16s(o.groups ?? DEFAULT_GROUPS))]);
    if (o.pointFormats !== null) exts.push([11, vec(1, Uint8Array.from(o.pointFormats ?? [0]))]);
    if (o.signatureAlgorithms !== null) {
      exts.push([13, vec(2, u16s(o.signatureAlgorithms ?? DEFAULT_SIGALGS))]);
    }
    if (o.alpn) {
      const names = concatBytes(o.alpn.map((n) => vec(1, new TextEncoder().encode(n))));
      exts.push([16, vec(2, names)]);
    }
    if (o.ems !== false) exts.push([23, new Uint8Array(0)]);
    if (o.ticket !== null) exts.push([35, o.ticket ?? new Uint8Array(0)]);
    if (o.supportedVersions) exts.push([43, vec(1, u16s(o.supportedVersions))]);
    exts.push(...(o.extra ?? []));
    const random = o.random ?? crypto.getRandomValues(new Uint8Array(32));
    const body = concatBytes([
      uint(o.legacyVersion ?? 0x0303, 2),
      random,
      vec(1, o.sessionId ?? new Uint8Array(0)),
      vec(2, u16s(o.suites ?? DEFAULT_SUITES)),
      vec(1, Uint8Array.from(o.compression ?? [0])),
      extensionBlock(exts),
    ]);
    return handshakeMessage(1, body);
  }

  /** Sends a ClientHello. */
  async sendClientHello(o: Hello12Options = {}): Promise<Uint8Array> {
    const m = this.buildClientHello(o);
    this.#hello = m;
    this.#random = m.slice(6, 38);
    await this.sendRecord(22, m);
    return m;
  }

  async #nextRecord(): Promise<{ type: number; content: Uint8Array } | null> {
    const raw = await this.#reader.next();
    if (raw === null) return null;
    if (this.#read !== null) {
      const o = await this.#read.open(raw.header, raw.body);
      return { type: o.type, content: o.content };
    }
    return { type: raw.type, content: raw.body.slice() };
  }

  /** The next handshake message, or "ccs" (which installs the server's write key). */
  async #next(): Promise<Message12> {
    for (;;) {
      const ready = this.#hs.next();
      if (ready) return { type: ready.type, body: ready.body, message: ready.message.slice() };
      const rec = await this.#nextRecord();
      if (rec === null) throw new Error("the server closed the connection");
      if (rec.type === ContentType.ALERT) throw new ServerAlertError(rec.content[1]);
      if (rec.type === ContentType.CHANGE_CIPHER_SPEC) {
        this.#serverCcs = true;
        return "ccs";
      }
      if (rec.type !== ContentType.HANDSHAKE) throw new Error(`record ${rec.type} in handshake`);
      this.#hs.push(rec.content);
    }
  }

  /** Reads the ServerHello. */
  async readServerHello(): Promise<ServerHello12> {
    const m = await this.#next();
    if (m === "ccs" || m.type !== 2) throw new Error("expected ServerHello");
    const b = m.body;
    const sidLen = b[34];
    let p = 35 + sidLen;
    const suite = (b[p] << 8) | b[p + 1];
    const compression = b[p + 2];
    p += 3;
    const extensions = new Map<number, Uint8Array>();
    if (p < b.length) {
      const end = p + 2 + ((b[p] << 8) | b[p + 1]);
      p += 2;
      while (p < end) {
        const t = (b[p] << 8) | b[p + 1], l = (b[p + 2] << 8) | b[p + 3];
        extensions.set(t, b.slice(p + 4, p + 4 + l));
        p += 4 + l;
      }
    }
    return {
      version: (b[0] << 8) | b[1],
      random: b.slice(2, 34),
      sessionId: b.slice(35, 35 + sidLen),
      suite,
      compression,
      extensions,
      message: m.message,
    };
  }

  /**
   * A whole handshake. With `resume`, offers its ticket (or session id) and completes the
   * abbreviated handshake if the server resumes.
   */
  async handshake(o: Hello12Options = {}, resume?: ClientSession12): Promise<Outcome12> {
    // With a ticket and no session id, a random one, so resumption shows in the echo
    // (RFC 5077 §3.4).
    const sessionId = o.sessionId ??
      (resume && resume.sessionId.length > 0
        ? resume.sessionId
        : resume?.ticket
        ? crypto.getRandomValues(new Uint8Array(32))
        : new Uint8Array(0));
    const hello = await this.sendClientHello({
      ...o,
      sessionId,
      ticket: o.ticket !== undefined ? o.ticket : resume?.ticket ?? new Uint8Array(0),
    });
    const sh = await this.readServerHello();
    const hash = hashOf(sh.suite);
    const t = this.#transcript = new TranscriptHash(hash);
    t.update(hello);
    t.update(sh.message);
    const ems = sh.extensions.has(23);
    const seen: (number | "ccs")[] = [2];
    const first = await this.#next();
    const resumed = sh.sessionId.length > 0 && sessionId.length > 0 &&
      sh.sessionId.every((v, i) => v === sessionId[i]) && sh.sessionId.length === sessionId.length;
    let ticket: Outcome12["ticket"] = null;
    let master: Uint8Array;
    let scheme: number | null = null;
    const readTicketAndFinished = async (
      m: Message12,
    ): Promise<void> => {
      if (m !== "ccs" && m.type === 4) {
        seen.push(4);
        const lifetime = new DataView(m.body.buffer, m.body.byteOffset).getUint32(0);
        const len = (m.body[4] << 8) | m.body[5];
        ticket = { lifetime, ticket: m.body.slice(6, 6 + len) };
        t.update(m.message);
        m = await this.#next();
      }
      if (m !== "ccs") throw new Error(`expected ChangeCipherSpec, got ${m.type}`);
      seen.push("ccs");
      const k = this.keys = keyBlock(hash, master, this.#random, sh.random, keyLengthOf(sh.suite));
      this.#read = await Tls12GcmCipher.create(k.serverKey, k.serverIv);
      this.#write ??= await Tls12GcmCipher.create(k.clientKey, k.clientIv);
      const fin = await this.#next();
      if (fin === "ccs" || fin.type !== 20) throw new Error("expected Finished");
      seen.push(20);
      const expected = verifyData12(hash, master, "server", t.digest());
      if (expected.toHex() !== fin.body.toHex()) throw new Error("server Finished mismatch");
      t.update(fin.message);
    };
    if (resumed && resume) {
      master = resume.masterKey;
      await readTicketAndFinished(first);
      await this.sendRecord(20, this.ccsBody);
      await this.#sendFinished(master, hash);
    } else {
      if (first === "ccs" || first.type !== 11) throw new Error("expected Certificate");
      seen.push(11);
      t.update(first.message);
      const leaf = first.body.slice(
        6,
        6 + ((first.body[3] << 16) | (first.body[4] << 8) | first.body[5]),
      );
      const ske = await this.#next();
      if (ske === "ccs" || ske.type !== 12) throw new Error("expected ServerKeyExchange");
      seen.push(12);
      t.update(ske.message);
      const group = (ske.body[1] << 8) | ske.body[2];
      const pointLen = ske.body[3];
      const params = ske.body.slice(0, 4 + pointLen);
      const point = ske.body.slice(4, 4 + pointLen);
      scheme = (ske.body[4 + pointLen] << 8) | ske.body[5 + pointLen];
      const sig = ske.body.slice(8 + pointLen);
      if (this.verifySignature) {
        await verifySke(scheme, leaf, concatBytes([this.#random, sh.random, params]), sig);
      }
      const shd = await this.#next();
      if (shd === "ccs" || shd.type !== 14) throw new Error("expected ServerHelloDone");
      seen.push(14);
      t.update(shd.message);
      const fixed = this.keyPairs.get(group);
      const { serverShare, sharedSecret } = await keyExchange(
        group,
        point,
        fixed ? () => Promise.resolve(fixed) : undefined,
      );
      let cke: Uint8Array = handshakeMessage(16, vec(1, serverShare));
      if (this.mangleKeyExchange) cke = this.mangleKeyExchange(cke);
      await this.sendRecord(22, cke);
      t.update(cke);
      if (this.afterKeyExchange) await this.afterKeyExchange(this);
      master = masterSecret(
        hash,
        sharedSecret,
        ems ? { sessionHash: t.digest() } : { clientRandom: this.#random, serverRandom: sh.random },
      );
      const k = keyBlock(hash, master, this.#random, sh.random, keyLengthOf(sh.suite));
      this.#write = await Tls12GcmCipher.create(k.clientKey, k.clientIv);
      await this.sendRecord(20, this.ccsBody);
      await this.#sendFinished(master, hash);
      await readTicketAndFinished(await this.#next());
    }
    return {
      serverHello: sh,
      resumed: resumed && resume !== undefined,
      ticket,
      scheme,
      serverMessages: seen,
      session: {
        masterKey: master,
        suite: sh.suite,
        sessionId: sh.sessionId,
        ticket: (ticket as Outcome12["ticket"])?.ticket ?? resume?.ticket ?? null,
        ems,
      },
    };
  }

  /** The next handshake message or "ccs" (tests reading past the handshake). */
  nextMessage(): Promise<Message12> {
    return this.#next();
  }

  async #sendFinished(master: Uint8Array, hash: "SHA-256" | "SHA-384"): Promise<void> {
    const m = this.finishedMessage(master, hash);
    await this.sendProtected(22, this.mangleFinished ? this.mangleFinished(m) : m);
  }

  /** The client Finished for the transcript so far (added to it). */
  finishedMessage(master: Uint8Array, hash: "SHA-256" | "SHA-384"): Uint8Array<ArrayBuffer> {
    const t = this.#transcript!;
    const m = handshakeMessage(20, verifyData12(hash, master, "client", t.digest()));
    t.update(m);
    return m;
  }

  /** Whether the server's ChangeCipherSpec came. */
  get serverChangedCipher(): boolean {
    return this.#serverCcs;
  }

  /** Sends a plaintext record. */
  async sendRecord(type: number, body: Uint8Array, version = 0x0303): Promise<void> {
    await writeAll(this.transport, record(type, body, version));
  }

  /** Sends a record under the client's write key. */
  async sendProtected(type: number, content: Uint8Array): Promise<void> {
    if (this.#write === null) throw new Error("no write key");
    await writeAll(this.transport, await this.#write.seal(type, content));
  }

  /** Application data after the handshake. */
  async write(data: Uint8Array | string): Promise<void> {
    await this.sendProtected(23, typeof data === "string" ? new TextEncoder().encode(data) : data);
  }

  /** The next application data record's content (alerts throw {@link ServerAlertError}). */
  async readData(): Promise<Uint8Array> {
    for (;;) {
      const rec = await this.#nextRecord();
      if (rec === null) throw new Error("the server closed the connection");
      if (rec.type === 23) return rec.content;
      if (rec.type === 21) throw new ServerAlertError(rec.content[1]);
      throw new Error(`record ${rec.type} after the handshake`);
    }
  }

  /** The next alert: `[level, description]`, or `null` at end of stream. */
  async readAlert(): Promise<[number, number] | null> {
    for (;;) {
      let rec;
      try {
        rec = await this.#nextRecord();
      } catch (e) {
        if (e instanceof Deno.errors.BadResource) return null;
        throw e;
      }
      if (rec === null) return null;
      if (rec.type === 21) return [rec.content[0], rec.content[1]];
    }
  }
}

async function verifySke(scheme: number, leaf: Uint8Array, signed: Uint8Array, sig: Uint8Array) {
  const spki = certificateSpki(leaf);
  const algs: Record<number, [RsaHashedImportParams | EcKeyImportParams | Algorithm, unknown]> = {
    0x0403: [{ name: "ECDSA", namedCurve: "P-256" }, { name: "ECDSA", hash: "SHA-256" }],
    0x0503: [{ name: "ECDSA", namedCurve: "P-384" }, { name: "ECDSA", hash: "SHA-384" }],
    0x0807: [{ name: "Ed25519" }, { name: "Ed25519" }],
    0x0804: [{ name: "RSA-PSS", hash: "SHA-256" }, { name: "RSA-PSS", saltLength: 32 }],
    0x0805: [{ name: "RSA-PSS", hash: "SHA-384" }, { name: "RSA-PSS", saltLength: 48 }],
    0x0401: [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, { name: "RSASSA-PKCS1-v1_5" }],
    0x0501: [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-384" }, { name: "RSASSA-PKCS1-v1_5" }],
  };
  const [imp, params] = algs[scheme];
  const key = await crypto.subtle.importKey("spki", spki, imp, false, ["verify"]);
  let s = new Uint8Array(sig);
  if (scheme === 0x0403 || scheme === 0x0503) s = derToP1363(s, scheme === 0x0403 ? 32 : 48);
  const ok = await crypto.subtle.verify(
    params as AlgorithmIdentifier,
    key,
    s,
    new Uint8Array(signed),
  );
  if (!ok) throw new Error("ServerKeyExchange signature does not verify");
}

function derToP1363(der: Uint8Array, n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(2 * n);
  let p = 2;
  for (let i = 0; i < 2; i++) {
    const len = der[p + 1];
    let v = der.subarray(p + 2, p + 2 + len);
    while (v.length > n && v[0] === 0) v = v.subarray(1);
    out.set(v, (i + 1) * n - v.length);
    p += 2 + len;
  }
  return out;
}

/** A {@link Tls12Client} wired to an `acceptTls` connection over memory. */
export interface Pair12 {
  client: Tls12Client;
  conn: TlsConnection;
  transport: MemoryTransport;
  done(): Promise<void>;
}

/** Starts `acceptTls` on one end of a memory pair and a TLS 1.2 client on the other. */
export function connectPair12(options: TlsConnectionOptions): Pair12 {
  const [c, s] = memoryTransportPair();
  const conn = acceptTls(s, options);
  return {
    client: new Tls12Client(c),
    conn,
    transport: c,
    async done() {
      c.close();
      await conn.handshake().catch(() => {});
    },
  };
}
