/**
 * `SslSession`: OpenSSL's `SSL_SESSION`, every field of the 3.0 `SSL_SESSION_ASN1` template
 * (`ssl/ssl_asn1.c`) plus 3.2's `peer_rpk`.
 *
 * @module
 */

/** `SSL_SESS_FLAG_EXTMS` (`ssl/ssl_local.h`): the session used the extended master secret. */
export const SESSION_FLAG_EXTMS = 0x1;

/** `SSL3_MAX_SSL_SESSION_ID_LENGTH`: the longest session id. */
export const MAX_SESSION_ID_LENGTH = 32;
/** `TLS13_MAX_RESUMPTION_PSK_LENGTH`: the longest master key `d2i_SSL_SESSION` accepts. */
export const MAX_MASTER_KEY_LENGTH = 512;
/** `SSL_MAX_SID_CTX_LENGTH`: the longest session-id context. */
export const MAX_SID_CTX_LENGTH = 32;

/** The fields of an {@link SslSession}, all optional, for its constructor. */
export interface SslSessionInit {
  /** Protocol version, e.g. 0x0303 (TLS 1.2) or 0x0304 (TLS 1.3). */
  sslVersion?: number;
  /** Cipher suite id, e.g. 0xc030 or 0x1302. */
  cipherId?: number;
  /** Session id, 0 to 32 bytes. */
  sessionId?: Uint8Array;
  /** Master secret (TLS 1.2) or resumption PSK (TLS 1.3), 0 to 512 bytes. Secret. */
  masterKey?: Uint8Array;
  /** Creation time, seconds since the epoch. */
  time?: number;
  /** Lifetime in seconds. */
  timeout?: number;
  /** The peer certificate, raw DER. */
  peerCertificate?: Uint8Array | null;
  /** Session-id context, 0 to 32 bytes. */
  sessionIdContext?: Uint8Array;
  /** X509 verify result (0 = X509_V_OK). */
  verifyResult?: number;
  /** SNI host name (ASCII). */
  hostname?: string | null;
  /** PSK identity hint. */
  pskIdentityHint?: Uint8Array | null;
  /** PSK identity. */
  pskIdentity?: Uint8Array | null;
  /** Ticket lifetime hint, seconds (client side). */
  ticketLifetimeHint?: number;
  /** The ticket received (client side). */
  ticket?: Uint8Array | null;
  /** Compression method id (0 = none). */
  compressionId?: number;
  /** SRP user name (ASCII). */
  srpUsername?: string | null;
  /** Session flags; bit 0 is {@link SESSION_FLAG_EXTMS}. */
  flags?: number;
  /** TLS 1.3 ticket_age_add (uint32). */
  ticketAgeAdd?: number;
  /** TLS 1.3 max_early_data (uint32). */
  maxEarlyData?: number;
  /** Selected ALPN protocol. */
  alpnSelected?: Uint8Array | null;
  /** Negotiated max_fragment_length mode (0 = disabled). */
  maxFragmentLengthMode?: number;
  /** Key exchange group id, e.g. 0x1d (x25519); 0 for non-(EC)DHE key exchange. */
  kexGroup?: number;
  /** Peer raw public key (3.2+), DER SubjectPublicKeyInfo. */
  peerRpk?: Uint8Array | null;
  /** Ticket app data (`SSL_SESSION_set1_ticket_appdata`). */
  ticketAppData?: Uint8Array | string | null;
}

const EMPTY = new Uint8Array(0);

/**
 * Stores app data exactly as decoded, keeping a present-but-empty `[18]` (which OpenSSL's
 * `d2i_SSL_SESSION` keeps and `i2d_SSL_SESSION` writes back). Internal to the codec.
 */
export let setDecodedAppData: (s: SslSession, data: Uint8Array | null) => void;
const REDACTED = "[redacted]";

function copy(b: Uint8Array | null | undefined): Uint8Array | null {
  return b ? b.slice() : null;
}

/**
 * OpenSSL's `SSL_SESSION`: what a ticket carries. Fields are plain, mutable properties named
 * after OpenSSL's; the DER form is produced by `encodeSession` and read by `decodeSession`.
 * The master key is redacted from `toString`, `toJSON` and `Deno.inspect`; call
 * {@link SslSession.toJSON} with `{ showSecrets: true }` to see it.
 *
 * @example
 * ```ts
 * import { SslSession, encodeSession } from "@seed/session-tickets";
 * const s = new SslSession({ sslVersion: 0x0303, cipherId: 0xc030, time: 1795963723, timeout: 7200 });
 * s.masterKey = new Uint8Array(48);
 * s.setTicketAppData("HelloWorld");
 * console.log(encodeSession(s).length); // 107
 * ```
 */
