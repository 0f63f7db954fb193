// Tests for the synchronous TLS 1.3 key schedule (src/tls/key_schedule.ts) against the RFC 8448
// traces: §3 "Simple 1-RTT Handshake" (every secret, key, IV and both Finished messages, from
// the trace's x25519 keys and its handshake messages hashed for real), §4 "Resumed 0-RTT
// Handshake" (the PSK from §3's ticket, early secret, binder key, the ClientHello's binder over
// the truncated ClientHello, 0-RTT secrets and the PSK + ECDHE handshake) and §5
// "HelloRetryRequest" (the RFC 8446 §4.4.1 message_hash transcript and the handshake secrets).
// Then agreement with an independent Web Crypto hkdfExpandLabel (tests/_webcrypto_hkdf.ts), with
// node:crypto hkdfSync, a SHA-384 schedule against a node:crypto reimplementation, and argument
// validation (TlsAlert 80).
import assert from "node:assert/strict";
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
} from "node:crypto";
import { TlsAlert } from "../src/server/alert.ts";
import { webCryptoExpandLabel } from "./_webcrypto_hkdf.ts";
import {
  binder,
  deriveSecret,
  finishedVerifyData,
  type HashName,
  hkdfExpand,
  hkdfExpandLabel,
  hkdfExtract,
  KeySchedule,
  nextTrafficSecret,
  trafficKey,
  TranscriptHash,
} from "../src/tls/key_schedule.ts";
import { constantTimeEqual } from "../src/ticket/bytes.ts";
import { RFC8448_0RTT, RFC8448_1RTT, RFC8448_HRR } from "./_rfc8448.ts";

const hex = (b: Uint8Array) => b.toHex();
const fromHex = (s: string) => Uint8Array.fromHex(s);
const EMPTY = new Uint8Array(0);
const isAlert80 = (e: unknown) => e instanceof TlsAlert && e.alert === 80;

/** The hash of `messages` in order, as a fresh transcript. */
function transcript(hash: HashName, ...messages: Uint8Array[]): Uint8Array {
  const t = new TranscriptHash(hash);
  for (const m of messages) t.update(m);
  return t.digest();
}

/** The X25519 shared secret of a raw private key and a raw peer public key (node:crypto). */
function x25519(privateKey: Uint8Array, peerPublic: Uint8Array): Uint8Array {
  const pkcs8 = new Uint8Array([...fromHex("302e020100300506032b656e04220420"), ...privateKey]);
  const spki = new Uint8Array([...fromHex("302a300506032b656e032100"), ...peerPublic]);
  return new Uint8Array(diffieHellman({
    privateKey: createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" }),
    publicKey: createPublicKey({ key: Buffer.from(spki), format: "der", type: "spki" }),
  }));
}

/** The extensions of a ClientHello or ServerHello handshake message: type → [offset, body]. */
function extensions(msg: Uint8Array): Map<number, { at: number; body: Uint8Array }> {
  let p = 4 + 2 + 32; // handshake header, legacy_version, random
  if (msg[0] === 1) {
    p += 1 + msg[p]; // legacy_session_id
    p += 2 + ((msg[p] << 8) | msg[p + 1]); // cipher_suites
    p += 1 + msg[p]; // legacy_compression_methods
  } else {
    p += 1 + msg[p] + 2 + 1; // legacy_session_id_echo, cipher_suite, compression
  }
  const end = p + 2 + ((msg[p] << 8) | msg[p + 1]);
  assert.equal(end, msg.length, "extensions end the message");
  const out = new Map<number, { at: number; body: Uint8Array }>();
  for (p += 2; p < end;) {
    const type = (msg[p] << 8) | msg[p + 1], len = (msg[p + 2] << 8) | msg[p + 3];
    out.set(type, { at: p, body: msg.subarray(p + 4, p + 4 + len) });
    p += 4 + len;
  }
  return out;
}

/** The x25519 key_share of a hello (client: the first entry). */
function x25519Share(msg: Uint8Array): Uint8Array {
  const ks = extensions(msg).get(0x0033)!.body;
  const entry = msg[0] === 1 ? ks.subarray(2) : ks;
  assert.equal((entry[0] << 8) | entry[1], 0x001d, "x25519 group");
  return entry.subarray(4, 4 + ((entry[2] << 8) | entry[3]));
}

