/**
 * The TLS 1.2 server handshake (RFC 5246 §7.3) on the same record stream and ticket engine as
 * TLS 1.3: ECDHE with AES-GCM, the full handshake (ServerHello, Certificate, ServerKeyExchange,
 * ServerHelloDone; ClientKeyExchange, ChangeCipherSpec, Finished; NewSessionTicket,
 * ChangeCipherSpec, Finished) and the abbreviated one when the engine resumes a session from a
 * ticket (RFC 5077 §3.1) or from the session-id cache (RFC 5246 §7.3). Extended master secret
 * (RFC 7627), secure renegotiation indication (RFC 5746, renegotiation itself refused) and the
 * TLS 1.3 downgrade sentinel (RFC 8446 §4.1.3). Every ticket decision is the engine's.
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "../server/alert.ts";
import type { ServerConnection } from "../server/server_connection.ts";
import type { SslSession } from "../session/ssl_session.ts";
import { SSL3_VERSION, TLS1_2_VERSION, TLS1_3_VERSION } from "../session/versions.ts";
import { concatBytes, constantTimeEqual } from "../ticket/bytes.ts";
import type { HandshakeConfig, HandshakeResult } from "./handshake.ts";
import {
  contextForName,
  encodeAlpn,
  latin1,
  selectAlpn,
  SIGNATURE_SCHEME_NAMES,
} from "./_negotiate.ts";
import { groupName, keyExchange, SUPPORTED_GROUPS } from "./key_exchange.ts";
import { TranscriptHash } from "./key_schedule.ts";
import {
  type ClientHello,
  Ext,
  type ExtensionEntry,
  handshakeMessage,
  HandshakeType,
  MAX_CLIENT_MESSAGE_LENGTH,
  parseAlpn,
  parseServerName,
  parseSupportedVersions,
  parseU16List,
  serverHello,
} from "./messages.ts";
import { keyBlock, masterSecret, verifyData12 } from "./prf.ts";
import type { RecordStream } from "./record_stream.ts";
import { Tls12GcmCipher } from "./tls12_record.ts";
import {
  certificate12,
  ecdheParams,
  EMPTY_RENEGOTIATION_INFO_SCSV,
  Ext12,
  FALLBACK_SCSV,
  HandshakeType12,
  parseClientKeyExchange,
  serverHelloDone,
  serverKeyExchange,
  serverKeyExchangeSigned,
  TLS12_SUITES,
  type Tls12Suite,
} from "./tls12_messages.ts";

/**
 * The last 8 bytes of ServerHello.random when a TLS 1.3 server negotiates TLS 1.2
 * (RFC 8446 §4.1.3): "DOWNGRD" followed by 01.
 */
export const DOWNGRADE_TLS12: Uint8Array<ArrayBuffer> = Uint8Array.fromHex("444f574e47524401");

const alert = (n: number, why: string) => new TlsAlert(n, why);

/**
 * The protocol version to negotiate for a ClientHello (RFC 8446 §4.2.1, RFC 5246 Appendix E.1):
 * from `supported_versions` when present (TLS 1.3 if offered, else TLS 1.2), else from
 * `legacy_version` (0x0303 or higher: TLS 1.2). Anything older is protocol_version (70), as is
 * a legacy_version of SSL 3.0 or below (libssl).
 *
 * @param hello The parsed ClientHello.
 * @returns 0x0304 or 0x0303.
 * @throws {TlsAlert} protocol_version (70).
 *
 * @example
 * ```ts
 * import { chooseVersion } from "./tls12_handshake.ts";
 * import { parseClientHello } from "./messages.ts";
 * const body = [3, 3, ...new Uint8Array(32), 0, 0, 2, 0xc0, 0x2f, 1, 0];
 * console.log(chooseVersion(parseClientHello(new Uint8Array([1, 0, 0, body.length, ...body])))); // 771
 * ```
 */
