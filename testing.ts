/**
 * Loopback handshakes for testing ticket callbacks, the way OpenSSL's own test suite
 * (`test/sslapitest.c`) drives a client and a server over a BIO pair, but with no network and
 * no TLS stack: a {@link TestClient} behaves like an OpenSSL client as far as tickets go, and
 * {@link handshake} runs one handshake between it and an {@link SslContext}, returning what
 * happened (resumed or not, the alert, the callback calls, the NewSessionTickets received).
 *
 * @example
 * ```ts
 * import { handshake, TestClient } from "@seed/session-tickets/testing";
 * import { SslContext } from "@seed/session-tickets";
 * const ctx = await SslContext.create({
 *   genCb: (conn) => (conn.session!.setTicketAppData("Hello World"), 1),
 * });
 * const client = new TestClient({ version: "1.3" });
 * const first = await handshake(ctx, client);
 * const second = await handshake(ctx, client);
 * console.log(first.tickets.length, second.resumed, second.tickets.length); // 2 true 1
 * ```
 *
 * @module
 */

import { TlsAlert } from "./src/server/alert.ts";
import type { SslSession } from "./src/session/ssl_session.ts";
import { TLS1_2_VERSION, TLS1_3_VERSION } from "./src/session/versions.ts";
import type { TicketStatus } from "./src/ticket/status.ts";
import type {
  ClientHello,
  DecryptCallbackCall,
  IssuedTicket,
  ServerConnection,
} from "./src/server/server_connection.ts";
import type { SslContext } from "./src/server/ssl_context.ts";
import { tls13Suite } from "./src/server/wire/cipher_suites.ts";
import type { NewSessionTicket } from "./src/server/wire/new_session_ticket.ts";
import type { PskIdentity } from "./src/server/wire/psk.ts";

/**
 * A random source for `SslContextOptions.random` that makes TLS 1.3 ticket lengths stable:
 * random bytes, except that a 4-byte draw (`ticket_age_add`) is kept within 2^30..2^31-1, so
 * its DER INTEGER is always 4 bytes. With `crypto.getRandomValues` about 1 ticket in 256 is
 * 16 bytes shorter than its siblings (an age_add below 2^23 encodes in 3 bytes or fewer), in
 * OpenSSL as here.
 *
 * @example
 * ```ts
 * import { stableLengthRandom } from "@seed/session-tickets/testing";
 * import { SslContext } from "@seed/session-tickets";
 * const ctx = await SslContext.create({ random: stableLengthRandom });
 * const b = stableLengthRandom(new Uint8Array(4));
 * console.log(b[0] >> 6, typeof ctx.random); // 1 "function"
 * ```
 *
 * @param bytes The array to fill.
 * @returns `bytes`, filled.
 */
export function stableLengthRandom(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  crypto.getRandomValues(bytes);
  if (bytes.length === 4) bytes[0] = 0x40 | (bytes[0] & 0x3f);
  return bytes;
}

/** The protocol versions a {@link TestClient} speaks. */
export type TestClientVersion = "1.2" | "1.3";

/** `psk_dhe_ke`, the only PSK key exchange mode OpenSSL clients offer by default. */
const PSK_DHE_KE = 1;
/** x25519, the key exchange group recorded in the sessions. */
const X25519 = 0x1d;

/** Options of a {@link TestClient}. */
export interface TestClientOptions {
  /** The protocol version of every handshake. */
  version: TestClientVersion;
  /**
   * The cipher suite offered and negotiated: default `0xc030` (ECDHE-RSA-AES256-GCM-SHA384) in
   * TLS 1.2, `0x1302` (TLS_AES_256_GCM_SHA384) in TLS 1.3.
   */
  cipherSuite?: number;
  /** TLS 1.2: offer extended master secret (default true, as OpenSSL clients do). */
  extendedMasterSecret?: boolean;
  /** The client's `SSL_OP_NO_TICKET`: no session_ticket extension, no PSK (default false). */
  noTicket?: boolean;
}

/**
 * The session a TLS 1.2 {@link TestClient} keeps (the client side of `SSL_SESSION`): what it
 * needs to resume, by ticket or by session id.
 */
export interface ClientSession12 {
  /** The session id: the ServerHello's, or SHA-256 of the ticket once one was received. */
  sessionId: Uint8Array;
  /** The last non-empty ticket received (`SSL_SESSION_get0_ticket`), or null. */
  ticket: Uint8Array | null;
  /** `SSL_SESSION_get_ticket_lifetime_hint`: the raw hint of that ticket's NewSessionTicket. */
  lifetimeHint: number;
  /** The negotiated cipher suite. */
  cipherId: number;
  /** The master secret (secret). */
  masterKey: Uint8Array;
  /** Whether extended master secret was negotiated. */
  extendedMasterSecret: boolean;
}