/** RFC 8446 §4.2.11.2 Truncate(ClientHello): the ClientHello up to its PskBinderEntry list. */
function truncateClientHello(ch: Uint8Array): { truncated: Uint8Array; binders: Uint8Array[] } {
  const psk = extensions(ch).get(0x0029)!;
  assert.equal(psk.at + 4 + psk.body.length, ch.length, "pre_shared_key is the last extension");
  const identitiesLength = (psk.body[0] << 8) | psk.body[1];
  const bindersAt = 2 + identitiesLength;
  const bindersEnd = bindersAt + 2 + ((psk.body[bindersAt] << 8) | psk.body[bindersAt + 1]);
  assert.equal(bindersEnd, psk.body.length);
  const binders: Uint8Array[] = [];
  for (let p = bindersAt + 2; p < bindersEnd; p += 1 + psk.body[p]) {
    binders.push(psk.body.subarray(p + 1, p + 1 + psk.body[p]));
  }
  return { truncated: ch.subarray(0, ch.length - (psk.body.length - bindersAt)), binders };
}

Deno.test("RFC 8448 §3/§4/§5: each transcribed handshake message matches its length field", () => {
  let count = 0;
  for (const trace of [RFC8448_1RTT, RFC8448_0RTT, RFC8448_HRR]) {
    for (const [name, m] of Object.entries(trace.messages)) {
      assert.equal((m[1] << 16) | (m[2] << 8) | m[3], m.length - 4, name);
      count++;
    }
  }
  assert.equal(count, 18);
});

Deno.test("RFC 8448 §3: ECDHE shared secret from the trace's x25519 keys", () => {
  const { messages: m, values: v } = RFC8448_1RTT;
  assert.equal(hex(x25519Share(m.serverHello)), v.serverPublicKey);
  const shared = x25519(fromHex(v.serverPrivateKey), x25519Share(m.clientHello));
  assert.equal(hex(shared), v.sharedSecret);
  assert.equal(
    hex(x25519(fromHex(v.clientPrivateKey), x25519Share(m.serverHello))),
    v.sharedSecret,
  );
});

Deno.test("RFC 8448 §3: early secret without a PSK", () => {
  const v = RFC8448_1RTT.values;
  assert.equal(hex(new KeySchedule("SHA-256").stageSecret("early")), v.earlySecret);
  assert.equal(hex(hkdfExtract("SHA-256", new Uint8Array(32), new Uint8Array(32))), v.earlySecret);
  assert.equal(hex(hkdfExtract("SHA-256", EMPTY, new Uint8Array(32))), v.earlySecret);
  const empty = transcript("SHA-256");
  assert.equal(
    hex(deriveSecret("SHA-256", fromHex(v.earlySecret), "derived", empty)),
    v.derivedForHandshake,
  );
});

Deno.test("RFC 8448 §3: handshake secrets", () => {
  const { messages: m, values: v } = RFC8448_1RTT;
  const helloHash = transcript("SHA-256", m.clientHello, m.serverHello);
  assert.equal(hex(helloHash), v.helloHash);
  const ks = new KeySchedule("SHA-256");
  const hs = ks.handshake(fromHex(v.sharedSecret), helloHash);
  assert.equal(hex(ks.stageSecret("handshake")), v.handshakeSecret);
  assert.equal(hex(hs.client), v.clientHandshakeTraffic);
  assert.equal(hex(hs.server), v.serverHandshakeTraffic);
  // The same steps with the free functions.
  const handshake = hkdfExtract("SHA-256", fromHex(v.derivedForHandshake), fromHex(v.sharedSecret));
  assert.equal(hex(handshake), v.handshakeSecret);
  assert.equal(
    hex(deriveSecret("SHA-256", handshake, "c hs traffic", helloHash)),
    v.clientHandshakeTraffic,
  );
  assert.equal(
    hex(deriveSecret("SHA-256", handshake, "s hs traffic", helloHash)),
    v.serverHandshakeTraffic,
  );
  assert.equal(
    hex(deriveSecret("SHA-256", handshake, "derived", transcript("SHA-256"))),
    v.derivedForMaster,
  );
});