export function chooseVersion(hello: ClientHello): number {
  if (hello.legacyVersion <= SSL3_VERSION) {
    throw alert(AlertDescription.PROTOCOL_VERSION, "legacy_version is SSL 3.0 or older");
  }
  const body = hello.extensions.get(Ext.SUPPORTED_VERSIONS);
  if (body !== undefined) {
    const versions = parseSupportedVersions(body);
    if (versions.includes(TLS1_3_VERSION)) return TLS1_3_VERSION;
    if (versions.includes(TLS1_2_VERSION)) return TLS1_2_VERSION;
  } else if (hello.legacyVersion >= TLS1_2_VERSION) {
    return TLS1_2_VERSION;
  }
  throw alert(AlertDescription.PROTOCOL_VERSION, "the client offers neither TLS 1.3 nor TLS 1.2");
}

/** What the server reads from a TLS 1.2 ClientHello. */
interface Offer12 {
  hello: ClientHello;
  ems: boolean;
  secureRenegotiation: boolean;
  sessionTicket: Uint8Array | null;
  groups: number[] | null;
  signatureAlgorithms: number[] | null;
  pointFormats: boolean;
  serverName: string | null;
  alpn: string[] | null;
}

/** Reads a TLS 1.2 ClientHello's extensions with the RFCs' alerts. */
function readOffer12(hello: ClientHello): Offer12 {
  const ext = hello.extensions;
  if (!hello.compressionMethods.includes(0)) {
    // RFC 5246 §7.4.1.2: the list must include null; libssl answers decode_error.
    throw alert(AlertDescription.DECODE_ERROR, "no null compression method");
  }
  if (hello.cipherSuites.includes(FALLBACK_SCSV)) {
    // RFC 7507 §3: this server supports a higher version than the client offers.
    throw alert(AlertDescription.INAPPROPRIATE_FALLBACK, "TLS_FALLBACK_SCSV on a TLS 1.2 hello");
  }
  const reneg = ext.get(Ext12.RENEGOTIATION_INFO);
  if (reneg !== undefined && (reneg.length !== 1 || reneg[0] !== 0)) {
    // RFC 5746 §3.6: an initial handshake's renegotiated_connection must be empty.
    throw alert(AlertDescription.HANDSHAKE_FAILURE, "renegotiation_info is not empty");
  }
  const emsBody = ext.get(Ext12.EXTENDED_MASTER_SECRET);
  if (emsBody !== undefined && emsBody.length !== 0) {
    throw alert(AlertDescription.DECODE_ERROR, "extended_master_secret with a body");
  }
  const groups = ext.get(Ext.SUPPORTED_GROUPS);
  const sigs = ext.get(Ext.SIGNATURE_ALGORITHMS);
  const formats = ext.get(Ext12.EC_POINT_FORMATS);
  if (formats !== undefined && (formats.length < 2 || formats[0] !== formats.length - 1)) {
    throw alert(AlertDescription.DECODE_ERROR, "malformed ec_point_formats");
  }
  if (formats !== undefined && !formats.subarray(1).includes(0)) {
    // RFC 8422 §5.1.2: every ECDHE point here is uncompressed; a list without it is refused.
    throw alert(AlertDescription.ILLEGAL_PARAMETER, "ec_point_formats lacks uncompressed");
  }
  const sni = ext.get(Ext.SERVER_NAME);
  const alpn = ext.get(Ext.ALPN);
  return {
    hello,
    ems: emsBody !== undefined,
    secureRenegotiation: reneg !== undefined ||
      hello.cipherSuites.includes(EMPTY_RENEGOTIATION_INFO_SCSV),
    sessionTicket: ext.get(Ext12.SESSION_TICKET) ?? null,
    groups: groups === undefined ? null : parseU16List(groups, "supported_groups"),
    signatureAlgorithms: sigs === undefined ? null : parseU16List(sigs, "signature_algorithms"),
    pointFormats: formats !== undefined,
    serverName: sni === undefined ? null : parseServerName(sni),
    alpn: alpn === undefined ? null : parseAlpn(alpn),
  };
}