export class SslSession {
  /** Protocol version, e.g. 0x0303 (TLS 1.2) or 0x0304 (TLS 1.3). */
  sslVersion = 0x0303;
  /** Cipher suite id (16 bits), e.g. 0xc030 (ECDHE-RSA-AES256-GCM-SHA384). */
  cipherId = 0;
  /** Session id, 0 to 32 bytes. */
  sessionId: Uint8Array = EMPTY;
  /** Master secret (TLS 1.2) or resumption PSK (TLS 1.3), 0 to 512 bytes. Secret. */
  masterKey: Uint8Array = EMPTY;
  /** Creation time, seconds since the epoch. */
  time = 0;
  /** Lifetime in seconds. */
  timeout = 0;
  /** The peer certificate, raw DER (kept as received). */
  peerCertificate: Uint8Array | null = null;
  /** Session-id context, 0 to 32 bytes. */
  sessionIdContext: Uint8Array = EMPTY;
  /** X509 verify result (0 = X509_V_OK). */
  verifyResult = 0;
  /** SNI host name (ASCII, as sent on the wire). */
  hostname: string | null = null;
  /** PSK identity hint. */
  pskIdentityHint: Uint8Array | null = null;
  /** PSK identity. */
  pskIdentity: Uint8Array | null = null;
  /** Ticket lifetime hint in seconds (client side). */
  ticketLifetimeHint = 0;
  /** The ticket this session was received with (client side). */
  ticket: Uint8Array | null = null;
  /** Compression method id (0 = none). */
  compressionId = 0;
  /** SRP user name (ASCII). */
  srpUsername: string | null = null;
  /** Session flags; bit 0 is {@link SESSION_FLAG_EXTMS}. */
  flags = 0;
  /** TLS 1.3 ticket_age_add (uint32). */
  ticketAgeAdd = 0;
  /** TLS 1.3 max_early_data (uint32). */
  maxEarlyData = 0;
  /** Selected ALPN protocol. */
  alpnSelected: Uint8Array | null = null;
  /** Negotiated max_fragment_length mode (0 = disabled). */
  maxFragmentLengthMode = 0;
  /** Key exchange group id, e.g. 0x1d (x25519); 0 for RSA key exchange. */
  kexGroup = 0;
  /** Peer raw public key (OpenSSL 3.2+ `[20]`), DER SubjectPublicKeyInfo, kept as read. */
  peerRpk: Uint8Array | null = null;
  #appData: Uint8Array | null = null;

  static {
    setDecodedAppData = (s, data) => {
      s.#appData = data;
    };
  }

  /**
   * Creates a session; unset fields take `SSL_SESSION_new`-like empty values.
   *
   * @param init Field values; byte fields are copied.
   */
  constructor(init?: SslSessionInit) {
    if (init === undefined) return;
    const { ticketAppData, ...fields } = init;
    Object.assign(this, fields);
    for (const k of ["sessionId", "masterKey", "sessionIdContext"] as const) {
      if (init[k]) this[k] = init[k]!.slice();
    }
    for (
      const k of [
        "peerCertificate",
        "pskIdentityHint",
        "pskIdentity",
        "ticket",
        "alpnSelected",
        "peerRpk",
      ] as const
    ) {
      if (init[k] !== undefined) this[k] = copy(init[k]);
    }
    this.setTicketAppData(ticketAppData);
  }

  /** Whether the extended master secret was used (flag bit {@link SESSION_FLAG_EXTMS}). */
  get extendedMasterSecret(): boolean {
    return (this.flags & SESSION_FLAG_EXTMS) !== 0;
  }
  set extendedMasterSecret(on: boolean) {
    this.flags = on ? this.flags | SESSION_FLAG_EXTMS : this.flags & ~SESSION_FLAG_EXTMS;
  }