Deno.test("RFC 8448 §3: master secret, application traffic secrets and exporter", () => {
  const { messages: m, values: v } = RFC8448_1RTT;
  const ks = new KeySchedule("SHA-256");
  ks.handshake(fromHex(v.sharedSecret), fromHex(v.helloHash));
  assert.equal(hex(ks.stageSecret("master")), v.masterSecret);
  assert.equal(
    hex(hkdfExtract("SHA-256", fromHex(v.derivedForMaster), new Uint8Array(32))),
    v.masterSecret,
  );
  const finishedHash = transcript(
    "SHA-256",
    m.clientHello,
    m.serverHello,
    m.encryptedExtensions,
    m.certificate,
    m.certificateVerify,
    m.serverFinished,
  );
  assert.equal(hex(finishedHash), v.finishedHash);
  const app = ks.application(finishedHash);
  assert.equal(hex(app.client), v.clientApplicationTraffic);
  assert.equal(hex(app.server), v.serverApplicationTraffic);
  assert.equal(hex(app.exporter), v.exporterMasterSecret);
});

Deno.test("RFC 8448 §3: handshake and application write keys and IVs", () => {
  const v = RFC8448_1RTT.values;
  const cases = [
    [v.serverHandshakeTraffic, v.serverHandshakeKey, v.serverHandshakeIv],
    [v.clientHandshakeTraffic, v.clientHandshakeKey, v.clientHandshakeIv],
    [v.serverApplicationTraffic, v.serverApplicationKey, v.serverApplicationIv],
    [v.clientApplicationTraffic, v.clientApplicationKey, v.clientApplicationIv],
  ];
  for (const [secret, key, iv] of cases) {
    const k = trafficKey("SHA-256", fromHex(secret), 16);
    assert.equal(hex(k.key), key);
    assert.equal(hex(k.iv), iv);
    assert.equal(k.key.buffer.byteLength, 16, "a tight ArrayBuffer for crypto.subtle");
  }
});

Deno.test("RFC 8448 §3: server Finished verify_data", () => {
  const { messages: m, values: v } = RFC8448_1RTT;
  const t = new TranscriptHash("SHA-256");
  for (const msg of [m.clientHello, m.serverHello, m.encryptedExtensions, m.certificate]) {
    t.update(msg);
  }
  t.update(m.certificateVerify);
  const key = hkdfExpandLabel("SHA-256", fromHex(v.serverHandshakeTraffic), "finished", EMPTY, 32);
  assert.equal(hex(key), v.serverFinishedKey);
  const vd = finishedVerifyData("SHA-256", fromHex(v.serverHandshakeTraffic), t.digest());
  assert.equal(hex(vd), v.serverVerifyData);
  assert.equal(hex(m.serverFinished.subarray(4)), v.serverVerifyData);
  assert.ok(constantTimeEqual(vd, m.serverFinished.subarray(4)));
});

Deno.test("RFC 8448 §3: client Finished verify_data", () => {
  const { messages: m, values: v } = RFC8448_1RTT;
  const key = hkdfExpandLabel("SHA-256", fromHex(v.clientHandshakeTraffic), "finished", EMPTY, 32);
  assert.equal(hex(key), v.clientFinishedKey);
  const vd = finishedVerifyData(
    "SHA-256",
    fromHex(v.clientHandshakeTraffic),
    fromHex(v.finishedHash),
  );
  assert.equal(hex(vd), v.clientVerifyData);
  assert.ok(constantTimeEqual(vd, m.clientFinished.subarray(4)));
  // With the client's key but the server's transcript position it must not verify.
  const wrong = finishedVerifyData(
    "SHA-256",
    fromHex(v.clientHandshakeTraffic),
    transcript("SHA-256", m.clientHello, m.serverHello),
  );
  assert.ok(!constantTimeEqual(wrong, m.clientFinished.subarray(4)));
});

