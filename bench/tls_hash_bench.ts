// The small HMAC / HKDF steps of a TLS 1.3 handshake: the synchronous SHA-2 + HMAC of
// src/tls/_sha2.ts (through src/tls/key_schedule.ts) against node:crypto createHmac and Web
// Crypto crypto.subtle.sign("HMAC") (awaited), one step at a time and for a whole handshake's
// key schedule (all 25 HMACs and 4 transcript hashes of one full RFC 8448 §3 handshake, server
// side, plus one ticket PSK).
//
// Run: deno bench bench/tls_hash_bench.ts
import { createHash, createHmac } from "node:crypto";
import { webCryptoExpandLabel } from "../tests/_webcrypto_hkdf.ts";
import { HmacKey } from "../src/crypto/sha2.ts";
import {
  finishedVerifyData,
  hkdfExpandLabel,
  KeySchedule,
  trafficKey,
  TranscriptHash,
} from "../src/tls/key_schedule.ts";
import { RFC8448_1RTT } from "../tests/_rfc8448.ts";

type Hash = "SHA-256" | "SHA-384";
const NODE = { "SHA-256": "sha256", "SHA-384": "sha384" } as const;
const LEN = { "SHA-256": 32, "SHA-384": 48 } as const;
const rand = (n: number) => crypto.getRandomValues(new Uint8Array(n));

// ---------------------------------------------------------------------------------------------
// One HMAC: a fresh 32/48-byte key (every HKDF step keys HMAC with a new secret) over a 50-byte
// HkdfLabel-sized message.

for (const hash of ["SHA-256", "SHA-384"] as const) {
  const key = rand(LEN[hash]), msg = rand(50);
  const group = `HMAC-${hash} (new ${LEN[hash]}-byte key, 50-byte message)`;
  const cryptoKey = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, [
    "sign",
  ]);
  const reused = new HmacKey(hash, key);
  Deno.bench(`sync _sha2 HmacKey`, { group, baseline: true }, () => {
    new HmacKey(hash, key).sign(msg);
  });
  Deno.bench(`sync _sha2 HmacKey, key prepared once`, { group }, () => {
    reused.sign(msg);
  });
  Deno.bench(`node:crypto createHmac`, { group }, () => {
    createHmac(NODE[hash], key).update(msg).digest();
  });
  Deno.bench(`Web Crypto importKey + sign`, { group }, async () => {
    const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash }, false, ["sign"]);
    await crypto.subtle.sign("HMAC", k, msg);
  });
  Deno.bench(`Web Crypto sign, key imported once`, { group }, async () => {
    await crypto.subtle.sign("HMAC", cryptoKey, msg);
  });
}

// ---------------------------------------------------------------------------------------------
// One HKDF-Expand-Label: "c hs traffic" over a transcript hash, Hash.length output.

function nodeExpandLabel(
  hash: Hash,
  secret: Uint8Array,
  label: string,
  ctx: Uint8Array,
  n: number,
) {
  const full = new TextEncoder().encode("tls13 " + label);
  const info = new Uint8Array(2 + 1 + full.length + 1 + ctx.length + 1);
  info[0] = n >> 8;
  info[1] = n & 255;
  info[2] = full.length;
  info.set(full, 3);
  info[3 + full.length] = ctx.length;
  info.set(ctx, 4 + full.length);
  info[info.length - 1] = 1; // single block: n <= Hash.length
  return new Uint8Array(createHmac(NODE[hash], secret).update(info).digest()).subarray(0, n);
}

for (const hash of ["SHA-256", "SHA-384"] as const) {
  const secret = rand(LEN[hash]), context = rand(LEN[hash]);
  const group = `HKDF-Expand-Label ${hash} ("c hs traffic", ${LEN[hash]} bytes)`;
  Deno.bench(`sync key_schedule.ts hkdfExpandLabel`, { group, baseline: true }, () => {
    hkdfExpandLabel(hash, secret, "c hs traffic", context, LEN[hash]);
  });
  Deno.bench(`node:crypto createHmac`, { group }, () => {
    nodeExpandLabel(hash, secret, "c hs traffic", context, LEN[hash]);
  });
  Deno.bench(`Web Crypto (HMAC per block)`, { group }, async () => {
    await webCryptoExpandLabel(secret, "c hs traffic", context, LEN[hash], hash);
  });
}