/** A TLS 1.3 ticket a {@link TestClient} keeps (one client `SSL_SESSION` per NewSessionTicket). */
export interface ClientTicket13 {
  /** The ticket, offered as a PSK identity. */
  ticket: Uint8Array;
  /** `ticket_lifetime` of its NewSessionTicket. */
  lifetime: number;
  /** `ticket_age_add`: added to the age to obfuscate it. */
  ageAdd: number;
  /** When it was received, in the context clock's milliseconds. */
  receivedAt: number;
  /** The suite of the handshake that issued it (its hash gives the binder length). */
  cipherId: number;
}

/**
 * A simulated client that behaves like an OpenSSL client as far as tickets go:
 *
 * - TLS 1.2: it keeps one session. A fresh connection (or one whose session has neither ticket
 *   nor session id) sends an empty `session_ticket` extension and an empty session id;
 *   resuming sends the ticket with a 32-byte legacy session id = SHA-256(ticket)
 *   (`statem_clnt.c:tls_process_new_session_ticket`), or, without a ticket, the server's
 *   session id. An empty NewSessionTicket is ignored, as OpenSSL clients ignore it.
 * - TLS 1.3: it keeps every ticket received and offers the newest as its PSK identity
 *   (`psk_dhe_ke`, obfuscated age = age_add + age in ms, a binder of the suite's hash length),
 *   as `SSL_set_session(SSL_get1_session(previous))` does; or all of them, newest first.
 *
 * @example
 * ```ts
 * import { TestClient } from "@seed/session-tickets/testing";
 * const client = new TestClient({ version: "1.2" });
 * console.log(client.version, client.session); // "1.2" null
 * ```
 */
export class TestClient {
  /** The protocol version of every handshake. */
  readonly version: TestClientVersion;
  /** The cipher suite offered and negotiated. */
  cipherSuite: number;
  /** TLS 1.2: whether extended master secret is offered. */
  extendedMasterSecret: boolean;
  /** The client's `SSL_OP_NO_TICKET`. */
  noTicket: boolean;
  /** TLS 1.2: the session kept for the next connection (null before the first handshake). */
  session: ClientSession12 | null = null;
  /** TLS 1.3: the tickets received, oldest first. */
  tickets: ClientTicket13[] = [];

  /**
   * Creates a client with no session and no tickets.
   *
   * @param options Version, suite, EMS and tickets on or off.
   */
  constructor(options: TestClientOptions) {
    this.version = options.version === "1.3" ? "1.3" : "1.2";
    this.cipherSuite = options.cipherSuite ?? (options.version === "1.3" ? 0x1302 : 0xc030);
    this.extendedMasterSecret = options.extendedMasterSecret ?? true;
    this.noTicket = options.noTicket ?? false;
  }

  /**
   * Forgets the session and all tickets, as a client starting afresh.
   *
   * @example
   * ```ts
   * import { TestClient } from "@seed/session-tickets/testing";
   * const client = new TestClient({ version: "1.3" });
   * client.forget();
   * console.log(client.tickets.length); // 0
   * ```
   */
  forget(): void {
    this.session = null;
    this.tickets = [];
  }
}

/** Options of one {@link handshake}. */
export interface HandshakeOptions {
  /** Try to resume with what the client kept (default true); false makes a fresh connection. */
  resume?: boolean;
  /** TLS 1.3: offer every kept ticket, newest first, not only the newest (default false). */
  offerAllTickets?: boolean;
  /**
   * TLS 1.3: further PSK identities offered after the tickets (e.g. an external PSK that the
   * context's `pskFindSession` knows), each with its binder length (default 32).
   */
  extraIdentities?: readonly { identity: Uint8Array; binderLength?: number }[];
  /** TLS 1.3: the server sends a HelloRetryRequest, so it processes the ClientHello twice. */
  helloRetryRequest?: boolean;
  /** TLS 1.2: override the client's extended master secret offer for this handshake. */
  extendedMasterSecret?: boolean;
  /** TLS 1.2: override the offered cipher suites for this handshake. */
  cipherSuites?: readonly number[];
  /** TLS 1.3: ticket age to claim in ms (default: the context clock's time since receipt). */
  ticketAgeMs?: number;
  /** TLS 1.3: post-handshake client authentication after the handshake tickets. */
  postHandshakeAuth?: boolean;
  /** TLS 1.3: `SSL_new_session_ticket` calls after the handshake (tickets sent at once). */
  extraTickets?: number;
  /**
   * Called with the server connection before the ClientHello is processed (e.g. to change
   * `numTickets` as `SSL_set_num_tickets` does).
   */
  onConnection?: (conn: ServerConnection) => void;
  /**
   * A context the servername callback switches to after the ClientHello was processed
   * (`SSL_set_SSL_CTX`); see `ServerConnection.useServerNameContext`.
   */
  serverNameContext?: SslContext;
}