Deno.test("RFC 8448 §3: a whole handshake through one transcript and one KeySchedule", () => {
  const { messages: m, values: v } = RFC8448_1RTT;
  const t = new TranscriptHash("SHA-256").update(m.clientHello).update(m.serverHello);
  const ks = new KeySchedule("SHA-256");
  const shared = x25519(fromHex(v.serverPrivateKey), x25519Share(m.clientHello));
  const hs = ks.handshake(shared, t.digest());
  t.update(m.encryptedExtensions).update(m.certificate).update(m.certificateVerify);
  const serverVd = finishedVerifyData("SHA-256", hs.server, t.digest());
  assert.ok(constantTimeEqual(serverVd, m.serverFinished.subarray(4)));
  t.update(m.serverFinished);
  const app = ks.application(t.digest());
  const clientVd = finishedVerifyData("SHA-256", hs.client, t.digest());
  assert.ok(constantTimeEqual(clientVd, m.clientFinished.subarray(4)));
  t.update(m.clientFinished);
  assert.equal(hex(t.digest()), v.clientFinishedHash);
  assert.equal(hex(ks.resumption(t.digest())), v.resumptionMasterSecret);
  assert.equal(hex(trafficKey("SHA-256", app.server, 16).key), v.serverApplicationKey);
});

Deno.test("RFC 8448 §3: resumption master secret and the ticket's PSK (nonce 00 00)", () => {
  const { messages: m, values: v } = RFC8448_1RTT;
  const ks = new KeySchedule("SHA-256");
  ks.handshake(fromHex(v.sharedSecret), fromHex(v.helloHash));
  const rms = ks.resumption(fromHex(v.clientFinishedHash));
  assert.equal(hex(rms), v.resumptionMasterSecret);
  // NewSessionTicket: lifetime(4) age_add(4) nonce<0..255> ticket<1..2^16-1> extensions.
  const nst = m.newSessionTicket;
  const nonce = nst.subarray(4 + 8 + 1, 4 + 8 + 1 + nst[4 + 8]);
  assert.equal(hex(nonce), "0000");
  assert.equal(hex(hkdfExpandLabel("SHA-256", rms, "resumption", nonce, 32)), v.resumptionPsk);
});

Deno.test("RFC 8448 §4: PSK from the §3 resumption master secret and ticket nonce 0x0000", () => {
  const psk = hkdfExpandLabel(
    "SHA-256",
    fromHex(RFC8448_1RTT.values.resumptionMasterSecret),
    "resumption",
    new Uint8Array([0, 0]),
    32,
  );
  assert.equal(hex(psk), RFC8448_0RTT.values.psk);
});

Deno.test("RFC 8448 §4: early secret and resumption binder key", () => {
  const v = RFC8448_0RTT.values;
  const ks = new KeySchedule("SHA-256", fromHex(v.psk));
  assert.equal(hex(ks.stageSecret("early")), v.earlySecret);
  assert.equal(hex(ks.binderKey()), v.binderKey);
  assert.notEqual(hex(ks.binderKey(true)), v.binderKey, "ext binder differs from res binder");
  const finishedKey = hkdfExpandLabel("SHA-256", ks.binderKey(), "finished", EMPTY, 32);
  assert.equal(hex(finishedKey), v.binderFinishedKey);
});

Deno.test("RFC 8448 §4: the ClientHello's binder verifies over the truncated ClientHello", () => {
  const { messages: m, values: v } = RFC8448_0RTT;
  const { truncated, binders } = truncateClientHello(m.clientHello);
  assert.equal(truncated.length, 477, "the trace's ClientHello prefix is 477 octets");
  assert.equal(binders.length, 1);
  const binderHash = new TranscriptHash("SHA-256").update(truncated).digest();
  assert.equal(hex(binderHash), v.binderHash);
  const ks = new KeySchedule("SHA-256", fromHex(v.psk));
  const expected = binder("SHA-256", ks.binderKey(), binderHash);
  assert.equal(hex(expected), v.binder);
  assert.ok(constantTimeEqual(expected, binders[0]));
  // One flipped bit in the ClientHello, or the external-PSK label, and it no longer verifies.
  const tampered = truncated.slice();
  tampered[100] ^= 1;
  const bad = binder("SHA-256", ks.binderKey(), transcript("SHA-256", tampered));
  assert.ok(!constantTimeEqual(bad, binders[0]));
  assert.ok(!constantTimeEqual(binder("SHA-256", ks.binderKey(true), binderHash), binders[0]));
});