/** The client's first suite (its order) that this server's certificate can serve. */
function chooseSuite(offer: Offer12, auth: "ECDSA" | "RSA"): Tls12Suite {
  for (const id of offer.hello.cipherSuites) {
    const s = TLS12_SUITES.get(id);
    if (s !== undefined && s.auth === auth) return s;
  }
  throw alert(AlertDescription.HANDSHAKE_FAILURE, "no TLS 1.2 cipher suite in common");
}

/** The client's first supported group (RFC 8422 §5.1.1; absent: any, so ours first). */
function chooseGroup12(offer: Offer12): number {
  if (offer.groups === null) return SUPPORTED_GROUPS[0];
  const g = offer.groups.find((g) => SUPPORTED_GROUPS.includes(g));
  if (g === undefined) throw alert(AlertDescription.HANDSHAKE_FAILURE, "no group in common");
  return g;
}

/** Where the handshake stands between steps. */
interface State12 {
  rs: RecordStream;
  suite: Tls12Suite;
  transcript: TranscriptHash;
  clientRandom: Uint8Array;
  serverRandom: Uint8Array;
}

async function installKeys(st: State12, master: Uint8Array) {
  const k = keyBlock(
    st.suite.hash,
    master,
    st.clientRandom,
    st.serverRandom,
    st.suite.keyLength,
  );
  return {
    client: await Tls12GcmCipher.create(k.clientKey, k.clientIv),
    server: await Tls12GcmCipher.create(k.serverKey, k.serverIv),
  };
}

/** Reads the client's ChangeCipherSpec and Finished and verifies it (RFC 5246 §7.4.9). */
async function readClientFinished(
  st: State12,
  master: Uint8Array,
  cipher: Tls12GcmCipher,
): Promise<void> {
  await st.rs.readChangeCipherSpec();
  st.rs.setReadCipher(cipher);
  const fin = await st.rs.readHandshake(MAX_CLIENT_MESSAGE_LENGTH);
  if (fin.type !== HandshakeType.FINISHED) {
    throw alert(AlertDescription.UNEXPECTED_MESSAGE, `expected Finished, got message ${fin.type}`);
  }
  if (fin.body.length !== 12) throw alert(AlertDescription.DECODE_ERROR, "Finished not 12 bytes");
  const expected = verifyData12(st.suite.hash, master, "client", st.transcript.digest());
  if (!constantTimeEqual(expected, fin.body)) {
    throw alert(AlertDescription.DECRYPT_ERROR, "the client's Finished does not verify");
  }
  if (st.rs.handshakePending) {
    throw alert(AlertDescription.UNEXPECTED_MESSAGE, "data after the client's Finished");
  }
  st.transcript.update(fin.message);
}

/**
 * Sends the engine's NewSessionTicket if it has one (RFC 5077 §3.3: before ChangeCipherSpec),
 * then ChangeCipherSpec and the server's Finished.
 *
 * @returns How many NewSessionTickets were sent (0 or 1).
 */
async function sendServerFinish(
  st: State12,
  engine: ServerConnection,
  master: Uint8Array,
  cipher: Tls12GcmCipher,
): Promise<number> {
  const tickets = await engine.newSessionTickets();
  for (const t of tickets) {
    st.transcript.update(t.bytes);
    await st.rs.write(22, t.bytes);
  }
  await st.rs.writeChangeCipherSpec();
  st.rs.setWriteCipher(cipher);
  const fin = handshakeMessage(
    HandshakeType.FINISHED,
    verifyData12(st.suite.hash, master, "server", st.transcript.digest()),
  );
  st.transcript.update(fin);
  await st.rs.write(22, fin);
  return tickets.length;
}

