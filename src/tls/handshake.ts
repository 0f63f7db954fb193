/**
 * The TLS 1.3 server handshake (RFC 8446 §2, §4) as a sequence of small steps: read the
 * ClientHello and negotiate, ask the ticket engine about its PSK identities and verify the
 * chosen binder, send a HelloRetryRequest when no usable key share came, send ServerHello and
 * the encrypted flight, verify the client's Finished, and hand the engine's NewSessionTickets
 * to the caller. Every message out of order or malformed ends in the RFC's alert (a thrown
 * `TlsAlert`); the caller sends it.
 *
 * @module
 */

import { AlertDescription, TlsAlert } from "../server/alert.ts";
import type { SslSession } from "../session/ssl_session.ts";
import { SSL3_VERSION } from "../session/versions.ts";
import { concatBytes, constantTimeEqual, sameBytes } from "../ticket/bytes.ts";
import type { DecryptCallbackCall, ServerConnection } from "../server/server_connection.ts";
import type { SslContext } from "../server/ssl_context.ts";
import { tls13Suite } from "../server/wire/cipher_suites.ts";
import { parsePskKeyExchangeModes, PreSharedKeyReader } from "../server/wire/psk.ts";
import type { ServerCredentials } from "./certificate.ts";
import {
  type EphemeralKeyPairSource,
  groupName,
  isSupportedGroup,
  keyExchange,
  type KeyExchangeResult,
  SUPPORTED_GROUPS,
} from "./key_exchange.ts";
import {
  binder,
  finishedVerifyData,
  type HashName,
  KeySchedule,
  trafficKey,
  TranscriptHash,
} from "./key_schedule.ts";
import {
  certificateMessage,
  certificateVerifyMessage,
  type ClientHello,
  encryptedExtensions,
  Ext,
  type ExtensionEntry,
  handshakeMessage,
  HandshakeType,
  HELLO_RETRY_REQUEST_RANDOM,
  MAX_CLIENT_HELLO_LENGTH,
  MAX_CLIENT_MESSAGE_LENGTH,
  parseAlpn,
  parseClientHello,
  parseKeyShares,
  parseServerName,
  parseSupportedVersions,
  parseU16List,
  serverHello,
  TLS13,
} from "./messages.ts";
import { RecordCipher } from "./record.ts";
import type { RecordStream } from "./record_stream.ts";
import { chooseVersion, serverHandshake12 } from "./tls12_handshake.ts";
import {
  contextForName,
  encodeAlpn,
  latin1,
  selectAlpn,
  SIGNATURE_SCHEME_NAMES,
} from "./_negotiate.ts";
import { TLS1_2_VERSION } from "../session/versions.ts";

/** The cipher suites this server negotiates, by id: AES-128-GCM and AES-256-GCM. */
export const SUPPORTED_CIPHER_SUITES: readonly number[] = [0x1301, 0x1302];

/** How many bytes of rejected 0-RTT data are skipped before the connection is refused. */
export const MAX_SKIPPED_EARLY_DATA = 65536;

/** A servername → context table, or a function choosing the context for a name. */
export type ServerNameContexts =
  | Readonly<Record<string, SslContext>>
  | ReadonlyMap<string, SslContext>
  | ((serverName: string) => SslContext | undefined | Promise<SslContext | undefined>);

/** What the handshake needs besides the record stream. */
export interface HandshakeConfig {
  /** The certificate chain and key. */
  credentials: ServerCredentials;
  /** The ticket engine's context (`session_ctx`). */
  context: SslContext;
  /** ALPN protocols in the server's preference order (empty: no ALPN). */
  alpnProtocols: readonly string[];
  /** Contexts by server name (an SNI switch, `SSL_set_SSL_CTX`). */
  serverNames?: ServerNameContexts;
  /** Random bytes for ServerHello.random. */
  random: (n: number) => Uint8Array;
  /** The server's ephemeral key pairs. */
  ephemeralKeys: EphemeralKeyPairSource;
}

