// RFC 8448 replayed against the server: the trace's ClientHello is fed to `acceptTls` over an
// in-memory transport, with the trace's ServerHello.random and server x25519 key pair injected
// and the trace's RSA certificate and key as the credentials, and what the server writes is
// compared with the trace. The ServerHello record and the Certificate message must be byte for
// byte the trace's; the server's EncryptedExtensions legitimately differ (it sends none of the
// trace server's supported_groups / record_size_limit / server_name), so the rest of the
// transcript differs too: the encrypted flight is decrypted with the trace's server handshake
// key and IV, the RSA-PSS CertificateVerify (randomised) is verified with the certificate's
// key, the Finished is checked with the trace's server finished key over the server's own
// transcript, and the client Finished is sent under the trace's client handshake key.
import assert from "node:assert/strict";
import { TicketStatus } from "../src/ticket/status.ts";
import { SslContext } from "../src/server/ssl_context.ts";
import { DecryptTicketReturn } from "../src/server/callbacks.ts";
import { CertificateError, ServerCredentials } from "../src/tls/certificate.ts";
import { acceptTls } from "../src/tls/connection.ts";
import {
  finishedVerifyData,
  hkdfExpandLabel,
  KeySchedule,
  trafficKey,
  TranscriptHash,
} from "../src/tls/key_schedule.ts";
import { handshakeMessage } from "../src/tls/messages.ts";
import { RecordCipher, RecordReader } from "../src/tls/record.ts";
import { memoryTransportPair } from "./_memory_transport.ts";
import { RFC8448_0RTT, RFC8448_1RTT } from "./_rfc8448.ts";
import { RFC8448_1RTT_RECORD_HEADERS, rfc8448RsaJwk } from "./_rfc8448_server.ts";
import { certificateSpki, record, verifyCertificateVerify } from "./_tls13_client.ts";

const T = RFC8448_1RTT;
const hex = (s: string) => Uint8Array.fromHex(s);

/** The certificate DER inside the trace's Certificate message (one entry, no extensions). */
function traceCertificate(): Uint8Array<ArrayBuffer> {
  const m = T.messages.certificate;
  const len = (m[8] << 16) | (m[9] << 8) | m[10];
  return m.slice(11, 11 + len);
}

/** The trace server's x25519 key pair (private key as PKCS#8, RFC 8410). */
async function x25519Pair(priv: string, pub: Uint8Array): Promise<CryptoKeyPair> {
  const pkcs8 = new Uint8Array([...hex("302e020100300506032b656e04220420"), ...hex(priv)]);
  const privateKey = await crypto.subtle.importKey("pkcs8", pkcs8, { name: "X25519" }, true, [
    "deriveBits",
  ]);
  const publicKey = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(pub),
    { name: "X25519" },
    true,
    [],
  );
  return { privateKey, publicKey };
}

/**
 * Credentials holding the trace's 1024-bit RSA certificate and key. `ServerCredentials.fromPem`
 * refuses RSA keys under 2048 bits (checked below), so this stand-in offers the same three
 * members the handshake uses: the chain, scheme selection (rsa_pss_rsae_sha256) and signing.
 */
async function traceCredentials(): Promise<ServerCredentials> {
  const key = await crypto.subtle.importKey(
    "jwk",
    rfc8448RsaJwk(),
    { name: "RSA-PSS", hash: "SHA-256" },
    true,
    [
      "sign",
    ],
  );
  const standIn = {
    chain: [traceCertificate()],
    keyType: "RSA",
    schemes: [0x0804],
    selectScheme: (offered: readonly number[]) => (offered.includes(0x0804) ? 0x0804 : null),
    sign: async (_scheme: number, data: Uint8Array) =>
      new Uint8Array(
        await crypto.subtle.sign({ name: "RSA-PSS", saltLength: 32 }, key, new Uint8Array(data)),
      ),
  };
  return standIn as unknown as ServerCredentials;
}

