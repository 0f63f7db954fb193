// Fuzzing ServerConnection.processClientHello (ssl/ssl_sess.c:ssl_get_prev_session,
// ssl/statem/extensions_srvr.c:tls_parse_ctos_psk): random and mutated session_ticket,
// psk_key_exchange_modes and pre_shared_key bodies give a decision or a TlsAlert, never
// anything else, and the context keeps working.
import assert from "node:assert/strict";
import { TlsAlert } from "../src/server/alert.ts";
import { SslContext } from "../src/server/ssl_context.ts";
import { encodePreSharedKey } from "../src/server/wire/psk.ts";
import { handshake, TestClient } from "../testing.ts";

function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("processClientHello fuzz: 6,000 malformed ticket extensions give a decision or a TlsAlert", async () => {
  const rand = prng(42);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  const ctx = await SslContext.create({
    sessionCacheSize: 16,
    decCb: (_c, _s, _k, status) => (status === 5 ? 3 : status === 6 ? 4 : 2),
  });
  // Real tickets to mutate: one TLS 1.2, one TLS 1.3.
  const t12 = (await handshake(ctx, new TestClient({ version: "1.2" }))).tickets[0].ticket;
  const t13 = (await handshake(ctx, new TestClient({ version: "1.3" }))).tickets[0].ticket;
  const validPsk = encodePreSharedKey({
    identities: [{ identity: t13, obfuscatedTicketAge: 1 }],
    binders: [new Uint8Array(48)],
  });
  const mutate = (b: Uint8Array) => {
    const c = b.slice(0, rand() < 0.3 ? Math.floor(rand() * b.length) : b.length);
    for (let i = 0, n = 1 + Math.floor(rand() * 3); i < n && c.length > 0; i++) {
      c[Math.floor(rand() * c.length)] ^= 1 << Math.floor(rand() * 8);
    }
    return c;
  };
  let decisions = 0, alerts = 0;
  const other: string[] = [];
  for (let i = 0; i < 6000; i++) {
    const conn = ctx.newConnection();
    const kind = i % 3;
    try {
      if (kind === 0) {
        await conn.processClientHello({
          version: 0x0303,
          sessionTicket: rand() < 0.5 ? mutate(t12) : bytes(Math.floor(rand() * 300)),
          sessionId: bytes(rand() < 0.5 ? 0 : 32),
          extendedMasterSecret: rand() < 0.5,
          cipherSuites: [0xc030, 0x1302],
        });
      } else {
        await conn.processClientHello({
          version: 0x0304,
          cipherSuite: 0x1302,
          pskKeyExchangeModes: rand() < 0.8 ? Uint8Array.of(1, 1) : bytes(Math.floor(rand() * 4)),
          preSharedKey: kind === 1 ? mutate(validPsk) : bytes(Math.floor(rand() * 120)),
        });
      }
      decisions++;
    } catch (e) {
      if (e instanceof TlsAlert && [47, 50, 80].includes(e.alert)) alerts++;
      else if (other.length < 5) other.push(String(e));
    }
  }
  assert.deepEqual(other, []);
  assert.equal(decisions + alerts, 6000);
  assert.ok(decisions > 1000 && alerts > 500, `${decisions} decisions, ${alerts} alerts`);
  // The context still resumes a real client afterwards.
  const client = new TestClient({ version: "1.2" });
  await handshake(ctx, client);
  assert.equal((await handshake(ctx, client)).resumed, true);
});