Deno.test("RFC 8448 §4: 0-RTT client early traffic secret, early exporter and early keys", () => {
  const { messages: m, values: v } = RFC8448_0RTT;
  const ks = new KeySchedule("SHA-256", fromHex(v.psk));
  const early = ks.earlyTraffic(transcript("SHA-256", m.clientHello));
  assert.equal(hex(early.client), v.clientEarlyTraffic);
  assert.equal(hex(early.exporter), v.earlyExporterMasterSecret);
  const k = trafficKey("SHA-256", early.client, 16);
  assert.equal(hex(k.key), v.clientEarlyKey);
  assert.equal(hex(k.iv), v.clientEarlyIv);
});

Deno.test("RFC 8448 §4: PSK + ECDHE handshake, Finished messages and resumption secret", () => {
  const { messages: m, values: v } = RFC8448_0RTT;
  const shared = x25519(fromHex(v.serverPrivateKey), x25519Share(m.clientHello));
  assert.equal(hex(shared), v.sharedSecret);
  assert.equal(
    hex(x25519(fromHex(v.clientPrivateKey), x25519Share(m.serverHello))),
    v.sharedSecret,
  );
  const ks = new KeySchedule("SHA-256", fromHex(v.psk));
  assert.equal(
    hex(deriveSecret("SHA-256", ks.stageSecret("early"), "derived", transcript("SHA-256"))),
    v.derivedForHandshake,
  );
  const t = new TranscriptHash("SHA-256").update(m.clientHello).update(m.serverHello);
  const hs = ks.handshake(shared, t.digest());
  assert.equal(hex(ks.stageSecret("handshake")), v.handshakeSecret);
  assert.equal(hex(hs.client), v.clientHandshakeTraffic);
  assert.equal(hex(hs.server), v.serverHandshakeTraffic);
  assert.equal(
    hex(deriveSecret("SHA-256", ks.stageSecret("handshake"), "derived", transcript("SHA-256"))),
    v.derivedForMaster,
  );
  assert.equal(hex(ks.stageSecret("master")), v.masterSecret);
  const serverKey = trafficKey("SHA-256", hs.server, 16);
  assert.equal(hex(serverKey.key), v.serverHandshakeKey);
  assert.equal(hex(serverKey.iv), v.serverHandshakeIv);
  t.update(m.encryptedExtensions);
  const serverVd = finishedVerifyData("SHA-256", hs.server, t.digest());
  assert.equal(hex(serverVd), v.serverVerifyData);
  assert.ok(constantTimeEqual(serverVd, m.serverFinished.subarray(4)));
  t.update(m.serverFinished);
  const app = ks.application(t.digest());
  assert.equal(hex(app.client), v.clientApplicationTraffic);
  assert.equal(hex(app.server), v.serverApplicationTraffic);
  assert.equal(hex(app.exporter), v.exporterMasterSecret);
  const serverApp = trafficKey("SHA-256", app.server, 16);
  assert.equal(hex(serverApp.key), v.serverApplicationKey);
  assert.equal(hex(serverApp.iv), v.serverApplicationIv);
  t.update(m.endOfEarlyData);
  const clientKey = trafficKey("SHA-256", hs.client, 16);
  assert.equal(hex(clientKey.key), v.clientHandshakeKey);
  assert.equal(hex(clientKey.iv), v.clientHandshakeIv);
  const clientVd = finishedVerifyData("SHA-256", hs.client, t.digest());
  assert.equal(hex(clientVd), v.clientVerifyData);
  assert.ok(constantTimeEqual(clientVd, m.clientFinished.subarray(4)));
  t.update(m.clientFinished);
  const clientApp = trafficKey("SHA-256", app.client, 16);
  assert.equal(hex(clientApp.key), v.clientApplicationKey);
  assert.equal(hex(clientApp.iv), v.clientApplicationIv);
  assert.equal(hex(ks.resumption(t.digest())), v.resumptionMasterSecret);
});

