/**
 * `SslContext`: OpenSSL's `SSL_CTX` as far as tickets go: the `gen_cb`/`dec_cb` registry, the
 * ticket keys or key callback, the ticket options and the server session cache.
 *
 * @module
 */

import { noSealingKeyCounts, type NoSealingKeyReason, TicketKeyError } from "../ticket/errors.ts";
import type { TicketSealer } from "../ticket/sealer.ts";
import { TicketKey } from "../ticket/ticket_key.ts";
import type {
  DecryptTicketCallback,
  GenerateTicketCallback,
  PskFindSessionCallback,
  TicketKeyCallback,
} from "./callbacks.ts";
import { DEFAULT_SESSION_CACHE_SIZE, SessionCache } from "./session_cache.ts";
import { ServerConnection } from "./server_connection.ts";

/**
 * `tls1_default_timeout`: the default session timeout, 7200 s.
 *
 * @example
 * ```ts
 * import { DEFAULT_SESSION_TIMEOUT } from "@seed/session-tickets";
 * console.log(DEFAULT_SESSION_TIMEOUT); // 7200
 * ```
 */
export const DEFAULT_SESSION_TIMEOUT = 7200;
/**
 * `SSL_CTX_new_ex`: tickets per full TLS 1.3 handshake by default.
 *
 * @example
 * ```ts
 * import { DEFAULT_NUM_TICKETS } from "@seed/session-tickets";
 * console.log(DEFAULT_NUM_TICKETS); // 2
 * ```
 */
export const DEFAULT_NUM_TICKETS = 2;
/**
 * Length of OpenSSL's ticket key block (`SSL_CTX_set_tlsext_ticket_keys`).
 *
 * @example
 * ```ts
 * import { TICKET_KEYS_LENGTH } from "@seed/session-tickets";
 * console.log(TICKET_KEYS_LENGTH); // 80
 * ```
 */
export const TICKET_KEYS_LENGTH = 80;

