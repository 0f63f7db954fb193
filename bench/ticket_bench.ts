// Seal and open through the public API, against the floor for this runtime: the raw Web
// Crypto AES-GCM primitive on the same plaintext with a pre-imported key. Also the same GCM
// ticket format hand-rolled with node:crypto, synchronously.
//
// Run: deno task bench. Each iteration does 32 operations: "1 at a time" awaits each before the
// next (latency), "64 in flight" starts 64 and awaits them together (throughput); times are
// per iteration, so the ratios within a group are the cost ratios.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { encodeSession, TicketKey } from "../mod.ts";
import { decodeSession } from "../src/session/codec.ts";
import { BENCH_SESSIONS } from "./_sessions.ts";

const sessions = BENCH_SESSIONS;

const gcmKey = await TicketKey.generate({ format: "aes-256-gcm", sealBudget: 2 ** 40 });
const cbcKey = await TicketKey.generate({ format: "openssl", sealBudget: 2 ** 40 });
const rawKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, [
  "encrypt",
  "decrypt",
]);
const nodeKey = randomBytes(32);
const name = crypto.getRandomValues(new Uint8Array(16));

async function rawSeal(pt: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  return await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: name }, rawKey, pt);
}
async function rawOpen(iv: Uint8Array<ArrayBuffer>, ct: ArrayBuffer): Promise<ArrayBuffer> {
  return await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: name }, rawKey, ct);
}
function nodeSeal(pt: Uint8Array): Uint8Array {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", nodeKey, iv);
  c.setAAD(name);
  const ct = Buffer.concat([c.update(pt), c.final()]);
  return Buffer.concat([name, iv, ct, c.getAuthTag()]);
}
function nodeOpen(t: Uint8Array): Uint8Array {
  const d = createDecipheriv("aes-256-gcm", nodeKey, t.subarray(16, 28));
  d.setAAD(t.subarray(0, 16));
  d.setAuthTag(t.subarray(t.length - 16));
  return Buffer.concat([d.update(t.subarray(28, t.length - 16)), d.final()]);
}

const SEQUENTIAL = 32;
/** `n` operations: one at a time (n = 1: 32 in sequence) or n in flight at once. */
async function times<T>(n: number, f: () => Promise<T>): Promise<void> {
  if (n === 1) {
    for (let i = 0; i < SEQUENTIAL; i++) await f();
  } else {
    await Promise.all(Array.from({ length: n }, f));
  }
}

for (const [label, session] of sessions) {
  const der = encodeSession(session);
  const rawIv = crypto.getRandomValues(new Uint8Array(12));
  const rawCt = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: rawIv, additionalData: name },
    rawKey,
    der,
  );
  const gcmTicket = await gcmKey.seal(session);
  const cbcTicket = await cbcKey.seal(session);
  const nodeTicket = nodeSeal(der);

  for (const n of [1, 64]) {
    const tag = n === 1 ? "1 at a time" : "64 in flight";
    const seal = `seal ${label} ${tag}`;
    Deno.bench(`raw AES-GCM encrypt ${tag}`, { group: seal, baseline: true }, async () => {
      await times(n, () => rawSeal(der));
    });
    Deno.bench(`aes-256-gcm seal ${tag}`, { group: seal }, async () => {
      await times(n, () => gcmKey.seal(session));
    });
    Deno.bench(`openssl seal ${tag}`, { group: seal }, async () => {
      await times(n, () => cbcKey.seal(session));
    });
    Deno.bench(`node:crypto GCM seal (sync, incl. DER) ${tag}`, { group: seal }, () => {
      for (let i = 0; i < (n === 1 ? SEQUENTIAL : n); i++) nodeSeal(encodeSession(session));
    });

    const open = `open ${label} ${tag}`;
    Deno.bench(`raw AES-GCM decrypt ${tag}`, { group: open, baseline: true }, async () => {
      await times(n, () => rawOpen(rawIv, rawCt));
    });
    Deno.bench(`aes-256-gcm open ${tag}`, { group: open }, async () => {
      await times(n, () => gcmKey.open(gcmTicket));
    });
    Deno.bench(`openssl open ${tag}`, { group: open }, async () => {
      await times(n, () => cbcKey.open(cbcTicket));
    });
    Deno.bench(`node:crypto GCM open (sync, incl. DER) ${tag}`, { group: open }, () => {
      for (let i = 0; i < (n === 1 ? SEQUENTIAL : n); i++) decodeSession(nodeOpen(nodeTicket));
    });
  }
}