Deno.test("RFC 8446 §4.4.1: message_hash after HelloRetryRequest (RFC 8448 §5)", () => {
  const { messages: m, values: v } = RFC8448_HRR;
  const mh = TranscriptHash.messageHash("SHA-256", m.clientHello1);
  assert.equal(mh.length, 36);
  assert.deepEqual([...mh.subarray(0, 4)], [254, 0, 0, 32]);
  assert.equal(hex(mh.subarray(4)), hex(transcript("SHA-256", m.clientHello1)));
  const t = TranscriptHash.afterHelloRetry("SHA-256", m.clientHello1);
  t.update(m.helloRetryRequest).update(m.clientHello2).update(m.serverHello);
  assert.equal(hex(t.digest()), v.helloHash);
  // Hashing ClientHello1 itself instead of message_hash gives a different transcript.
  const naive = transcript(
    "SHA-256",
    m.clientHello1,
    m.helloRetryRequest,
    m.clientHello2,
    m.serverHello,
  );
  assert.notEqual(hex(naive), v.helloHash);
  // The HelloRetryRequest is a ServerHello with the special random SHA-256("HelloRetryRequest").
  const hrrRandom = transcript("SHA-256", new TextEncoder().encode("HelloRetryRequest"));
  assert.equal(hex(m.helloRetryRequest.subarray(6, 38)), hex(hrrRandom));
  // SHA-384 suites: 0xfe 00 00 30 and a 48-byte hash.
  const mh384 = TranscriptHash.messageHash("SHA-384", m.clientHello1);
  assert.deepEqual([...mh384.subarray(0, 4)], [254, 0, 0, 48]);
  assert.equal(mh384.length, 52);
});

Deno.test("RFC 8448 §5: handshake secrets after HelloRetryRequest", () => {
  const { messages: m, values: v } = RFC8448_HRR;
  const ks = new KeySchedule("SHA-256");
  assert.equal(hex(ks.stageSecret("early")), v.earlySecret);
  const t = TranscriptHash.afterHelloRetry("SHA-256", m.clientHello1)
    .update(m.helloRetryRequest)
    .update(m.clientHello2)
    .update(m.serverHello);
  const hs = ks.handshake(fromHex(v.sharedSecret), t.digest());
  assert.equal(hex(ks.stageSecret("handshake")), v.handshakeSecret);
  assert.equal(hex(hs.client), v.clientHandshakeTraffic);
  assert.equal(hex(hs.server), v.serverHandshakeTraffic);
});

Deno.test("RFC 8446 §4.4.1: digest keeps the transcript running, clone forks it", () => {
  const { messages: m, values: v } = RFC8448_1RTT;
  const t = new TranscriptHash("SHA-256");
  t.update(m.clientHello);
  const fork = t.clone();
  t.update(m.serverHello);
  assert.equal(hex(t.digest()), v.helloHash);
  assert.equal(hex(t.digest()), v.helloHash, "reading twice changes nothing");
  assert.equal(hex(fork.digest()), hex(transcript("SHA-256", m.clientHello)));
  fork.update(m.serverHello.subarray(0, 7)).update(m.serverHello.subarray(7));
  assert.equal(hex(fork.digest()), v.helloHash, "split updates hash the concatenation");
  assert.equal(t.length, 32);
  assert.equal(new TranscriptHash("SHA-384").digest().length, 48);
});

Deno.test("RFC 8446 §7.1: hkdfExpandLabel agrees with the Web Crypto one of src/server", async () => {
  const rand = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const labels = ["key", "iv", "finished", "resumption", "traffic upd", "c hs traffic", "derived"];
  let checked = 0;
  for (let i = 0; i < 400; i++) {
    const hash: HashName = i % 2 ? "SHA-384" : "SHA-256";
    const hLen = hash === "SHA-384" ? 48 : 32;
    const secret = rand(1 + (i * 7) % 100);
    const label = i % 3 === 0
      ? labels[i % labels.length]
      : Array.from(rand(i % 40), (b) => String.fromCharCode(32 + (b % 95))).join("");
    const context = rand((i * 13) % 256);
    const length = 1 + (i * 31) % (3 * hLen + 5);
    const mine = hkdfExpandLabel(hash, secret, label, context, length);
    const theirs = await webCryptoExpandLabel(secret, label, context, length, hash);
    assert.equal(hex(mine), hex(theirs), `${hash} label "${label}" length ${length}`);
    checked++;
  }
  // And a non-ASCII label (both encode UTF-8).
  const s = rand(32);
  assert.equal(
    hex(hkdfExpandLabel("SHA-256", s, "clé", EMPTY, 32)),
    hex(await webCryptoExpandLabel(s, "clé", EMPTY, 32, "SHA-256")),
  );
  assert.equal(checked, 400);
});