/** Options of an {@link SslContext}; each has OpenSSL's default. */
export interface SslContextOptions {
  /** `gen_cb`, called once per NewSessionTicket. */
  genCb?: GenerateTicketCallback | null;
  /** `dec_cb`, called after each ticket was opened. */
  decCb?: DecryptTicketCallback | null;
  /** The `arg` passed to both callbacks. */
  cbArg?: unknown;
  /**
   * Ticket keys: 80 raw bytes in OpenSSL's layout (`name|hmac|aes`), or any
   * {@link TicketSealer} such as a `TicketKeyRing`. Default: a random OpenSSL-format key, as
   * `SSL_CTX_new` makes. While a sealer has no key that can seal (it rejects with a
   * `NoSealingKeyError`), handshakes complete without a ticket.
   */
  ticketKeys?: Uint8Array | TicketSealer;
  /** The ticket key callback; when set it is used instead of the ticket keys. */
  ticketKeyCb?: TicketKeyCallback | null;
  /** `SSL_OP_NO_TICKET`: no tickets in TLS 1.2, stateful tickets in TLS 1.3. */
  noTicket?: boolean;
  /**
   * Security level (`SSL_CTX_set_security_level`, default 1). At 3 and above the default
   * security callback refuses `SSL_SECOP_TICKET`: no TLS ≤1.2 tickets (TLS 1.3 ones stay).
   */
  securityLevel?: number;
  /** `SSL_OP_NO_ANTI_REPLAY`. */
  noAntiReplay?: boolean;
  /** TLS 1.3 tickets per full handshake (default 2). */
  numTickets?: number;
  /** Session timeout in seconds (default 7200). */
  timeout?: number;
  /** Session-id context, 0 to 32 bytes. */
  sessionIdContext?: Uint8Array;
  /** Max early data advertised in TLS 1.3 tickets (0: none). */
  maxEarlyData?: number;
  /** `SSL_VERIFY_PEER` is set (resuming then needs a session-id context). */
  verifyPeer?: boolean;
  /** Server session cache size; 0 turns the cache off (default 20480). */
  sessionCacheSize?: number;
  /** External PSK lookup for TLS 1.3. */
  pskFindSession?: PskFindSessionCallback | null;
  /** The clock, milliseconds since the epoch (default `Date.now`). */
  now?: () => number;
  /**
   * The random source for session ids and TLS 1.3 `ticket_age_add` (default
   * `crypto.getRandomValues`). For deterministic tests only: it fills and returns `bytes`.
   */
  random?: (bytes: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>;
}

/** Live counters of an {@link SslContext}'s connections. */
export interface SslContextMetrics {
  /**
   * Tickets not sealed because the ticket sealer had no key that could seal
   * (`NoSealingKeyError`); those handshakes completed without them (TLS 1.2: an empty
   * NewSessionTicket; TLS 1.3: none).
   */
  ticketsNotSealed: number;
  /** The same, by the sealer's reason. */
  ticketsNotSealedByReason: Record<NoSealingKeyReason, number>;
}

/**
 * OpenSSL's `SSL_CTX` for the ticket subsystem. Create it with {@link SslContext.create}, then
 * one {@link ServerConnection} per handshake with {@link SslContext.newConnection}. Settings
 * may be changed between connections, as with OpenSSL's setters.
 *
 * @example
 * ```ts
 * import { SslContext } from "@seed/session-tickets";
 * const ctx = await SslContext.create({
 *   genCb: (conn) => (conn.session!.setTicketAppData("hello"), 1),
 * });
 * console.log(ctx.numTickets, ctx.timeout); // 2 7200
 * ```
 */
export class SslContext {
  /** `gen_cb`. */
  genCb: GenerateTicketCallback | null;
  /** `dec_cb`. */
  decCb: DecryptTicketCallback | null;
  /** The callbacks' `arg`. */
  cbArg: unknown;
  /** What seals and opens tickets when no key callback is set. */
  ticketSealer: TicketSealer;
  /** The ticket key callback, used instead of {@link SslContext.ticketSealer} when set. */
  ticketKeyCb: TicketKeyCallback | null;
  /** `SSL_OP_NO_TICKET`. */
  noTicket: boolean;
  /** Security level; at 3 and above TLS ≤1.2 tickets are off. */
  securityLevel: number;
  /** `SSL_OP_NO_ANTI_REPLAY`. */
  noAntiReplay: boolean;
  /** TLS 1.3 tickets per full handshake. */
  numTickets: number;
  /** Session timeout in seconds. */
  timeout: number;
  /** Session-id context. */
  sessionIdContext: Uint8Array;
  /** Max early data for TLS 1.3 tickets. */
  maxEarlyData: number;
  /** `SSL_VERIFY_PEER`. */
  verifyPeer: boolean;
  /** External PSK lookup for TLS 1.3. */
  pskFindSession: PskFindSessionCallback | null;
  /** The server session cache. */
  readonly sessionCache: SessionCache;
  /** The clock in milliseconds. */
  readonly now: () => number;
  /** The random source for session ids and `ticket_age_add`. */
  readonly random: (bytes: Uint8Array<ArrayBuffer>) => Uint8Array<ArrayBuffer>;
  /**
   * Counters of this context's connections, updated as they run (a plain object: copy it for
   * a snapshot, or zero its fields to reset).
   */
  readonly metrics: SslContextMetrics = {
    ticketsNotSealed: 0,
    ticketsNotSealedByReason: noSealingKeyCounts(),
  };

  private constructor(options: SslContextOptions, sealer: TicketSealer) {
    this.genCb = options.genCb ?? null;
    this.decCb = options.decCb ?? null;
    this.cbArg = options.cbArg;
    this.ticketSealer = sealer;
    this.ticketKeyCb = options.ticketKeyCb ?? null;
    this.noTicket = options.noTicket ?? false;
    this.securityLevel = options.securityLevel ?? 1;
    this.noAntiReplay = options.noAntiReplay ?? false;
    this.numTickets = options.numTickets ?? DEFAULT_NUM_TICKETS;
    this.timeout = options.timeout ?? DEFAULT_SESSION_TIMEOUT;
    this.sessionIdContext = options.sessionIdContext?.slice() ?? new Uint8Array(0);
    this.maxEarlyData = options.maxEarlyData ?? 0;
    this.verifyPeer = options.verifyPeer ?? false;
    this.pskFindSession = options.pskFindSession ?? null;
    this.sessionCache = new SessionCache(options.sessionCacheSize ?? DEFAULT_SESSION_CACHE_SIZE);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? ((bytes) => crypto.getRandomValues(bytes));
  }