/** What one {@link handshake} did. */
export interface HandshakeResult {
  /** Whether the server resumed a session (`SSL_session_reused`). */
  resumed: boolean;
  /** The fatal alert the server sent, or null when the handshake completed. */
  alert: number | null;
  /** The alert's message, or null. */
  error: string | null;
  /** `gen_cb` calls. */
  genCalls: number;
  /** `dec_cb` calls. */
  decCalls: number;
  /** Each `dec_cb` call: the status it received and what it returned (null: threw/non-number). */
  decStatuses: { status: TicketStatus; ret: number | null }[];
  /** Every `dec_cb` call with its `keyname_length` too. */
  decCbCalls: DecryptCallbackCall[];
  /** Ticket key callback calls with enc = 1. */
  keyCbEnc: number;
  /** Ticket key callback calls with enc = 0. */
  keyCbDec: number;
  /** The NewSessionTickets the client received, in order (including empty TLS 1.2 ones). */
  tickets: NewSessionTicket[];
  /** The length of each received ticket, in order (0 for an empty TLS 1.2 ticket). */
  ticketLengths: number[];
  /** The NewSessionTickets with their wire bytes and the sessions sealed in them. */
  issued: IssuedTicket[];
  /** TLS 1.3: the index of the PSK identity accepted, -1 when none. */
  identity: number;
  /** Whether the server decided to send tickets, as the ClientHello left it. */
  ticketExpected: boolean;
  /** The server's session afterwards (`SSL_get_session`), null after an early alert. */
  session: SslSession | null;
  /** The server connection, for further inspection. */
  connection: ServerConnection;
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data.slice()));
}

function random(n: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(n));
}

function binderLength(cipherId: number): number {
  return tls13Suite(cipherId)?.hashLength ?? 32;
}

/** Builds the ClientHello ticket parts from the client's state. */
function clientHello(ctx: SslContext, client: TestClient, options: HandshakeOptions): ClientHello {
  const resume = options.resume ?? true;
  if (client.version === "1.2") {
    const s = resume ? client.session : null;
    // ssl_session_is_resumable: a session with neither ticket nor id is not offered.
    const usable = s !== null && (s.ticket !== null || s.sessionId.length > 0);
    return {
      version: TLS1_2_VERSION,
      sessionId: usable ? s.sessionId.slice() : new Uint8Array(0),
      sessionTicket: client.noTicket
        ? null
        : usable && s.ticket
        ? s.ticket.slice()
        : new Uint8Array(0),
      extendedMasterSecret: options.extendedMasterSecret ?? client.extendedMasterSecret,
      cipherSuites: options.cipherSuites ?? [client.cipherSuite],
    };
  }
  const identities: PskIdentity[] = [];
  const binders: Uint8Array[] = [];
  if (resume && !client.noTicket && client.tickets.length > 0) {
    const kept = client.tickets.slice().reverse();
    const offered = options.offerAllTickets ? kept : kept.slice(0, 1);
    const now = ctx.now();
    for (const t of offered) {
      const age = options.ticketAgeMs ?? Math.max(0, now - t.receivedAt);
      identities.push({ identity: t.ticket.slice(), obfuscatedTicketAge: (t.ageAdd + age) >>> 0 });
      binders.push(new Uint8Array(binderLength(t.cipherId)));
    }
  }
  for (const extra of options.extraIdentities ?? []) {
    identities.push({ identity: extra.identity.slice(), obfuscatedTicketAge: 0 });
    binders.push(new Uint8Array(extra.binderLength ?? 32));
  }
  return {
    version: TLS1_3_VERSION,
    cipherSuite: client.cipherSuite,
    pskKeyExchangeModes: identities.length > 0 ? [PSK_DHE_KE] : null,
    preSharedKey: identities.length > 0 ? { identities, binders } : null,
  };
}