/** What a completed handshake negotiated. */
export interface HandshakeInfo {
  /** The protocol version negotiated. */
  version: "TLSv1.3" | "TLSv1.2";
  /**
   * The cipher suite, e.g. `"TLS_AES_128_GCM_SHA256"`; TLS 1.2 suites by OpenSSL's name, e.g.
   * `"ECDHE-RSA-AES128-GCM-SHA256"`.
   */
  cipherSuite: string;
  /**
   * The ECDHE group: `"x25519"`, `"secp256r1"` or `"secp384r1"` (a resumed TLS 1.2 session:
   * the group of its full handshake).
   */
  group: string;
  /** The ALPN protocol selected, or `null`. */
  alpnProtocol: string | null;
  /** The client's SNI host name (lower case), or `null`. */
  serverName: string | null;
  /** Whether the session was resumed from a PSK (a ticket). */
  resumed: boolean;
  /** The index of the PSK identity accepted, -1 on a full handshake. */
  pskIdentity: number;
  /** Whether a HelloRetryRequest was sent. */
  helloRetryRequest: boolean;
  /**
   * The signature scheme of the CertificateVerify (TLS 1.2: of the ServerKeyExchange) on full
   * handshakes, else `null`.
   */
  signatureScheme: string | null;
  /**
   * `SSL_get_session` after the handshake: the resumed session (with the app data `dec_cb`
   * saw) or the new one; when tickets were sent, the copy sealed into the last of them.
   */
  session: SslSession | null;
  /** NewSessionTickets sent (TLS 1.3: after the client's Finished; TLS 1.2: 0 or 1). */
  ticketsSent: number;
  /** Tickets not sent because the ticket keys had none that could seal, with the reason. */
  ticketsNotSealed: readonly { reason: string; message: string }[];
  /** Every `dec_cb` call of this handshake with its status and return. */
  decCbCalls: readonly DecryptCallbackCall[];
}

/**
 * The keys and state a finished handshake leaves for the application phase (TLS 1.2: the record
 * keys are installed and the three secrets are empty).
 */
export interface HandshakeResult {
  /** What was negotiated. */
  info: HandshakeInfo;
  /** The suite's hash. */
  hash: HashName;
  /** The AES key length of the suite. */
  keyLength: 16 | 32;
  /** client_application_traffic_secret_0. */
  clientSecret: Uint8Array;
  /** server_application_traffic_secret_0. */
  serverSecret: Uint8Array;
  /** resumption_master_secret. */
  resumptionMasterSecret: Uint8Array;
}

const alert = (n: number, why: string) => new TlsAlert(n, why);
const illegal = (why: string) => alert(AlertDescription.ILLEGAL_PARAMETER, why);
const missing = (why: string) => alert(AlertDescription.MISSING_EXTENSION, why);

/** The parts of a ClientHello the server negotiates on. */
interface Offer {
  hello: ClientHello;
  suite: number;
  groups: number[];
  shares: { group: number; keyExchange: Uint8Array }[];
  signatureAlgorithms: number[] | null;
  serverName: string | null;
  alpn: string[] | null;
  earlyData: boolean;
}

/** Reads a ClientHello's extensions and picks the suite (RFC 8446 §4.1.2, §4.2, §9.2). */
function readOffer(hello: ClientHello): Offer {
  const ext = hello.extensions;
  const versions = ext.get(Ext.SUPPORTED_VERSIONS);
  if (versions === undefined || !parseSupportedVersions(versions).includes(TLS13)) {
    throw alert(AlertDescription.PROTOCOL_VERSION, "the client does not offer TLS 1.3");
  }
  if (hello.legacyVersion <= SSL3_VERSION) {
    // With supported_versions the version comes from there (RFC 8446 §4.2.1); like libssl
    // (ssl_choose_server_version), a legacy_version of SSL 3.0 or below is still refused.
    throw alert(AlertDescription.PROTOCOL_VERSION, "legacy_version is SSL 3.0 or older");
  }
  if (hello.compressionMethods.length !== 1 || hello.compressionMethods[0] !== 0) {
    throw illegal("legacy_compression_methods is not the single null method");
  }
  const suite = hello.cipherSuites.find((s) => SUPPORTED_CIPHER_SUITES.includes(s));
  if (suite === undefined) {
    throw alert(AlertDescription.HANDSHAKE_FAILURE, "no cipher suite in common");
  }
  const groupsBody = ext.get(Ext.SUPPORTED_GROUPS);
  const sharesBody = ext.get(Ext.KEY_SHARE);
  if (groupsBody === undefined || sharesBody === undefined) {
    throw missing("supported_groups and key_share are both required (psk_dhe_ke or certificates)");
  }
  const groups = parseU16List(groupsBody, "supported_groups");
  const shares = parseKeyShares(sharesBody);
  for (const s of shares) {
    if (!groups.includes(s.group)) {
      throw illegal(`key_share for group ${s.group} not in supported_groups`);
    }
  }
  const psk = ext.get(Ext.PRE_SHARED_KEY);
  if (psk !== undefined && !ext.has(Ext.PSK_KEY_EXCHANGE_MODES)) {
    throw missing("pre_shared_key without psk_key_exchange_modes");
  }
  const sigs = ext.get(Ext.SIGNATURE_ALGORITHMS);
  const sni = ext.get(Ext.SERVER_NAME);
  const alpn = ext.get(Ext.ALPN);
  return {
    hello,
    suite,
    groups,
    shares,
    signatureAlgorithms: sigs === undefined ? null : parseU16List(sigs, "signature_algorithms"),
    serverName: sni === undefined ? null : parseServerName(sni),
    alpn: alpn === undefined ? null : parseAlpn(alpn),
    earlyData: ext.has(Ext.EARLY_DATA),
  };
}