// ---------------------------------------------------------------------------------------------
// A whole handshake's key schedule (server side, full handshake, TLS_AES_128_GCM_SHA256):
// transcript hash at ServerHello, server Finished, client Finished; early, handshake and master
// secrets with their "derived" steps; both handshake and application traffic secrets and their
// key + IV; exporter; both Finished verify_data; resumption master secret; one ticket PSK.

const m = RFC8448_1RTT.messages;
const shared = Uint8Array.fromHex(RFC8448_1RTT.values.sharedSecret);
const NONCE = new Uint8Array(8);

function syncHandshake(): Uint8Array {
  const t = new TranscriptHash("SHA-256").update(m.clientHello).update(m.serverHello);
  const ks = new KeySchedule("SHA-256");
  const hs = ks.handshake(shared, t.digest());
  trafficKey("SHA-256", hs.server, 16);
  trafficKey("SHA-256", hs.client, 16);
  t.update(m.encryptedExtensions).update(m.certificate).update(m.certificateVerify);
  finishedVerifyData("SHA-256", hs.server, t.digest());
  t.update(m.serverFinished);
  const finishedHash = t.digest();
  const app = ks.application(finishedHash);
  trafficKey("SHA-256", app.server, 16);
  trafficKey("SHA-256", app.client, 16);
  finishedVerifyData("SHA-256", hs.client, finishedHash);
  t.update(m.clientFinished);
  const rms = ks.resumption(t.digest());
  return hkdfExpandLabel("SHA-256", rms, "resumption", NONCE, 32);
}

/** The same derivations on Web Crypto: one importKey per secret, digest of the whole prefix. */
async function webCryptoHandshake(): Promise<Uint8Array> {
  const H = "SHA-256";
  const key = (raw: Uint8Array) =>
    crypto.subtle.importKey(
      "raw",
      raw as Uint8Array<ArrayBuffer>,
      { name: "HMAC", hash: H },
      false,
      [
        "sign",
      ],
    );
  const sign = async (k: CryptoKey, data: Uint8Array) =>
    new Uint8Array(await crypto.subtle.sign("HMAC", k, data as Uint8Array<ArrayBuffer>));
  const label = (l: string, ctx: Uint8Array, n: number) => {
    const full = new TextEncoder().encode("tls13 " + l);
    const info = new Uint8Array(2 + 1 + full.length + 1 + ctx.length + 1);
    info[0] = n >> 8;
    info[1] = n & 255;
    info[2] = full.length;
    info.set(full, 3);
    info[3 + full.length] = ctx.length;
    info.set(ctx, 4 + full.length);
    info[info.length - 1] = 1;
    return info;
  };
  const expand = async (k: CryptoKey, l: string, ctx: Uint8Array, n: number) =>
    (await sign(k, label(l, ctx, n))).slice(0, n);
  const digest = async (...parts: Uint8Array[]) => {
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return new Uint8Array(await crypto.subtle.digest(H, all));
  };
  const trafficKeys = async (secret: Uint8Array) => {
    const k = await key(secret);
    return [await expand(k, "key", EMPTY, 16), await expand(k, "iv", EMPTY, 12)];
  };
  const finished = async (base: Uint8Array, th: Uint8Array) =>
    await sign(await key(await expand(await key(base), "finished", EMPTY, 32)), th);

  const zeros = new Uint8Array(32);
  const emptyHash = await digest();
  const early = await sign(await key(zeros), zeros);
  const helloHash = await digest(m.clientHello, m.serverHello);
  const hsSecret = await sign(
    await key(await expand(await key(early), "derived", emptyHash, 32)),
    shared,
  );
  const hsKey = await key(hsSecret);
  const cHs = await expand(hsKey, "c hs traffic", helloHash, 32);
  const sHs = await expand(hsKey, "s hs traffic", helloHash, 32);
  const master = await sign(await key(await expand(hsKey, "derived", emptyHash, 32)), zeros);
  const masterKey = await key(master);
  await trafficKeys(sHs);
  await trafficKeys(cHs);
  const cvHash = await digest(
    m.clientHello,
    m.serverHello,
    m.encryptedExtensions,
    m.certificate,
    m.certificateVerify,
  );
  await finished(sHs, cvHash);
  const finishedHash = await digest(
    m.clientHello,
    m.serverHello,
    m.encryptedExtensions,
    m.certificate,
    m.certificateVerify,
    m.serverFinished,
  );
  const cAp = await expand(masterKey, "c ap traffic", finishedHash, 32);
  const sAp = await expand(masterKey, "s ap traffic", finishedHash, 32);
  await expand(masterKey, "exp master", finishedHash, 32);
  await trafficKeys(sAp);
  await trafficKeys(cAp);
  await finished(cHs, finishedHash);
  const clientFinishedHash = await digest(
    m.clientHello,
    m.serverHello,
    m.encryptedExtensions,
    m.certificate,
    m.certificateVerify,
    m.serverFinished,
    m.clientFinished,
  );
  const rms = await expand(masterKey, "res master", clientFinishedHash, 32);
  return await expand(await key(rms), "resumption", NONCE, 32);
}
const EMPTY = new Uint8Array(0);

