/**
 * `ServerConnection`: the server side of one `SSL` as far as tickets go: ClientHello ticket
 * processing (`ssl/ssl_sess.c:ssl_get_prev_session`, `ssl/statem/extensions_srvr.c:
 * tls_parse_ctos_psk`) and NewSessionTicket issuance (`ssl/statem/statem_srvr.c:
 * tls_construct_new_session_ticket`).
 *
 * @module
 */

import { DerError } from "../der/errors.ts";
import { AlertDescription, TlsAlert } from "./alert.ts";
import { NoSealingKeyError, type NoSealingKeyReason, TicketKeyError } from "../ticket/errors.ts";
import { decodeSession, encodeSession } from "../session/codec.ts";
import { SslSession } from "../session/ssl_session.ts";
import { TicketStatus } from "../ticket/status.ts";
import { callTicketKeyCb, decryptTicket, describeValue } from "./_decrypt_ticket.ts";
import type { SslContext } from "./ssl_context.ts";
import { resumptionPsk } from "./key_schedule.ts";
import { tls13Suite } from "./wire/cipher_suites.ts";
import {
  encodeNewSessionTicket,
  type NewSessionTicket,
  ticketNonce,
} from "./wire/new_session_ticket.ts";
import {
  encodePreSharedKey,
  parsePskKeyExchangeModes,
  type PreSharedKeyOffer,
  PreSharedKeyReader,
} from "./wire/psk.ts";

import { SSL3_VERSION, TLS1_2_VERSION, TLS1_3_VERSION } from "../session/versions.ts";
export { TLS1_2_VERSION, TLS1_3_VERSION } from "../session/versions.ts";

/**
 * `ONE_WEEK_SEC`: the TLS 1.3 ticket lifetime cap (`create_ticket_prequel`).
 *
 * @example
 * ```ts
 * import { ONE_WEEK_SEC } from "@seed/session-tickets";
 * console.log(ONE_WEEK_SEC); // 604800
 * ```
 */
export const ONE_WEEK_SEC = 604800;

/**
 * The ticket-related parts of a ClientHello. Extension bodies may be given raw (as received)
 * or, for `pre_shared_key`, already parsed.
 */
export interface ClientHello {
  /** The negotiated protocol version: 0x0301 to 0x0303, or 0x0304 for TLS 1.3. */
  version: number;
  /** `legacy_session_id` (TLS 1.2 session-id resumption; copied into renewed TLS 1.2 tickets). */
  sessionId?: Uint8Array;
  /** TLS ≤1.2 `session_ticket` extension body: `null`/absent = no extension, empty = empty. */
  sessionTicket?: Uint8Array | null;
  /** Whether the ClientHello carried `extended_master_secret` (TLS ≤1.2). */
  extendedMasterSecret?: boolean;
  /** The offered cipher suites (TLS ≤1.2: a resumed session's suite must be among them). */
  cipherSuites?: readonly number[];
  /** TLS 1.3: the suite the server selected (a PSK whose hash differs is skipped). */
  cipherSuite?: number;
  /** TLS 1.3 `psk_key_exchange_modes`: the raw body or the mode list. */
  pskKeyExchangeModes?: Uint8Array | readonly number[] | null;
  /** TLS 1.3 `pre_shared_key`: the raw body or the parsed offer. */
  preSharedKey?: Uint8Array | PreSharedKeyOffer | null;
}

/** What the server decided about a ClientHello. */
export interface HelloDecision {
  /** Whether the handshake resumes a session. */
  resumed: boolean;
  /** The session resumed (null on a full handshake). */
  session: SslSession | null;
  /** TLS 1.3: the index of the accepted PSK identity (-1 when none); its binder is yours to verify. */
  identity: number;
  /** Whether the server will send tickets (TLS 1.2: the ServerHello carries session_ticket). */
  ticketExpected: boolean;
}