/**
 * Runs a TLS 1.2 server handshake after the ClientHello, through the client's Finished (full
 * handshake) or the server's (abbreviated handshake, then the client's Finished).
 *
 * @param rs The record stream (the ClientHello has been read).
 * @param config Credentials, the engine's context and options.
 * @param engine The ticket engine's connection.
 * @param hello The ClientHello.
 * @returns What was negotiated; the TLS 1.3 secrets are empty.
 * @throws {TlsAlert} the alert to send for any protocol violation.
 *
 * @example
 * ```ts
 * import { serverHandshake12 } from "./tls12_handshake.ts";
 * console.log(typeof serverHandshake12); // function
 * ```
 */
export async function serverHandshake12(
  rs: RecordStream,
  config: HandshakeConfig,
  engine: ServerConnection,
  hello: ClientHello,
): Promise<HandshakeResult> {
  rs.tls12 = true;
  const offer = readOffer12(hello);
  const auth = config.credentials.keyType === "RSA" ? "RSA" : "ECDSA";
  let suite = chooseSuite(offer, auth);
  const decision = await engine.processClientHello({
    version: TLS1_2_VERSION,
    sessionId: hello.legacySessionId,
    sessionTicket: offer.sessionTicket,
    extendedMasterSecret: offer.ems,
    cipherSuites: hello.cipherSuites,
  });
  let resumed: SslSession | null = decision.session;
  const resumedSuite = resumed === null ? undefined : TLS12_SUITES.get(resumed.cipherId);
  if (resumedSuite === undefined) {
    // A session of a suite this server does not implement (CBC from an OpenSSL peer of the
    // fleet, say) cannot continue: a full handshake. The certificate plays no part in an
    // abbreviated handshake, so an RSA suite's session resumes at an ECDSA server as in libssl.
    resumed = null;
  } else {
    suite = resumedSuite;
  }
  const switched = await contextForName(config.serverNames, offer.serverName);
  if (switched !== undefined) engine.useServerNameContext(switched);

  const alpnProtocol = selectAlpn(offer.alpn, config.alpnProtocols);
  let scheme: number | null = null;
  let group = resumed?.kexGroup ?? 0;
  if (resumed === null) {
    if (offer.signatureAlgorithms === null) {
      // RFC 5246 §7.4.1.4.1: absent means SHA-1, which this server does not sign with.
      throw alert(AlertDescription.HANDSHAKE_FAILURE, "no signature_algorithms (SHA-1 only)");
    }
    scheme = config.credentials.selectScheme12(offer.signatureAlgorithms);
    if (scheme === null) {
      throw alert(AlertDescription.HANDSHAKE_FAILURE, "no signature scheme in common");
    }
    group = chooseGroup12(offer);
  }

  // ServerHello (RFC 5246 §7.4.1.3) with the downgrade sentinel (RFC 8446 §4.1.3).
  const serverRandom = new Uint8Array(config.random(32));
  serverRandom.set(DOWNGRADE_TLS12, 24);
  let created: SslSession | null = null;
  let sessionId: Uint8Array;
  if (resumed !== null) {
    sessionId = hello.legacySessionId; // RFC 5077 §3.4, RFC 5246 §7.4.1.3: echoed
  } else {
    created = engine.establishSession({
      cipherId: suite.id,
      extendedMasterSecret: offer.ems,
      kexGroup: group,
      alpnSelected: alpnProtocol === null ? null : latin1(alpnProtocol),
    });
    sessionId = created.sessionId;
  }
  const ems = resumed !== null ? resumed.extendedMasterSecret : offer.ems;
  const exts: ExtensionEntry[] = [];
  if (offer.secureRenegotiation) exts.push([Ext12.RENEGOTIATION_INFO, new Uint8Array([0])]);
  if (switched !== undefined && resumed === null) exts.push([Ext.SERVER_NAME, new Uint8Array(0)]);
  if (offer.pointFormats) exts.push([Ext12.EC_POINT_FORMATS, new Uint8Array([1, 0])]);
  if (engine.ticketExpected) exts.push([Ext12.SESSION_TICKET, new Uint8Array(0)]);
  if (alpnProtocol !== null) exts.push([Ext.ALPN, encodeAlpn(alpnProtocol)]);
  if (ems) exts.push([Ext12.EXTENDED_MASTER_SECRET, new Uint8Array(0)]);
  const sh = serverHello({
    random: serverRandom,
    legacySessionId: sessionId,
    cipherSuite: suite.id,
    extensions: exts,
  });
  const st: State12 = {
    rs,
    suite,
    transcript: new TranscriptHash(suite.hash),
    clientRandom: hello.random,
    serverRandom,
  };
  st.transcript.update(hello.message);
  st.transcript.update(sh);
  let ticketsSent: number;
  try {
    rs.cork();
    await rs.write(22, sh);
    if (resumed !== null) {
      // Abbreviated handshake (RFC 5246 §7.3 Figure 2, RFC 5077 §3.1 Figure 2).
      const keys = await installKeys(st, resumed.masterKey);
      ticketsSent = await sendServerFinish(st, engine, resumed.masterKey, keys.server);
      await rs.uncork();
      await readClientFinished(st, resumed.masterKey, keys.client);
    } else {
      const master = await fullHandshake(st, config, group, scheme!, offer.ems);
      created!.masterKey = master;
      const keys = await installKeys(st, master);
      await readClientFinished(st, master, keys.client);
      rs.cork();
      ticketsSent = await sendServerFinish(st, engine, master, keys.server);
      await rs.uncork();
    }
  } catch (e) {
    // A session of a failed handshake must not be resumable (libssl caches at the end).
    if (created !== null) engine.context.sessionCache.remove(created.sessionId);
    throw e;
  }
  const session = engine.session;
  const empty = new Uint8Array(0);
  return {
    info: {
      version: "TLSv1.2",
      cipherSuite: suite.name,
      group: group === 0 ? "" : groupName(group),
      alpnProtocol,
      serverName: offer.serverName,
      resumed: resumed !== null,
      pskIdentity: -1,
      helloRetryRequest: false,
      signatureScheme: scheme === null ? null : SIGNATURE_SCHEME_NAMES.get(scheme) ?? null,
      session,
      ticketsSent,
      ticketsNotSealed: engine.ticketsNotSealed,
      decCbCalls: engine.decCbCalls,
    },
    hash: suite.hash,
    keyLength: suite.keyLength,
    clientSecret: empty,
    serverSecret: empty,
    resumptionMasterSecret: empty,
  };
}