/**
 * RFC 8446 §4.1.2: the second ClientHello is the first one with only key_share, early_data,
 * cookie, pre_shared_key and padding changed. Anything else that changed is illegal_parameter.
 */
function checkSecondHello(first: Offer, second: Offer, group: number): void {
  const a = first.hello, b = second.hello;
  const same = (x: Uint8Array | undefined, y: Uint8Array | undefined) =>
    x === y ||
    (x !== undefined && y !== undefined && sameBytes(x, y));
  const kept = [
    Ext.SERVER_NAME,
    Ext.SUPPORTED_GROUPS,
    Ext.SIGNATURE_ALGORITHMS,
    Ext.ALPN,
    Ext.SUPPORTED_VERSIONS,
    Ext.PSK_KEY_EXCHANGE_MODES,
  ];
  if (
    !same(a.random, b.random) || !same(a.legacySessionId, b.legacySessionId) ||
    a.cipherSuites.join() !== b.cipherSuites.join() ||
    !same(a.compressionMethods, b.compressionMethods) ||
    kept.some((t) => !same(a.extensions.get(t), b.extensions.get(t)))
  ) {
    throw illegal("the second ClientHello changed more than RFC 8446 §4.1.2 allows");
  }
  if (second.earlyData) throw illegal("early_data in the second ClientHello");
  if (second.shares.length !== 1 || second.shares[0].group !== group) {
    throw illegal("the second ClientHello has no single key share for the requested group");
  }
  if (second.suite !== first.suite) {
    throw illegal("the cipher suite changed after HelloRetryRequest");
  }
}

/** The group to use: the client's first share we support, else one to request (HRR). */
function chooseGroup(offer: Offer): { group: number; share: Uint8Array | null } {
  const share = offer.shares.find((s) => isSupportedGroup(s.group));
  if (share) return { group: share.group, share: share.keyExchange };
  const group = offer.groups.find((g) => SUPPORTED_GROUPS.includes(g));
  if (group === undefined) throw alert(AlertDescription.HANDSHAKE_FAILURE, "no group in common");
  return { group, share: null };
}

/** Starts {@link keyExchange}; a failure surfaces where the promise is awaited, if it is. */
function startKeyExchange(
  group: number,
  share: Uint8Array,
  keyPairs: EphemeralKeyPairSource,
): Promise<KeyExchangeResult> {
  const exchange = keyExchange(group, share, keyPairs);
  exchange.catch(() => {}); // not awaited when the handshake fails before the exchange
  return exchange;
}

function u16(v: number): Uint8Array {
  return new Uint8Array([v >>> 8, v & 0xff]);
}

/** The ticket engine's decision on one ClientHello, with the binder verified. */
interface PskDecision {
  session: SslSession | null;
  identity: number;
  /** The key schedule whose early secret is the accepted PSK (for the handshake to go on). */
  schedule: KeySchedule | null;
}

/**
 * Hands the ClientHello's PSK identities to the engine in order (`dec_cb` per identity), then
 * verifies the binder of the accepted one over the truncated ClientHello (RFC 8446 §4.2.11.2).
 * A binder that does not verify is decrypt_error (51), never a fallback to a full handshake.
 */