  /**
   * Sets the ticket app data as `SSL_SESSION_set1_ticket_appdata` does: the bytes are copied;
   * `null`, `undefined` or an empty value clears it. Strings are stored as UTF-8.
   *
   * @example
   * ```ts
   * import { SslSession } from "@seed/session-tickets";
   * const s = new SslSession();
   * s.setTicketAppData("Hello World");
   * console.log(s.getTicketAppData()?.length); // 11
   * s.setTicketAppData(new Uint8Array(0));
   * console.log(s.getTicketAppData()); // null
   * ```
   */
  setTicketAppData(data: Uint8Array | string | null | undefined): void {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    this.#appData = bytes && bytes.length > 0 ? bytes.slice() : null;
  }

  /**
   * The stored ticket app data (`SSL_SESSION_get0_ticket_appdata`), or `null` when none is set.
   * Like OpenSSL's getter, it returns the stored bytes, not a copy.
   */
  getTicketAppData(): Uint8Array | null {
    return this.#appData;
  }

  /**
   * A deep copy, as `ssl/ssl_sess.c:ssl_session_dup` makes: every field, including the ticket
   * app data. With `copyTicket` false (what the TLS 1.3 server does per ticket, spec'd as
   * `ssl_session_dup(s, 0)`), the client-side ticket is dropped and its lifetime hint reset to 0.
   *
   * @example
   * ```ts
   * import { SslSession } from "@seed/session-tickets";
   * const a = new SslSession({ ticketAppData: "x" });
   * const b = a.dup();
   * b.setTicketAppData("y");
   * console.log(new TextDecoder().decode(a.getTicketAppData()!)); // "x"
   * ```
   */
  dup(copyTicket = true): SslSession {
    const s = new SslSession({ ...this.#fields(), ticketAppData: this.#appData });
    if (!copyTicket || !this.ticket) {
      s.ticket = null;
      s.ticketLifetimeHint = 0;
    }
    return s;
  }

  #fields(): SslSessionInit {
    return {
      sslVersion: this.sslVersion,
      cipherId: this.cipherId,
      sessionId: this.sessionId,
      masterKey: this.masterKey,
      time: this.time,
      timeout: this.timeout,
      peerCertificate: this.peerCertificate,
      sessionIdContext: this.sessionIdContext,
      verifyResult: this.verifyResult,
      hostname: this.hostname,
      pskIdentityHint: this.pskIdentityHint,
      pskIdentity: this.pskIdentity,
      ticketLifetimeHint: this.ticketLifetimeHint,
      ticket: this.ticket,
      compressionId: this.compressionId,
      srpUsername: this.srpUsername,
      flags: this.flags,
      ticketAgeAdd: this.ticketAgeAdd,
      maxEarlyData: this.maxEarlyData,
      alpnSelected: this.alpnSelected,
      maxFragmentLengthMode: this.maxFragmentLengthMode,
      kexGroup: this.kexGroup,
      peerRpk: this.peerRpk,
    };
  }

  /**
   * A JSON-ready view: byte fields as hex, the master key as `"[redacted]"` unless
   * `showSecrets` is set.
   *
   * @example
   * ```ts
   * import { SslSession } from "@seed/session-tickets";
   * const s = new SslSession({ masterKey: new Uint8Array([1, 2]) });
   * console.log(s.toJSON().masterKey); // "[redacted]"
   * console.log(s.toJSON({ showSecrets: true }).masterKey); // "0102"
   * ```
   */
  toJSON(options: { showSecrets?: boolean } = {}): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this.#fields())) {
      out[k] = v instanceof Uint8Array ? v.toHex() : v;
    }
    out.extendedMasterSecret = this.extendedMasterSecret;
    out.ticketAppData = this.#appData?.toHex() ?? null;
    if (!options.showSecrets) out.masterKey = REDACTED;
    return out;
  }

  /** A one-line summary without secrets. */
  toString(): string {
    const v = this.sslVersion.toString(16).padStart(4, "0");
    const c = this.cipherId.toString(16).padStart(4, "0");
    return `SslSession(version 0x${v}, cipher 0x${c}, id ${this.sessionId.toHex() || "-"}, ` +
      `master key ${REDACTED})`;
  }

  /** `Deno.inspect` / `console.log` output: the JSON view, secrets redacted. */
  [Symbol.for("Deno.customInspect")](
    inspect: (v: unknown, o: unknown) => string,
    options: unknown,
  ): string {
    return `SslSession ${inspect(this.toJSON(), options)}`;
  }

  /** Node's `util.inspect` output: secrets redacted. */
  [Symbol.for("nodejs.util.inspect.custom")](): Record<string, unknown> {
    return this.toJSON();
  }
}