Deno.test("RFC 5869: hkdfExtract + hkdfExpand agree with node:crypto hkdfSync", () => {
  const rand = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  for (let i = 0; i < 200; i++) {
    const hash: HashName = i % 2 ? "SHA-384" : "SHA-256";
    const hLen = hash === "SHA-384" ? 48 : 32;
    const salt = rand((i * 5) % 150), ikm = rand((i * 11) % 200), info = rand((i * 3) % 80);
    const length = 1 + (i * 17) % (4 * hLen);
    const mine = hkdfExpand(hash, hkdfExtract(hash, salt, ikm), info, length);
    const node = new Uint8Array(
      hkdfSync(hash === "SHA-384" ? "sha384" : "sha256", ikm, salt, info, length),
    );
    assert.equal(hex(mine), hex(node));
  }
});

Deno.test("RFC 8446 §7.1 with SHA-384: KeySchedule matches a node:crypto HMAC reimplementation", () => {
  // An independent HKDF-Expand-Label over node:crypto createHmac, single block (length ≤ 48).
  const hmac = (key: Uint8Array, data: Uint8Array) =>
    new Uint8Array(createHmac("sha384", key).update(data).digest());
  const label = (l: string, ctx: Uint8Array, len: number) => {
    const full = new TextEncoder().encode("tls13 " + l);
    return new Uint8Array([len >> 8, len & 255, full.length, ...full, ctx.length, ...ctx]);
  };
  const expandLabel = (s: Uint8Array, l: string, ctx: Uint8Array, len: number) =>
    hmac(s, new Uint8Array([...label(l, ctx, len), 1])).subarray(0, len);
  const zeros = new Uint8Array(48);
  const empty = transcript("SHA-384");
  const rand = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  for (const psk of [undefined, rand(48)]) {
    const dhe = rand(48), h1 = rand(48), h2 = rand(48), h3 = rand(48);
    const early = hmac(zeros, psk ?? zeros);
    const hsSecret = hmac(expandLabel(early, "derived", empty, 48), dhe);
    const master = hmac(expandLabel(hsSecret, "derived", empty, 48), zeros);
    const ks = new KeySchedule("SHA-384", psk);
    assert.equal(hex(ks.binderKey()), hex(expandLabel(early, "res binder", empty, 48)));
    const hs = ks.handshake(dhe, h1);
    assert.equal(hex(ks.stageSecret("master")), hex(master));
    assert.equal(hex(hs.client), hex(expandLabel(hsSecret, "c hs traffic", h1, 48)));
    assert.equal(hex(hs.server), hex(expandLabel(hsSecret, "s hs traffic", h1, 48)));
    const app = ks.application(h2);
    assert.equal(hex(app.client), hex(expandLabel(master, "c ap traffic", h2, 48)));
    assert.equal(hex(app.server), hex(expandLabel(master, "s ap traffic", h2, 48)));
    assert.equal(hex(app.exporter), hex(expandLabel(master, "exp master", h2, 48)));
    assert.equal(hex(ks.resumption(h3)), hex(expandLabel(master, "res master", h3, 48)));
    const fk = expandLabel(hs.server, "finished", EMPTY, 48);
    assert.equal(hex(finishedVerifyData("SHA-384", hs.server, h2)), hex(hmac(fk, h2)));
    const k = trafficKey("SHA-384", app.server, 32);
    assert.equal(hex(k.key), hex(expandLabel(app.server, "key", EMPTY, 32)));
    assert.equal(hex(k.iv), hex(expandLabel(app.server, "iv", EMPTY, 12)));
    assert.equal(
      hex(nextTrafficSecret("SHA-384", app.server)),
      hex(expandLabel(app.server, "traffic upd", EMPTY, 48)),
    );
  }
});

Deno.test('RFC 8446 §7.2: nextTrafficSecret is HKDF-Expand-Label(secret, "traffic upd", "")', () => {
  const s = fromHex(RFC8448_1RTT.values.serverApplicationTraffic);
  const next = nextTrafficSecret("SHA-256", s);
  assert.equal(hex(next), hex(hkdfExpandLabel("SHA-256", s, "traffic upd", EMPTY, 32)));
  assert.notEqual(hex(next), hex(s));
  assert.notEqual(hex(nextTrafficSecret("SHA-256", next)), hex(next));
});