async function decidePsk(
  engine: ServerConnection,
  offer: Offer,
  hash: HashName,
  transcriptBefore: TranscriptHash,
): Promise<PskDecision> {
  const ext = offer.hello.extensions;
  const pskBody = ext.get(Ext.PRE_SHARED_KEY);
  const modes = ext.get(Ext.PSK_KEY_EXCHANGE_MODES);
  // psk_dhe_ke only: a client that allows psk_ke alone gets a full handshake, as from libssl
  // without SSL_OP_ALLOW_NO_DHE_KEX.
  const dhe = modes !== undefined && pskBody !== undefined &&
    parsePskKeyExchangeModes(modes).pskDheKe;
  const decision = await engine.processClientHello({
    version: TLS13,
    cipherSuite: offer.suite,
    pskKeyExchangeModes: dhe ? modes : null,
    preSharedKey: dhe ? pskBody : null,
  });
  if (!decision.resumed || decision.session === null || pskBody === undefined) {
    return { session: null, identity: -1, schedule: null };
  }
  const suite = tls13Suite(decision.session.cipherId);
  const reader = new PreSharedKeyReader(pskBody);
  const received = reader.binder(decision.identity, suite?.hashLength ?? 32);
  const message = offer.hello.message;
  const truncated = message.subarray(0, message.length - pskBody.length + reader.bindersOffset);
  const th = transcriptBefore.clone();
  th.update(truncated);
  const schedule = new KeySchedule(hash, decision.session.masterKey);
  const truncatedHash = th.digest();
  // A ticket's binder uses "res binder"; an external PSK from pskFindSession "ext binder".
  const verifies = constantTimeEqual(binder(hash, schedule.binderKey(), truncatedHash), received) ||
    (engine.context.pskFindSession !== null &&
      constantTimeEqual(binder(hash, schedule.binderKey(true), truncatedHash), received));
  if (!verifies) {
    throw alert(AlertDescription.DECRYPT_ERROR, "the PSK binder does not verify");
  }
  return { session: decision.session, identity: decision.identity, schedule };
}

/**
 * Runs the server side of a TLS 1.3 handshake over `rs` up to and including the client's
 * Finished, and returns the negotiated state; the caller then sends the NewSessionTickets.
 *
 * @param rs The connection's record stream.
 * @param config Credentials, the ticket engine's context and options.
 * @param engine The ticket engine's connection (`SSL`) for this handshake.
 * @returns What was negotiated and the application traffic secrets.
 * @throws {TlsAlert} the alert to send for any protocol violation.
 *
 * @example
 * ```ts
 * import { serverHandshake } from "./handshake.ts";
 * console.log(typeof serverHandshake); // function
 * ```
 */