/** Splits concatenated handshake messages. */
function splitMessages(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = 0; p < b.length;) {
    const len = (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
    out.push(b.slice(p, p + 4 + len));
    p += 4 + len;
  }
  return out;
}

const pem = (label: string, der: Uint8Array) =>
  `-----BEGIN ${label}-----\n${der.toBase64().replace(/.{64}/g, "$&\n")}\n-----END ${label}-----\n`;

Deno.test("RFC 8448 §2: the trace's RSA key belongs to the §3 certificate; fromPem refuses it as a 1024-bit key", async () => {
  const jwk = rfc8448RsaJwk();
  const key = await crypto.subtle.importKey(
    "jwk",
    jwk,
    { name: "RSA-PSS", hash: "SHA-256" },
    true,
    ["sign"],
  );
  const pub = await crypto.subtle.importKey(
    "spki",
    certificateSpki(traceCertificate()),
    { name: "RSA-PSS", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const data = new TextEncoder().encode("RFC 8448");
  const sig = await crypto.subtle.sign({ name: "RSA-PSS", saltLength: 32 }, key, data);
  assert.equal(
    await crypto.subtle.verify({ name: "RSA-PSS", saltLength: 32 }, pub, sig, data),
    true,
  );
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", key));
  const e = await ServerCredentials.fromPem(
    pem("CERTIFICATE", traceCertificate()),
    pem("PRIVATE KEY", pkcs8),
  )
    .then(() => null, (e) => e);
  assert.ok(e instanceof CertificateError, String(e));
  assert.equal(e.reason, "unsupported");
});

Deno.test("RFC 8448 §3: replaying the simple 1-RTT ClientHello reproduces the ServerHello record and the Certificate byte for byte", async () => {
  const serverRandom = T.messages.serverHello.slice(6, 38);
  const pair = await x25519Pair(T.values.serverPrivateKey, hex(T.values.serverPublicKey));
  const groups: number[] = [];
  const [c, s] = memoryTransportPair();
  const conn = acceptTls(s, {
    credentials: await traceCredentials(),
    context: await SslContext.create(),
    random: (n) => (assert.equal(n, 32), serverRandom.slice()),
    ephemeralKeys: (group) => (groups.push(group), Promise.resolve(pair)),
  });
  try {
    // {client} send handshake record (201 octets).
    const chRecord = new Uint8Array([
      ...RFC8448_1RTT_RECORD_HEADERS.clientHello,
      ...T.messages.clientHello,
    ]);
    assert.equal(chRecord.length, 201);
    await c.writeAll(chRecord);
    const reader = new RecordReader(c);
    reader.maxBodyLength = 16640;

    // {server} send handshake record: the ServerHello, 95 octets, identical.
    const sh = await reader.next();
    assert.ok(sh);
    const shRecord = new Uint8Array([...sh.header, ...sh.body]);
    assert.equal(
      shRecord.toHex(),
      new Uint8Array([...RFC8448_1RTT_RECORD_HEADERS.serverHello, ...T.messages.serverHello])
        .toHex(),
    );
    assert.deepEqual(groups, [0x1d]);

    // The trace's transcript hash and handshake secrets follow.
    const th = new TranscriptHash("SHA-256").update(T.messages.clientHello).update(sh.body);
    assert.equal(th.digest().toHex(), T.values.helloHash);

    // {server} the encrypted flight, under the trace's server handshake key and IV.
    const flight = await reader.next();
    assert.ok(flight);
    assert.equal(flight.type, 23);
    const serverHs = await RecordCipher.create(
      hex(T.values.serverHandshakeKey),
      hex(T.values.serverHandshakeIv),
    );
    const opened = await serverHs.open(flight.header, flight.body);
    assert.equal(opened.type, 22);
    const [ee, cert, cv, fin, ...rest] = splitMessages(opened.content);
    assert.equal(rest.length, 0);
    // EncryptedExtensions: empty (the trace server's has supported_groups, record_size_limit
    // and an empty server_name: 40 octets).
    assert.equal(ee.toHex(), "080000020000");
    assert.notEqual(ee.toHex(), T.messages.encryptedExtensions.toHex());
    // Certificate: the trace's, byte for byte (445 octets).
    assert.equal(cert.toHex(), T.messages.certificate.toHex());
    th.update(ee).update(cert);
    // CertificateVerify: rsa_pss_rsae_sha256 with a 128-byte signature that verifies.
    assert.equal(cv.subarray(0, 8).toHex(), "0f00008408040080");
    assert.equal(cv.length, T.messages.certificateVerify.length);
    assert.equal(
      await verifyCertificateVerify(cert.slice(11, 11 + 432), 0x0804, cv.subarray(8), th.digest()),
      true,
    );
    th.update(cv);
    // Finished: HMAC with the trace's server finished key over this transcript.
    const serverHsSecret = hex(T.values.serverHandshakeTraffic);
    assert.equal(
      hkdfExpandLabel("SHA-256", serverHsSecret, "finished", new Uint8Array(0), 32).toHex(),
      T.values.serverFinishedKey,
    );
    assert.equal(
      fin.toHex(),
      handshakeMessage(20, finishedVerifyData("SHA-256", serverHsSecret, th.digest())).toHex(),
    );
    th.update(fin);

    // {client} Finished under the trace's client handshake key: the server accepts it.
    const clientFin = handshakeMessage(
      20,
      finishedVerifyData("SHA-256", hex(T.values.clientHandshakeTraffic), th.digest()),
    );
    const clientHs = await RecordCipher.create(
      hex(T.values.clientHandshakeKey),
      hex(T.values.clientHandshakeIv),
    );
    await c.writeAll(await clientHs.seal(22, clientFin));
    const info = await conn.handshake();
    assert.equal(info.cipherSuite, "TLS_AES_128_GCM_SHA256");
    assert.equal(info.group, "x25519");
    assert.equal(info.serverName, "server");
    assert.equal(info.signatureScheme, "rsa_pss_rsae_sha256");
    assert.equal(info.resumed, false);
    assert.equal(info.ticketsSent, 2);

    // The application secrets follow from the trace's handshake secret and this transcript:
    // the two NewSessionTickets decrypt under the server application key.
    const ks = new KeySchedule("SHA-256");
    const hs = ks.handshake(hex(T.values.sharedSecret), hex(T.values.helloHash));
    assert.equal(hs.server.toHex(), T.values.serverHandshakeTraffic);
    const app = ks.application(th.digest());
    const ak = trafficKey("SHA-256", app.server, 16);
    const serverApp = await RecordCipher.create(ak.key, ak.iv);
    const nstRecord = await reader.next();
    assert.ok(nstRecord);
    const nsts = await serverApp.open(nstRecord.header, nstRecord.body);
    assert.equal(nsts.type, 22);
    const tickets = splitMessages(nsts.content);
    assert.deepEqual(tickets.map((t) => t[0]), [4, 4]);

    // Application data both ways under the derived keys.
    const ck = trafficKey("SHA-256", app.client, 16);
    const clientApp = await RecordCipher.create(ck.key, ck.iv);
    const data = Uint8Array.from({ length: 50 }, (_, i) => i); // the trace's 00 .. 31
    await c.writeAll(await clientApp.seal(23, data));
    const r = conn.readable.getReader();
    assert.deepEqual((await r.read()).value, data);
    r.releaseLock();
    const w = conn.writable.getWriter();
    await w.write(data);
    w.releaseLock();
    const echoed = await reader.next();
    assert.ok(echoed);
    assert.deepEqual((await serverApp.open(echoed.header, echoed.body)).content, data);
    await conn.close();
    const closeNotify = await reader.next();
    assert.ok(closeNotify);
    assert.deepEqual(
      Array.from((await serverApp.open(closeNotify.header, closeNotify.body)).content),
      [1, 0],
    );
  } finally {
    c.close();
    await conn.handshake().catch(() => {});
  }
});

Deno.test("RFC 8448 §4: the trace's resumption ClientHello, whose ticket this engine cannot open, gets a full handshake: the ServerHello is the trace's without pre_shared_key", async () => {
  const Z = RFC8448_0RTT;
  const traceSh = Z.messages.serverHello;
  const serverRandom = traceSh.slice(6, 38);
  const pub = traceSh.slice(traceSh.length - 6 - 32, traceSh.length - 6);
  const pair = await x25519Pair(Z.values.serverPrivateKey, pub);
  const decStatuses: number[] = [];
  const [c, s] = memoryTransportPair();
  const conn = acceptTls(s, {
    credentials: await traceCredentials(),
    context: await SslContext.create({
      decCb: (_c, _s, _k, status) => (decStatuses.push(status), DecryptTicketReturn.IGNORE_RENEW),
    }),
    random: () => serverRandom.slice(),
    ephemeralKeys: () => Promise.resolve(pair),
  });
  try {
    await c.writeAll(record(22, Z.messages.clientHello, 0x0301));
    // The client's 0-RTT data under the trace's early traffic key: skipped by the server.
    const early = await RecordCipher.create(
      hex(Z.values.clientEarlyKey),
      hex(Z.values.clientEarlyIv),
    );
    await c.writeAll(await early.seal(23, Uint8Array.from({ length: 50 }, (_, i) => i)));
    const reader = new RecordReader(c);
    reader.maxBodyLength = 16640;
    const sh = await reader.next();
    assert.ok(sh);
    // The trace's ServerHello less its pre_shared_key extension (00 29 00 02 00 00).
    const pskAt = traceSh.indexOf(0x29, 40) - 1;
    assert.equal(traceSh.subarray(pskAt, pskAt + 6).toHex(), "002900020000");
    const expected = new Uint8Array([
      ...traceSh.subarray(0, pskAt),
      ...traceSh.subarray(pskAt + 6),
    ]);
    expected[3] -= 6; // handshake length
    expected[6 + 32 + 1 + 2 + 1 + 1] -= 6; // extensions length (low byte)
    assert.equal(sh.body.toHex(), expected.toHex());
    assert.deepEqual(decStatuses, [TicketStatus.NO_DECRYPT]);

    // Finish it: same ECDHE secret as the trace, no PSK in the key schedule.
    const th = new TranscriptHash("SHA-256").update(Z.messages.clientHello).update(sh.body);
    const ks = new KeySchedule("SHA-256");
    const hs = ks.handshake(hex(Z.values.sharedSecret), th.digest());
    const sk = trafficKey("SHA-256", hs.server, 16);
    const flight = await reader.next();
    assert.ok(flight);
    const opened = await (await RecordCipher.create(sk.key, sk.iv)).open(
      flight.header,
      flight.body,
    );
    const msgs = splitMessages(opened.content);
    assert.deepEqual(msgs.map((m) => m[0]), [8, 11, 15, 20]);
    assert.equal(msgs[0].toHex(), "080000020000"); // no early_data: 0-RTT rejected
    assert.equal(msgs[1].toHex(), T.messages.certificate.toHex());
    for (const m of msgs) th.update(m);
    const ck = trafficKey("SHA-256", hs.client, 16);
    const fin = handshakeMessage(20, finishedVerifyData("SHA-256", hs.client, th.digest()));
    await c.writeAll(await (await RecordCipher.create(ck.key, ck.iv)).seal(22, fin));
    const info = await conn.handshake();
    assert.equal(info.resumed, false);
    assert.equal(info.pskIdentity, -1);
  } finally {
    c.close();
    await conn.handshake().catch(() => {});
  }
});