/** The same derivations on node:crypto (createHash copy() for the running transcript). */
function nodeHandshake(): Uint8Array {
  const hmac = (k: Uint8Array, d: Uint8Array) =>
    new Uint8Array(createHmac("sha256", k).update(d).digest());
  const expand = (s: Uint8Array, l: string, ctx: Uint8Array, n: number) =>
    nodeExpandLabel("SHA-256", s, l, ctx, n);
  const trafficKeys = (s: Uint8Array) => [expand(s, "key", EMPTY, 16), expand(s, "iv", EMPTY, 12)];
  const finished = (base: Uint8Array, th: Uint8Array) =>
    hmac(expand(base, "finished", EMPTY, 32), th);
  const zeros = new Uint8Array(32);
  const emptyHash = new Uint8Array(createHash("sha256").digest());
  const t = createHash("sha256").update(m.clientHello).update(m.serverHello);
  const helloHash = new Uint8Array(t.copy().digest());
  const early = hmac(zeros, zeros);
  const hsSecret = hmac(expand(early, "derived", emptyHash, 32), shared);
  const cHs = expand(hsSecret, "c hs traffic", helloHash, 32);
  const sHs = expand(hsSecret, "s hs traffic", helloHash, 32);
  const master = hmac(expand(hsSecret, "derived", emptyHash, 32), zeros);
  trafficKeys(sHs);
  trafficKeys(cHs);
  t.update(m.encryptedExtensions).update(m.certificate).update(m.certificateVerify);
  finished(sHs, new Uint8Array(t.copy().digest()));
  t.update(m.serverFinished);
  const finishedHash = new Uint8Array(t.copy().digest());
  const cAp = expand(master, "c ap traffic", finishedHash, 32);
  const sAp = expand(master, "s ap traffic", finishedHash, 32);
  expand(master, "exp master", finishedHash, 32);
  trafficKeys(sAp);
  trafficKeys(cAp);
  finished(cHs, finishedHash);
  t.update(m.clientFinished);
  const rms = expand(master, "res master", new Uint8Array(t.digest()), 32);
  return expand(rms, "resumption", NONCE, 32);
}

// All three compute the same ticket PSK (and RFC 8448 §3's resumption master secret feeds it).
const expected = syncHandshake().toHex();
if ((await webCryptoHandshake()).toHex() !== expected || nodeHandshake().toHex() !== expected) {
  throw new Error("the handshake variants disagree");
}

{
  const group = "whole handshake key schedule (25 HMACs + 4 transcript hashes, SHA-256)";
  Deno.bench("sync key_schedule.ts + _sha2.ts", { group, baseline: true }, () => {
    syncHandshake();
  });
  Deno.bench("node:crypto createHmac / createHash", { group }, () => {
    nodeHandshake();
  });
  Deno.bench("Web Crypto importKey + sign + digest (awaited)", { group }, async () => {
    await webCryptoHandshake();
  });
}