export async function serverHandshake(
  rs: RecordStream,
  config: HandshakeConfig,
  engine: ServerConnection,
): Promise<HandshakeResult> {
  // ClientHello (RFC 8446 §4.1.2).
  const first = await rs.readHandshake(MAX_CLIENT_HELLO_LENGTH);
  if (first.type !== HandshakeType.CLIENT_HELLO) {
    throw alert(AlertDescription.UNEXPECTED_MESSAGE, "the first message is not a ClientHello");
  }
  if (rs.handshakePending) {
    throw alert(AlertDescription.UNEXPECTED_MESSAGE, "data after the ClientHello");
  }
  const hello = parseClientHello(first.message);
  if (chooseVersion(hello) === TLS1_2_VERSION) {
    return await serverHandshake12(rs, config, engine, hello);
  }
  rs.acceptChangeCipherSpec = true;
  let offer = readOffer(hello);
  const suite = tls13Suite(offer.suite)!;
  const hash: HashName = suite.hash;
  let transcript = new TranscriptHash(hash);
  let { group, share } = chooseGroup(offer);
  // The ECDHE exchange runs while the engine opens the tickets (both wait on Web Crypto); its
  // result, or its alert, is taken where the exchange belongs, after the PSK decision.
  let exchange = share === null ? null : startKeyExchange(group, share, config.ephemeralKeys);
  let psk = await decidePsk(engine, offer, hash, transcript);
  let helloRetryRequest = false;
  const compat = offer.hello.legacySessionId.length > 0;

  if (share === null) {
    helloRetryRequest = true;
    ({ offer, transcript } = await retryHello(rs, offer, group, hash, compat));
    share = offer.shares[0].keyExchange;
    exchange = startKeyExchange(group, share, config.ephemeralKeys);
    psk = await decidePsk(engine, offer, hash, transcript);
  }
  transcript.update(offer.hello.message);

  // SNI switch after the tickets were processed, as libssl runs dec_cb before the servername
  // callback (`session_ctx`: tickets stay with the first context).
  const switched = await contextForName(config.serverNames, offer.serverName);
  if (switched !== undefined) engine.useServerNameContext(switched);
  const resumed = psk.session !== null;
  const alpnProtocol = selectAlpn(offer.alpn, config.alpnProtocols);
  let scheme: number | null = null;
  if (!resumed) {
    if (offer.signatureAlgorithms === null) {
      throw missing("signature_algorithms is required for certificate authentication");
    }
    scheme = config.credentials.selectScheme(offer.signatureAlgorithms);
    if (scheme === null) {
      throw alert(AlertDescription.HANDSHAKE_FAILURE, "no signature scheme in common");
    }
  }

  // ServerHello (RFC 8446 §4.1.3) and the handshake keys (§7.1).
  const { serverShare, sharedSecret } = await exchange!;
  const shExtensions: ExtensionEntry[] = [];
  if (resumed) shExtensions.push([Ext.PRE_SHARED_KEY, u16(psk.identity)]);
  shExtensions.push([
    Ext.KEY_SHARE,
    concatBytes([u16(group), u16(serverShare.length), serverShare]),
  ]);
  shExtensions.push([Ext.SUPPORTED_VERSIONS, u16(TLS13)]);
  const sh = serverHello({
    random: config.random(32),
    legacySessionId: offer.hello.legacySessionId,
    cipherSuite: offer.suite,
    extensions: shExtensions,
  });
  transcript.update(sh);
  // ServerHello, the compatibility CCS and the encrypted flight leave in one transport write.
  rs.cork();
  await rs.write(22, sh);
  if (compat && !helloRetryRequest) await rs.writeChangeCipherSpec();
  const schedule = psk.schedule ?? new KeySchedule(hash);
  const hs = schedule.handshake(sharedSecret, transcript.digest());
  const keyLength = suite.hashLength === 48 ? 32 : 16;
  rs.setWriteCipher(await cipherFor(hash, hs.server, keyLength));
  rs.setReadCipher(await cipherFor(hash, hs.client, keyLength));

  const ee: ExtensionEntry[] = [];
  // A name the serverNames option knows is acknowledged, on resumption too: in TLS 1.3 the SNI
  // belongs to the handshake, not the session (ssl/statem/extensions_srvr.c:
  // tls_construct_stoc_server_name skips it only for a TLS 1.2 resumption).
  if (switched !== undefined) ee.push([Ext.SERVER_NAME, new Uint8Array(0)]);
  if (alpnProtocol !== null) ee.push([Ext.ALPN, encodeAlpn(alpnProtocol)]);
  const flight = await serverFlight(config.credentials, scheme, ee, hash, hs.server, transcript);
  await rs.write(22, flight);
  await rs.uncork();
  const app = schedule.application(transcript.digest());
  rs.setWriteCipher(await cipherFor(hash, app.server, keyLength));

  await readClientFinished(rs, offer.earlyData, hash, hs.client, transcript);
  rs.acceptChangeCipherSpec = false;
  rs.setReadCipher(await cipherFor(hash, app.client, keyLength));

  if (!resumed) {
    engine.establishSession({
      cipherId: offer.suite,
      kexGroup: group,
      alpnSelected: alpnProtocol === null ? null : latin1(alpnProtocol),
    });
  }
  return {
    info: {
      version: "TLSv1.3",
      cipherSuite: suite.name,
      group: groupName(group),
      alpnProtocol,
      serverName: offer.serverName,
      resumed,
      pskIdentity: psk.identity,
      helloRetryRequest,
      signatureScheme: scheme === null ? null : SIGNATURE_SCHEME_NAMES.get(scheme) ?? null,
      session: engine.session,
      ticketsSent: 0,
      ticketsNotSealed: engine.ticketsNotSealed,
      decCbCalls: engine.decCbCalls,
    },
    hash,
    keyLength,
    clientSecret: app.client,
    serverSecret: app.server,
    resumptionMasterSecret: schedule.resumption(transcript.digest()),
  };
}

/**
 * HelloRetryRequest (RFC 8446 §4.1.4): asks for a share of `group` (with the compatibility
 * ChangeCipherSpec when the client sent a session id), then reads the second ClientHello and
 * checks it against the first. Returns its offer and the transcript, which starts with
 * `message_hash` in place of ClientHello1 and holds the HelloRetryRequest.
 */