  /**
   * `ssl/t1_lib.c:tls_use_ticket`: TLS ≤1.2 tickets are on: no `SSL_OP_NO_TICKET`, and the
   * security level lets the default security callback allow `SSL_SECOP_TICKET` (below 3).
   */
  get ticketsEnabled12(): boolean {
    return !this.noTicket && this.securityLevel < 3;
  }

  /**
   * TLS 1.3 tickets are stateful (`SSL_OP_NO_TICKET`, or early data with anti-replay on):
   * the ticket is the session id and the session stays in the cache.
   */
  get statefulTickets13(): boolean {
    return this.noTicket || (this.maxEarlyData > 0 && !this.noAntiReplay);
  }

  /**
   * Creates a context. Without `ticketKeys` it makes random OpenSSL-format keys, as
   * `SSL_CTX_new` does (`ssl/ssl_lib.c:SSL_CTX_new_ex`).
   *
   * @example
   * ```ts
   * import { SslContext } from "@seed/session-tickets";
   * const ctx = await SslContext.create({ numTickets: 1 });
   * console.log(ctx.numTickets); // 1
   * ```
   */
  static async create(options: SslContextOptions = {}): Promise<SslContext> {
    const keys = options.ticketKeys;
    const sealer = keys instanceof Uint8Array
      ? await importTicketKeys(keys)
      : keys ?? await importTicketKeys(crypto.getRandomValues(new Uint8Array(TICKET_KEYS_LENGTH)));
    return new SslContext(options, sealer);
  }

  /**
   * Sets both callbacks and their argument, as `SSL_CTX_set_session_ticket_cb` does (either
   * may be `null`).
   *
   * @example
   * ```ts
   * import { SslContext } from "@seed/session-tickets";
   * const ctx = await SslContext.create();
   * ctx.setSessionTicketCb(() => 1, null, "arg");
   * console.log(ctx.cbArg); // "arg"
   * ```
   */
  setSessionTicketCb(
    genCb: GenerateTicketCallback | null,
    decCb: DecryptTicketCallback | null,
    arg?: unknown,
  ): void {
    this.genCb = genCb;
    this.decCb = decCb;
    this.cbArg = arg;
  }

  /**
   * Replaces the ticket keys with 80 raw bytes in OpenSSL's layout
   * (`SSL_CTX_set_tlsext_ticket_keys`); tickets under the old keys no longer open. Any other
   * length is a {@link TicketKeyError}.
   *
   * @example
   * ```ts
   * import { SslContext } from "@seed/session-tickets";
   * const ctx = await SslContext.create();
   * await ctx.setTicketKeys(new Uint8Array(80).map((_, i) => i));
   * ```
   */
  async setTicketKeys(keys: Uint8Array): Promise<void> {
    this.ticketSealer = await importTicketKeys(keys);
  }

  /**
   * A new server connection (`SSL_new`) that inherits this context's settings.
   *
   * @example
   * ```ts
   * import { SslContext } from "@seed/session-tickets";
   * const conn = (await SslContext.create()).newConnection();
   * console.log(conn.numTickets); // 2
   * ```
   */
  newConnection(): ServerConnection {
    return new ServerConnection(this);
  }
}

async function importTicketKeys(keys: Uint8Array): Promise<TicketKey> {
  if (keys.length !== TICKET_KEYS_LENGTH) {
    throw new TicketKeyError(
      `OpenSSL ticket keys are ${TICKET_KEYS_LENGTH} bytes (name|hmac32|aes32), got ${keys.length}`,
    );
  }
  return await TicketKey.import(keys, "openssl-80");
}