/** The session parameters a TLS stack negotiated on a full handshake. */
export interface NegotiatedSession {
  /** The cipher suite id. */
  cipherId: number;
  /** The master secret (TLS 1.2); TLS 1.3 derives per-ticket PSKs instead. */
  masterKey?: Uint8Array;
  /** Whether extended master secret was negotiated (TLS 1.2). */
  extendedMasterSecret?: boolean;
  /** The key exchange group (e.g. 0x1d x25519), 0 for RSA key exchange. */
  kexGroup?: number;
  /** The selected ALPN protocol. */
  alpnSelected?: Uint8Array | null;
  /** The peer certificate, raw DER. */
  peerCertificate?: Uint8Array | null;
}

/** One NewSessionTicket the server sends. */
export interface IssuedTicket {
  /** The message fields. */
  message: NewSessionTicket;
  /** The handshake message bytes (type 4, with its 4-byte header). */
  bytes: Uint8Array;
  /** The session sealed in the ticket (or cached, for a stateful ticket). */
  session: SslSession;
}

/** One `dec_cb` call as a connection records it (for tests and tracing). */
export interface DecryptCallbackCall {
  /** The status `dec_cb` received (`TicketStatus`). */
  status: TicketStatus;
  /** `keyname_length`: the length of the `keyName` view it received. */
  keyNameLength: number;
  /** What it returned, or `null` when it threw, rejected or returned a non-number. */
  ret: number | null;
}

/** Per-connection callback counts, for tests and metrics. */
export interface ConnectionCounters {
  /** `gen_cb` calls. */
  genCb: number;
  /** `dec_cb` calls. */
  decCb: number;
  /** Ticket key callback calls with enc = 1. */
  keyCbEnc: number;
  /** Ticket key callback calls with enc = 0. */
  keyCbDec: number;
}

const alert = (n: number, why: string) => new TlsAlert(n, why);
const internal = (why: string) => alert(AlertDescription.INTERNAL_ERROR, why);

/**
 * The server side of one handshake (`SSL`). Feed it the ClientHello with
 * {@link ServerConnection.processClientHello}; on a full handshake give it the negotiated
 * parameters with {@link ServerConnection.establishSession}; after the handshake ask it for
 * the NewSessionTickets to send with {@link ServerConnection.newSessionTickets}. A fatal
 * condition throws a {@link TlsAlert} with OpenSSL's alert number.
 *
 * @example
 * ```ts
 * import { SslContext } from "@seed/session-tickets";
 * const ctx = await SslContext.create();
 * const conn = ctx.newConnection();
 * const hello = await conn.processClientHello({ version: 0x0303, sessionTicket: new Uint8Array(0) });
 * console.log(hello.resumed, hello.ticketExpected); // false true
 * conn.establishSession({ cipherId: 0xc030, masterKey: new Uint8Array(48), extendedMasterSecret: true });
 * const [nst] = await conn.newSessionTickets();
 * console.log(nst.message.lifetime); // 7200
 * ```
 */
export class ServerConnection {
  /** The context (`session_ctx`) whose callbacks and keys this connection uses. */
  readonly context: SslContext;
  /** `SSL_get_session`: the current session (inside `gen_cb`, the one being sealed). */
  session: SslSession | null = null;
  /** The protocol version of the current handshake. */
  version = 0;
  /** Whether the handshake resumed (`s->hit`). */
  hit = false;
  /** `s->ext.ticket_expected`. */
  ticketExpected = false;
  /** TLS 1.3 tickets per handshake, inherited from the context (`SSL_set_num_tickets`). */
  numTickets: number;
  /** Callback call counts. */
  readonly counters: ConnectionCounters = { genCb: 0, decCb: 0, keyCbEnc: 0, keyCbDec: 0 };
  /** Every `dec_cb` call of this connection, in order, with its status and return value. */
  readonly decCbCalls: DecryptCallbackCall[] = [];
  /**
   * Every ticket this connection did not seal because the context's ticket sealer had no key
   * that could seal (a `NoSealingKeyError`), in order, with the sealer's reason and message:
   * TLS 1.2 sent an empty NewSessionTicket, TLS 1.3 none (as for a key callback returning 0).
   */
  readonly ticketsNotSealed: { reason: NoSealingKeyReason; message: string }[] = [];
  #sentTickets = 0;
  #nextNonce = 0;
  #extraTickets = 0;
  #handshakeTicketsDone = false;
  #phaRequested = false;
  #alpn: Uint8Array | null = null;