async function retryHello(
  rs: RecordStream,
  first: Offer,
  group: number,
  hash: HashName,
  compat: boolean,
): Promise<{ offer: Offer; transcript: TranscriptHash }> {
  const transcript = TranscriptHash.afterHelloRetry(hash, first.hello.message);
  const hrr = serverHello({
    random: HELLO_RETRY_REQUEST_RANDOM,
    legacySessionId: first.hello.legacySessionId,
    cipherSuite: first.suite,
    extensions: [[Ext.KEY_SHARE, u16(group)], [Ext.SUPPORTED_VERSIONS, u16(TLS13)]],
  });
  transcript.update(hrr);
  rs.cork();
  await rs.write(22, hrr);
  if (compat) await rs.writeChangeCipherSpec();
  await rs.uncork();
  // Early data sent with ClientHello1 arrives before ClientHello2 and is skipped (§4.2.10).
  rs.earlyDataBudget = first.earlyData ? MAX_SKIPPED_EARLY_DATA : 0;
  const again = await rs.readHandshake(MAX_CLIENT_HELLO_LENGTH);
  rs.earlyDataBudget = 0;
  if (again.type !== HandshakeType.CLIENT_HELLO) {
    throw alert(AlertDescription.UNEXPECTED_MESSAGE, "expected the second ClientHello");
  }
  if (rs.handshakePending) {
    throw alert(AlertDescription.UNEXPECTED_MESSAGE, "data after the second ClientHello");
  }
  const second = readOffer(parseClientHello(again.message));
  checkSecondHello(first, second, group);
  return { offer: second, transcript };
}

/**
 * The server's encrypted flight (RFC 8446 §4.3.1, §4.4): EncryptedExtensions, then on a full
 * handshake (`scheme` set) Certificate and CertificateVerify, then Finished, each added to the
 * transcript as it is made.
 */
async function serverFlight(
  credentials: ServerCredentials,
  scheme: number | null,
  extensions: ExtensionEntry[],
  hash: HashName,
  serverHandshakeSecret: Uint8Array,
  transcript: TranscriptHash,
): Promise<Uint8Array> {
  const flight: Uint8Array[] = [encryptedExtensions(extensions)];
  transcript.update(flight[0]);
  if (scheme !== null) {
    const cert = certificateMessage(credentials.chain);
    transcript.update(cert);
    const signed = certificateVerifyContent(transcript.digest());
    const cv = certificateVerifyMessage(scheme, await credentials.sign(scheme, signed));
    transcript.update(cv);
    flight.push(cert, cv);
  }
  const finished = handshakeMessage(
    HandshakeType.FINISHED,
    finishedVerifyData(hash, serverHandshakeSecret, transcript.digest()),
  );
  transcript.update(finished);
  flight.push(finished);
  return concatBytes(flight);
}

/**
 * Reads the client's Finished (RFC 8446 §4.4.4), after any rejected 0-RTT data (§4.2.10), checks
 * its verify_data in constant time (decrypt_error (51) on a mismatch) and adds it to the
 * transcript.
 */
async function readClientFinished(
  rs: RecordStream,
  earlyData: boolean,
  hash: HashName,
  clientHandshakeSecret: Uint8Array,
  transcript: TranscriptHash,
): Promise<void> {
  rs.earlyDataBudget = earlyData ? MAX_SKIPPED_EARLY_DATA : 0;
  const fin = await rs.readHandshake(MAX_CLIENT_MESSAGE_LENGTH);
  rs.earlyDataBudget = 0;
  if (fin.type !== HandshakeType.FINISHED) {
    throw alert(AlertDescription.UNEXPECTED_MESSAGE, `expected Finished, got message ${fin.type}`);
  }
  if (fin.body.length !== transcript.length) {
    throw alert(AlertDescription.DECODE_ERROR, "Finished of the wrong length");
  }
  const expected = finishedVerifyData(hash, clientHandshakeSecret, transcript.digest());
  if (!constantTimeEqual(expected, fin.body)) {
    throw alert(AlertDescription.DECRYPT_ERROR, "the client's Finished does not verify");
  }
  transcript.update(fin.message);
}

/** The record protection for a traffic secret (RFC 8446 §7.3). */
export async function cipherFor(
  hash: HashName,
  secret: Uint8Array,
  keyLength: 16 | 32,
): Promise<RecordCipher> {
  const { key, iv } = trafficKey(hash, secret, keyLength);
  return await RecordCipher.create(key, iv);
}

/** RFC 8446 §4.4.3: 64 spaces, the context string, a zero byte, the transcript hash. */
function certificateVerifyContent(transcriptHash: Uint8Array): Uint8Array<ArrayBuffer> {
  const label = "TLS 1.3, server CertificateVerify";
  const out = new Uint8Array(64 + label.length + 1 + transcriptHash.length);
  out.fill(0x20, 0, 64);
  for (let i = 0; i < label.length; i++) out[64 + i] = label.charCodeAt(i);
  out.set(transcriptHash, 64 + label.length + 1);
  return out;
}