Deno.test("RFC 8446 §7.1: caller mistakes raise TlsAlert(80) without the secret in the message", () => {
  const s32 = new Uint8Array(32).fill(0xab), s48 = new Uint8Array(48);
  const bad = "SHA-512" as HashName;
  const calls: Array<() => unknown> = [
    () => new TranscriptHash(bad),
    () => new KeySchedule(bad),
    () => new KeySchedule("SHA-256", EMPTY),
    () => hkdfExtract(bad, s32, s32),
    () => hkdfExtract("SHA-256", "salt" as unknown as Uint8Array, s32),
    () => hkdfExpand("SHA-256", EMPTY, EMPTY, 32),
    () => hkdfExpand("SHA-256", s32, EMPTY, 255 * 32 + 1),
    () => hkdfExpandLabel("SHA-256", s32, "key", new Uint8Array(256), 16),
    () => hkdfExpandLabel("SHA-256", s32, "x".repeat(250), EMPTY, 16),
    () => hkdfExpandLabel("SHA-256", s32, "key", EMPTY, 0),
    () => hkdfExpandLabel("SHA-256", s32, "key", EMPTY, 1.5),
    () => hkdfExpandLabel("SHA-256", EMPTY, "key", EMPTY, 16),
    () => hkdfExpandLabel("SHA-256", s32, 7 as unknown as string, EMPTY, 16),
    () => deriveSecret("SHA-256", s48, "derived", s32),
    () => deriveSecret("SHA-384", s48, "derived", s32),
    () => finishedVerifyData("SHA-256", s32, s48),
    () => finishedVerifyData("SHA-384", s32, s48),
    () => binder("SHA-256", s32.subarray(1), s32),
    () => trafficKey("SHA-256", s32, 24 as 16),
    () => trafficKey("SHA-256", s48, 16),
    () => nextTrafficSecret("SHA-384", s32),
    () => new TranscriptHash("SHA-256").update("abc" as unknown as Uint8Array),
    () => TranscriptHash.messageHash(bad, s32),
    () => new KeySchedule("SHA-256").application(s32),
    () => new KeySchedule("SHA-256").resumption(s32),
    () => new KeySchedule("SHA-256").stageSecret("handshake"),
    () => new KeySchedule("SHA-256").handshake(EMPTY, s32),
    () => new KeySchedule("SHA-256").handshake(s32, s48),
    () => new KeySchedule("SHA-256").earlyTraffic(s48),
    () => {
      const ks = new KeySchedule("SHA-256");
      ks.handshake(s32, s32);
      ks.handshake(s32, s32);
    },
  ];
  for (const [i, call] of calls.entries()) {
    assert.throws(call, (e: unknown) => {
      assert.ok(isAlert80(e), `call ${i}: ${e}`);
      assert.ok(!(e as Error).message.includes("ab,ab") && !(e as Error).message.includes("abab"));
      return true;
    });
  }
  assert.equal(calls.length, 30);
});

Deno.test("KeySchedule: secrets stay out of toString, JSON and console output", () => {
  const ks = new KeySchedule("SHA-256", new Uint8Array(32).fill(0x5a));
  ks.handshake(new Uint8Array(32).fill(0x77), new Uint8Array(32));
  const early = hex(ks.stageSecret("early")), master = hex(ks.stageSecret("master"));
  for (const text of [String(ks), JSON.stringify(ks), Deno.inspect(ks, { depth: 10 })]) {
    assert.ok(!text.includes(early.slice(0, 16)) && !text.includes(master.slice(0, 16)), text);
    assert.ok(!text.includes("90, 90") && !/\b5a\b/.test(text), text);
  }
  assert.equal(String(ks), "KeySchedule(SHA-256, master)");
  assert.equal(JSON.stringify(ks), '{"hash":"SHA-256"}');
  // stageSecret hands out copies.
  ks.stageSecret("master").fill(0);
  assert.equal(hex(ks.stageSecret("master")), master);
});