  /** Creates a connection; use {@link SslContext.newConnection}. @param context The context. */
  constructor(context: SslContext) {
    this.context = context;
    this.numTickets = context.numTickets;
  }

  /** `n` bytes from the context's random source (checked: it is caller-supplied). */
  #random(n: number): Uint8Array<ArrayBuffer> {
    const bytes = this.context.random(new Uint8Array(n));
    if (!(bytes instanceof Uint8Array) || bytes.length !== n) {
      throw internal(`the random source returned no ${n} bytes`);
    }
    return bytes;
  }

  #nowSeconds(): number {
    return Math.floor(this.context.now() / 1000);
  }

  /**
   * Processes a ClientHello's ticket parts and decides as OpenSSL does: which session to
   * resume, whether tickets will be sent, or which fatal alert to raise. For a TLS 1.3
   * HelloRetryRequest, call it again with the second ClientHello (`dec_cb` then runs again).
   *
   * @throws {TlsAlert} 80 (callback failure, ABORT, USE on a non-success status; a ticket key
   * callback or `pskFindSession` that throws, rejects or returns something of the wrong type,
   * the message naming the callback and what it returned), 40 (EMS downgrade), 47 (TLS 1.2
   * resumed cipher not offered), 50 (malformed PSK extension).
   */
  async processClientHello(hello: ClientHello): Promise<HelloDecision> {
    this.version = hello.version;
    this.hit = false;
    this.#handshakeTicketsDone = false;
    return hello.version >= TLS1_3_VERSION
      ? await this.#helloTls13(hello)
      : await this.#helloTls12(hello);
  }

  async #helloTls12(hello: ClientHello): Promise<HelloDecision> {
    const ctx = this.context;
    const sessionId = hello.sessionId ?? new Uint8Array(0);
    this.ticketExpected = false;
    let status: TicketStatus = TicketStatus.NONE;
    let session: SslSession | null = null;
    // tls_get_ticket_from_client: no dec_cb for SSL 3.0, when tickets are off or the
    // extension is absent.
    if (hello.version > SSL3_VERSION && ctx.ticketsEnabled12 && hello.sessionTicket != null) {
      const r = await decryptTicket(this, hello.sessionTicket, sessionId, false);
      if (r.status === TicketStatus.FATAL_ERR_OTHER) throw internal("ticket decryption failed");
      status = r.status;
      session = r.session;
      this.ticketExpected = r.ticketExpected;
    }
    let fromCache = false;
    if (status === TicketStatus.NONE || status === TicketStatus.EMPTY) {
      if (sessionId.length > 0) {
        fromCache = true;
        session = ctx.sessionCache.get(sessionId) ?? null;
      }
    }
    session = this.#validate(session, hello, fromCache);
    if (session === null) return this.#decision(null, -1);
    if (hello.cipherSuites && !hello.cipherSuites.includes(session.cipherId)) {
      throw alert(AlertDescription.ILLEGAL_PARAMETER, "resumed session's cipher not offered");
    }
    this.session = session;
    this.hit = true;
    return this.#decision(session, -1);
  }

  /** The checks `ssl/ssl_sess.c:ssl_get_prev_session` runs after `dec_cb`. */
  #validate(s: SslSession | null, hello: ClientHello, fromCache: boolean): SslSession | null {
    if (s === null) return null;
    const ctx = this.context;
    const ems = hello.version < TLS1_3_VERSION && (hello.extendedMasterSecret ?? false);
    let miss = false;
    if (s.sslVersion !== hello.version) miss = true;
    else if (s.sessionIdContext.toHex() !== ctx.sessionIdContext.toHex()) miss = true;
    else if (ctx.verifyPeer && ctx.sessionIdContext.length === 0) {
      throw internal("session id context uninitialized with SSL_VERIFY_PEER");
    } else if (s.time + s.timeout < this.#nowSeconds()) {
      // sess_timedout: expired only when now > time + timeout
      if (fromCache) ctx.sessionCache.remove(s.sessionId);
      miss = true;
    } else if (s.extendedMasterSecret && hello.version < TLS1_3_VERSION && !ems) {
      throw alert(AlertDescription.HANDSHAKE_FAILURE, "session used EMS, ClientHello lacks it");
    } else if (!s.extendedMasterSecret && ems) miss = true;
    if (!miss) return s;
    if (!fromCache) this.ticketExpected = true;
    return null;
  }

  #decision(session: SslSession | null, identity: number): HelloDecision {
    if (this.version < TLS1_3_VERSION && !this.context.ticketsEnabled12) {
      this.ticketExpected = false;
    }
    return { resumed: session !== null, session, identity, ticketExpected: this.ticketExpected };
  }

  async #helloTls13(hello: ClientHello): Promise<HelloDecision> {
    const ctx = this.context;
    this.session = null;
    this.ticketExpected = true;
    if (hello.preSharedKey == null) return this.#decision(null, -1);
    const modes = hello.pskKeyExchangeModes;
    const modeList = modes == null
      ? []
      : modes instanceof Uint8Array
      ? parsePskKeyExchangeModes(modes).modes
      : modes;
    if (!modeList.includes(0) && !modeList.includes(1)) return this.#decision(null, -1);

    const offer = hello.preSharedKey;
    // libssl reads the extension lazily: identities one by one, binders only for the one used.
    const reader = new PreSharedKeyReader(
      offer instanceof Uint8Array ? offer : encodePreSharedKey(offer),
    );
    const negotiated = hello.cipherSuite === undefined ? undefined : tls13Suite(hello.cipherSuite);
    const stateful = ctx.statefulTickets13;
    this.ticketExpected = false;
    let session: SslSession | null = null;
    let index = -1;
    for (const id of reader) {
      if (id.identity.length === 0) {
        throw alert(AlertDescription.DECODE_ERROR, "empty PSK identity");
      }
      let s: SslSession | null = null;
      if (ctx.pskFindSession) {
        const find = ctx.pskFindSession;
        let found: unknown;
        try {
          found = await find(this, id.identity);
        } catch {
          throw internal("pskFindSession threw or rejected");
        }
        if (found instanceof SslSession) s = found;
        else if (found != null) {
          throw internal(
            `pskFindSession returned ${describeValue(found)}, not an SslSession or null`,
          );
        }
      }
      if (s) {
        s = s.dup();
        s.sessionIdContext = ctx.sessionIdContext.slice();
        this.ticketExpected = true;
      } else {
        let status: TicketStatus;
        if (stateful) {
          const cached = id.identity.length === 32 ? ctx.sessionCache.get(id.identity) : undefined;
          status = cached ? TicketStatus.SUCCESS : TicketStatus.NO_DECRYPT;
          s = cached?.dup() ?? null;
          this.ticketExpected = true;
        } else {
          const r = await decryptTicket(this, id.identity, null, true);
          status = r.status;
          s = r.session;
          if (r.ticketExpected) this.ticketExpected = true;
        }
        if (status === TicketStatus.EMPTY) {
          throw alert(AlertDescription.DECODE_ERROR, "empty ticket");
        }
        if (status === TicketStatus.FATAL_ERR_OTHER) throw internal("ticket decryption failed");
        if (status === TicketStatus.NONE || status === TicketStatus.NO_DECRYPT || s === null) {
          continue;
        }
        if (ctx.maxEarlyData > 0 && !ctx.noAntiReplay && !ctx.sessionCache.remove(s.sessionId)) {
          continue; // anti-replay: a stateful ticket is single use
        }
      }
      const hash = tls13Suite(s.cipherId)?.hash;
      if (negotiated && hash !== negotiated.hash) {
        this.ticketExpected = true; // 3.0.21+: "not sending NewSessionTicket after ciphersuite mismatch"
        continue;
      }
      session = s;
      index = id.index;
      break;
    }
    if (session === null) return this.#decision(null, -1);
    const hashLen = tls13Suite(session.cipherId)?.hashLength ?? 32;
    reader.binder(index, hashLen);
    const valid = this.#validate(session, hello, false);
    if (valid === null) return this.#decision(null, -1);
    this.session = valid;
    this.hit = true;
    return this.#decision(valid, index);
  }

  /**
   * A servername (SNI) callback switched this connection to `ctx` (`SSL_set_SSL_CTX`, then
   * copying its options), after the ClientHello's tickets were processed, as in libssl, where
   * `dec_cb` runs before the servername callback. Tickets, ticket keys and ticket callbacks
   * still come from {@link ServerConnection.context} (libssl's `session_ctx`);
   * only a switch to a context with `noTicket` matters: no ticket is then sent
   * (`ssl/statem/extensions.c:final_server_name`), and a full handshake's session gets an id.
   *
   * @example
   * ```ts
   * import { SslContext } from "@seed/session-tickets";
   * const first = await SslContext.create();
   * const second = await SslContext.create({ noTicket: true });
   * const conn = first.newConnection();
   * await conn.processClientHello({ version: 0x0303, sessionTicket: new Uint8Array(0) });
   * conn.useServerNameContext(second);
   * console.log(conn.ticketExpected); // false
   * ```
   */
  useServerNameContext(ctx: SslContext): void {
    if (ctx.noTicket && !this.context.noTicket) this.ticketExpected = false;
  }

  /**
   * Creates the session of a full handshake from what the TLS stack negotiated
   * (`ssl_get_new_session`): time now, the context's timeout and session-id context; in
   * TLS 1.2 an empty session id when a ticket will be sent, else 32 random bytes, and the
   * session is added to the server cache.
   */
  establishSession(params: NegotiatedSession): SslSession {
    const ctx = this.context;
    const tls13 = this.version >= TLS1_3_VERSION;
    const s = new SslSession({
      sslVersion: this.version || TLS1_2_VERSION,
      cipherId: params.cipherId,
      masterKey: params.masterKey ?? new Uint8Array(0),
      time: this.#nowSeconds(),
      timeout: ctx.timeout,
      sessionIdContext: ctx.sessionIdContext,
      kexGroup: params.kexGroup ?? 0,
      alpnSelected: params.alpnSelected ?? null,
      peerCertificate: params.peerCertificate ?? null,
    });
    if (!tls13) s.extendedMasterSecret = params.extendedMasterSecret ?? false;
    this.#alpn = params.alpnSelected ?? null;
    const ticketed = this.ticketExpected && (tls13 || ctx.ticketsEnabled12);
    s.sessionId = ticketed || tls13 ? new Uint8Array(0) : this.#random(32);
    this.session = s;
    this.hit = false;
    if (!tls13) ctx.sessionCache.add(s);
    return s;
  }

  /**
   * `SSL_new_session_ticket`: queues one more TLS 1.3 ticket, sent by the next call to
   * {@link ServerConnection.newSessionTickets}. Returns false (nothing queued) unless this is
   * a TLS 1.3 connection whose handshake tickets were already sent.
   */
  requestTicket(): boolean {
    if (this.version < TLS1_3_VERSION || !this.#handshakeTicketsDone) return false;
    this.#extraTickets++;
    return true;
  }

  /**
   * Post-handshake client authentication completed: tickets are sent again
   * (`tls_process_client_certificate` resets the count), regardless of `ticketExpected`.
   */
  postHandshakeAuth(): void {
    this.#sentTickets = 0;
    this.#phaRequested = true;
    this.#handshakeTicketsDone = false;
  }

  /**
   * The NewSessionTickets the server sends now: after the handshake (TLS 1.2: at most one;
   * TLS 1.3: `numTickets` on a full handshake, at most one on resumption, none when no ticket
   * is expected), then any queued by {@link ServerConnection.requestTicket}. TLS 1.3 needs
   * the resumption master secret to derive each ticket's PSK.
   *
   * When the context's ticket sealer has no key that can seal (it rejects with a
   * `NoSealingKeyError`: a new fleet, a spent budget, every key retired), the ticket is not
   * sealed, as when a key callback returns 0: TLS 1.2 sends an empty NewSessionTicket (lifetime
   * 0), TLS 1.3 sends none but counts it as sent (`gen_cb` has run, as in OpenSSL 3.0.7+). The
   * handshake completes; {@link ServerConnection.ticketsNotSealed} and the context's
   * `metrics` record why.
   *
   * @throws {TlsAlert} 80 when `gen_cb` returns 0, throws or rejects, the key callback fails
   * (throws, rejects, returns a negative `ret` or something that is not a `{ ret, key:
   * TicketKey }`, or a key that cannot seal; the message names the callback and what it
   * returned), or the ticket sealer fails otherwise (a session it cannot seal).
   */
  async newSessionTickets(
    options: { resumptionMasterSecret?: Uint8Array } = {},
  ): Promise<IssuedTicket[]> {
    if (this.session === null) throw internal("no session: establishSession or resume first");
    if (this.version < TLS1_3_VERSION) {
      if (this.#handshakeTicketsDone) return [];
      this.#handshakeTicketsDone = true;
      if (!this.ticketExpected || !this.context.ticketsEnabled12) return [];
      return [await this.#ticketTls12()];
    }
    const rms = options.resumptionMasterSecret;
    if (!rms) throw internal("TLS 1.3 tickets need the resumption master secret");
    const out: IssuedTicket[] = [];
    if (!this.#handshakeTicketsDone) {
      this.#handshakeTicketsDone = true;
      const pha = this.#phaRequested;
      this.#phaRequested = false;
      if ((pha || this.ticketExpected) && this.numTickets > this.#sentTickets) {
        do {
          const t = await this.#ticketTls13(rms);
          if (t) out.push(t);
        } while (!(this.hit || this.numTickets <= this.#sentTickets));
      }
      this.ticketExpected = false;
    }
    while (this.#extraTickets > 0) {
      const t = await this.#ticketTls13(rms);
      if (t) out.push(t);
    }
    return out;
  }

  async #callGen(): Promise<void> {
    const gen = this.context.genCb;
    if (gen === null) return;
    this.counters.genCb++;
    let ret: unknown;
    try {
      ret = await gen(this, this.context.cbArg);
    } catch {
      throw internal("gen_cb failed");
    }
    if (typeof ret !== "number" || ret === 0 || Number.isNaN(ret)) {
      throw internal("gen_cb returned 0");
    }
  }

  /**
   * Seals a session as `construct_stateless_ticket` does; `null` means no ticket: the key
   * callback returned 0, or the ticket sealer has no key that can seal (`NoSealingKeyError`).
   */
  async #seal(session: SslSession): Promise<Uint8Array | null> {
    const ctx = this.context;
    // construct_stateless_ticket's "fresh copy to clean up": the bytes sealed are
    // i2d(d2i(i2d(session))), which differ from i2d(session) only where d2i normalises a zero
    // time or timeout. The sealer encodes the session; its key refuses an empty or over-long DER.
    const keyCb = ctx.ticketKeyCb;
    try {
      const sealed = session.time === 0 || session.timeout === 0
        ? decodeSession(encodeSession(session))
        : session;
      if (keyCb === null) {
        try {
          return await ctx.ticketSealer.seal(sealed);
        } catch (e) {
          if (!(e instanceof NoSealingKeyError)) throw e;
          this.#notSealed(e);
          return null;
        }
      }
      const none = new Uint8Array(0);
      const answer = await callTicketKeyCb(this, keyCb, none, none, true);
      if (answer.key === null) return null;
      try {
        return await answer.key.seal(sealed, answer.iv ? { iv: answer.iv } : undefined);
      } catch (e) {
        if (!(e instanceof TicketKeyError)) throw e;
        throw internal(
          `ticketKeyCb (sealing a ticket) returned a key that cannot seal: ${e.message}`,
        );
      }
    } catch (e) {
      if (e instanceof TicketKeyError || e instanceof DerError) throw internal(e.message);
      throw e;
    }
  }

  /** Records a ticket not sealed for lack of a key, on this connection and its context. */
  #notSealed(e: NoSealingKeyError): void {
    const m = this.context.metrics;
    m.ticketsNotSealed++;
    m.ticketsNotSealedByReason[e.reason]++;
    this.ticketsNotSealed.push({ reason: e.reason, message: e.message });
  }

  #lifetimeCap(timeout: number): number {
    const hint = this.context.ticketKeyCb === null
      ? this.context.ticketSealer.lifetimeHint?.(timeout)
      : undefined;
    return hint === undefined ? timeout : Math.min(timeout, hint);
  }

  async #ticketTls12(): Promise<IssuedTicket> {
    const session = this.session!;
    await this.#callGen();
    const ticket = await this.#seal(this.session!);
    const message: NewSessionTicket = ticket === null
      ? { tls13: false, lifetime: 0, ticket: new Uint8Array(0) }
      : { tls13: false, lifetime: this.hit ? 0 : this.#lifetimeCap(session.timeout), ticket };
    return { message, bytes: encodeNewSessionTicket(message), session };
  }

  /** One TLS 1.3 ticket (§7.3); `null` when the key callback declined (counted as sent). */
  async #ticketTls13(rms: Uint8Array): Promise<IssuedTicket | null> {
    const ctx = this.context;
    if (this.#sentTickets !== 0 || this.hit) this.session = this.session!.dup(false);
    const s = this.session!;
    s.sessionId = this.#random(32);
    const ageAdd = this.#random(4);
    s.ticketAgeAdd = ((ageAdd[0] << 24) | (ageAdd[1] << 16) | (ageAdd[2] << 8) | ageAdd[3]) >>> 0;
    const nonce = ticketNonce(this.#nextNonce);
    const suite = tls13Suite(s.cipherId);
    if (!suite) throw internal(`session cipher 0x${s.cipherId.toString(16)} is not TLS 1.3`);
    s.masterKey = resumptionPsk(rms, nonce, suite.hash);
    s.time = this.#nowSeconds();
    s.alpnSelected = this.#alpn?.slice() ?? s.alpnSelected;
    s.maxEarlyData = ctx.maxEarlyData;
    await this.#callGen();
    const stateful = ctx.statefulTickets13;
    const ticket = stateful ? s.sessionId.slice() : await this.#seal(s);
    this.#sentTickets++;
    this.#nextNonce++;
    if (this.#extraTickets > 0) this.#extraTickets--;
    if (ticket === null) return null;
    if (stateful) ctx.sessionCache.add(s);
    const message: NewSessionTicket = {
      tls13: true,
      lifetime: Math.min(this.#lifetimeCap(s.timeout), ONE_WEEK_SEC),
      ageAdd: s.ticketAgeAdd,
      nonce,
      ticket,
      maxEarlyData: ctx.maxEarlyData,
    };
    return { message, bytes: encodeNewSessionTicket(message), session: s };
  }
}