/**
 * Certificate, ServerKeyExchange, ServerHelloDone; then the ClientKeyExchange; returns the
 * master secret (RFC 7627 §4 when `ems`).
 */
async function fullHandshake(
  st: State12,
  config: HandshakeConfig,
  group: number,
  scheme: number,
  ems: boolean,
): Promise<Uint8Array<ArrayBuffer>> {
  const pair = await config.ephemeralKeys(group);
  const publicKey = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const params = ecdheParams(group, publicKey);
  const cert = certificate12(config.credentials.chain);
  const signed = serverKeyExchangeSigned(st.clientRandom, st.serverRandom, params);
  const ske = serverKeyExchange(params, scheme, await config.credentials.sign(scheme, signed));
  const done = serverHelloDone();
  for (const m of [cert, ske, done]) st.transcript.update(m);
  await st.rs.write(22, concatBytes([cert, ske, done]));
  await st.rs.uncork();

  const cke = await st.rs.readHandshake(MAX_CLIENT_MESSAGE_LENGTH);
  if (cke.type !== HandshakeType12.CLIENT_KEY_EXCHANGE) {
    throw alert(
      AlertDescription.UNEXPECTED_MESSAGE,
      `expected ClientKeyExchange, got message ${cke.type}`,
    );
  }
  const clientPoint = parseClientKeyExchange(cke.body);
  const { sharedSecret } = await keyExchange(group, clientPoint, () => Promise.resolve(pair));
  st.transcript.update(cke.message);
  return masterSecret(
    st.suite.hash,
    sharedSecret,
    ems
      ? { sessionHash: st.transcript.digest() }
      : { clientRandom: st.clientRandom, serverRandom: st.serverRandom },
  );
}