/** What the client does with the handshake's outcome and the tickets it received. */
async function clientReceives(
  ctx: SslContext,
  client: TestClient,
  conn: ServerConnection,
  resumed: boolean,
  issued: readonly IssuedTicket[],
): Promise<void> {
  if (client.version === "1.3") {
    const now = ctx.now();
    for (const t of issued) {
      if (!t.message.tls13) continue;
      client.tickets.push({
        ticket: t.message.ticket.slice(),
        lifetime: t.message.lifetime,
        ageAdd: t.message.ageAdd,
        receivedAt: now,
        cipherId: client.cipherSuite,
      });
    }
    return;
  }
  if (!resumed || client.session === null) {
    const s = conn.session!;
    client.session = {
      sessionId: s.sessionId.slice(), // the ServerHello's session id
      ticket: null,
      lifetimeHint: 0,
      cipherId: s.cipherId,
      masterKey: s.masterKey.slice(),
      extendedMasterSecret: s.extendedMasterSecret,
    };
  }
  for (const t of issued) {
    // tls_process_new_session_ticket: an empty TLS 1.2 ticket is ignored.
    if (t.message.tls13 || t.message.ticket.length === 0) continue;
    client.session.ticket = t.message.ticket.slice();
    client.session.lifetimeHint = t.message.lifetime;
    client.session.sessionId = await sha256(t.message.ticket);
  }
}

/**
 * Runs one loopback handshake between `ctx` and `client`: the client's ClientHello (twice
 * with a HelloRetryRequest), a full handshake when the server does not resume (random master
 * secret, x25519), then the NewSessionTickets (TLS 1.3: derived from a random resumption
 * master secret; then post-handshake auth and extra tickets when asked). The client keeps
 * what it received. A fatal {@link TlsAlert} is returned as `alert`, not thrown, and the
 * context stays usable; any other error (a bug) is thrown.
 *
 * @example
 * ```ts
 * import { handshake, TestClient } from "@seed/session-tickets/testing";
 * import { SslContext } from "@seed/session-tickets";
 * const ctx = await SslContext.create({ decCb: () => 0 }); // always ABORT
 * const client = new TestClient({ version: "1.2" });
 * const r = await handshake(ctx, client);
 * console.log(r.alert, r.decStatuses); // 80 [ { status: 3, ret: 0 } ]
 * ```
 *
 * @param ctx The server context.
 * @param client The client; it keeps the session or tickets it receives.
 * @param options HelloRetryRequest, extra identities, PHA, extra tickets…
 * @returns What happened.
 */
export async function handshake(
  ctx: SslContext,
  client: TestClient,
  options: HandshakeOptions = {},
): Promise<HandshakeResult> {
  const conn = ctx.newConnection();
  options.onConnection?.(conn);
  const hello = clientHello(ctx, client, options);
  const tls13 = client.version === "1.3";
  let resumed = false;
  let identity = -1;
  let ticketExpected = false;
  let alert: number | null = null;
  let error: string | null = null;
  const issued: IssuedTicket[] = [];
  try {
    if (tls13 && options.helloRetryRequest) await conn.processClientHello(hello);
    const decision = await conn.processClientHello(hello);
    if (options.serverNameContext) conn.useServerNameContext(options.serverNameContext);
    resumed = decision.resumed;
    identity = decision.identity;
    ticketExpected = conn.ticketExpected;
    if (!resumed) {
      conn.establishSession({
        cipherId: client.cipherSuite,
        masterKey: tls13 ? undefined : random(48),
        extendedMasterSecret: tls13 ? undefined : hello.extendedMasterSecret,
        kexGroup: X25519,
      });
    }
    const rms = tls13 ? random(binderLength(client.cipherSuite)) : undefined;
    issued.push(...await conn.newSessionTickets({ resumptionMasterSecret: rms }));
    if (tls13 && options.postHandshakeAuth) {
      conn.postHandshakeAuth();
      issued.push(...await conn.newSessionTickets({ resumptionMasterSecret: rms }));
    }
    const extra = tls13 ? options.extraTickets ?? 0 : 0;
    if (extra > 0) {
      for (let i = 0; i < extra; i++) conn.requestTicket();
      issued.push(...await conn.newSessionTickets({ resumptionMasterSecret: rms }));
    }
    await clientReceives(ctx, client, conn, resumed, issued);
  } catch (e) {
    if (!(e instanceof TlsAlert)) throw e;
    alert = e.alert;
    error = e.message;
    resumed = false;
    issued.length = 0;
  }
  const tickets = issued.map((t) => t.message);
  return {
    resumed,
    alert,
    error,
    genCalls: conn.counters.genCb,
    decCalls: conn.counters.decCb,
    decStatuses: conn.decCbCalls.map((c) => ({ status: c.status, ret: c.ret })),
    decCbCalls: conn.decCbCalls.slice(),
    keyCbEnc: conn.counters.keyCbEnc,
    keyCbDec: conn.counters.keyCbDec,
    tickets,
    ticketLengths: tickets.map((t) => t.ticket.length),
    issued,
    identity,
    ticketExpected,
    session: conn.session,
    connection: conn,
  };
}
