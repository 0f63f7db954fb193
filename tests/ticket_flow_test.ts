// The server ticket flow of OpenSSL 3.0 (ssl/ssl_sess.c:ssl_get_prev_session,
// ssl/t1_lib.c:tls_decrypt_ticket, ssl/statem/extensions_srvr.c:tls_parse_ctos_psk,
// ssl/statem/statem_srvr.c:tls_construct_new_session_ticket) driven through loopback
// handshakes: the related tests of test/sslapitest.c, test/ssl-tests/27-ticket-appdata.cnf.in,
// the edge cases observed against libssl 3.0.19, and one test per pitfall a reimplementation
// must reproduce.
import assert from "node:assert/strict";
import { TlsAlert } from "../src/server/alert.ts";
import { TicketKeyError } from "../src/ticket/errors.ts";
import { encodeSession } from "../src/session/codec.ts";
import { SslSession } from "../src/session/ssl_session.ts";
import {
  DecryptTicketReturn,
  type GenerateTicketCallback,
  type TicketKeyCallback,
} from "../src/server/callbacks.ts";
import { SslContext, type SslContextOptions } from "../src/server/ssl_context.ts";
import { TicketKey } from "../src/ticket/ticket_key.ts";
import { TicketKeyRing } from "../src/ticket/key_ring.ts";
import { TicketStatus } from "../src/ticket/status.ts";
import { handshake, stableLengthRandom, TestClient, type TestClientVersion } from "../testing.ts";

const { ABORT, IGNORE, IGNORE_RENEW, USE, USE_RENEW } = DecryptTicketReturn;
const { EMPTY, NO_DECRYPT, SUCCESS, SUCCESS_RENEW } = TicketStatus;
const text = new TextDecoder();
const VERSIONS: readonly TestClientVersion[] = ["1.2", "1.3"];
const TWO_WEEKS = 14 * 24 * 3600;
const RET_NAMES = Object.fromEntries(
  Object.entries(DecryptTicketReturn).map(([k, v]) => [v, k]),
) as Record<number, string>;

const setAppData = (data: string): GenerateTicketCallback => (conn) => {
  conn.session!.setTicketAppData(data);
  return 1;
};

/** The mapping of a "don't change the default" dec_cb (test/helpers/handshake.c). */
const defaultDec = (_c: unknown, _s: unknown, _k: unknown, status: number) =>
  status === SUCCESS ? USE : status === SUCCESS_RENEW ? USE_RENEW : IGNORE_RENEW;

async function ctxOf(options: SslContextOptions = {}): Promise<SslContext> {
  return await SslContext.create({ sessionCacheSize: 0, random: stableLengthRandom, ...options });
}

function appData(s: SslSession | null): string | null {
  const d = s?.getTicketAppData();
  return d ? text.decode(d) : null;
}

async function cbcKey(): Promise<TicketKey> {
  return await TicketKey.import(new Uint8Array(48).map((_, i) => i + 1), "node-48");
}

/** A key callback that returns `encRet` when sealing and `decRet` when opening. */
async function keyCallback(encRet: number, decRet: number): Promise<TicketKeyCallback> {
  const key = await cbcKey();
  return (_c, _n, _iv, enc) => ({ ret: enc ? encRet : decRet, key });
}

// ---------------------------------------------------------------------------------------------
// test/sslapitest.c: related tests

Deno.test("test_ticket_abort_session_leak: dec_cb ABORT on a good TLS 1.3 ticket is alert 80", async () => {
  let decRet: number = USE_RENEW;
  const ctx = await ctxOf({
    decCb: (_c, _s, _k, st) => st === SUCCESS || st === SUCCESS_RENEW ? decRet : IGNORE_RENEW,
  });
  const client = new TestClient({ version: "1.3" });
  const h1 = await handshake(ctx, client);
  assert.deepEqual(h1.ticketLengths, [208, 208]);
  decRet = ABORT;
  const h2 = await handshake(ctx, client);
  assert.equal(h2.alert, 80);
  assert.equal(h2.resumed, false);
  assert.deepEqual(h2.decStatuses, [{ status: SUCCESS_RENEW, ret: ABORT }]);
  assert.deepEqual(h2.tickets, []);
  // The context is still usable.
  const h3 = await handshake(ctx, new TestClient({ version: "1.3" }));
  assert.equal(h3.alert, null);
  assert.equal(h3.tickets.length, 2);
});

for (const version of VERSIONS) {
  Deno.test(`test_ticket_lifetime: TLS ${version} with a two-week timeout`, async () => {
    const ctx = await ctxOf();
    assert.equal(ctx.timeout, 7200); // SSL_CTX_set_timeout returns the previous value: 7200
    ctx.timeout = TWO_WEEKS;
    const client = new TestClient({ version });
    const r = await handshake(ctx, client);
    assert.equal(r.alert, null);
    const want = version === "1.2" ? 1209600 : 604800;
    assert.deepEqual(r.tickets.map((t) => t.lifetime), version === "1.2" ? [want] : [want, want]);
    if (version === "1.2") assert.equal(client.session!.lifetimeHint, 1209600);
    else assert.equal(client.tickets[0].lifetime, 604800);
  });
}

for (const stateful of [false, true]) {
  for (let idx = 0; idx <= 2; idx++) {
    const name = stateful ? "test_stateful_tickets" : "test_stateless_tickets";
    Deno.test(`${name}(${idx}): num_tickets ${idx}`, async () => {
      const sidCtx = new TextEncoder().encode("sid ctx");
      const options: SslContextOptions = {
        numTickets: idx,
        noTicket: stateful,
        sessionIdContext: sidCtx,
        sessionCacheSize: 1024,
      };
      const ctx = await SslContext.create(options);
      // 1. A full handshake gives idx tickets.
      const client = new TestClient({ version: "1.3" });
      const h1 = await handshake(ctx, client);
      assert.equal(h1.tickets.length, idx);
      if (stateful) { for (const n of h1.ticketLengths) assert.equal(n, 32); }
      // 2. Each of them fails against a new context (new keys, empty cache): idx tickets again.
      const other = await SslContext.create(options);
      for (const t of client.tickets) {
        const c = new TestClient({ version: "1.3" });
        c.tickets = [t];
        const r = await handshake(other, c);
        assert.equal(r.alert, null);
        assert.equal(r.resumed, false);
        assert.equal(r.tickets.length, idx);
        assert.equal(r.decCalls, 0); // no dec_cb set
      }
      // 3. Same context: a full handshake, then post-handshake auth: 2 * idx tickets.
      const fresh = new TestClient({ version: "1.3" });
      const h3 = await handshake(ctx, fresh, { postHandshakeAuth: true });
      assert.equal(h3.tickets.length, 2 * idx);
      // 4. Each of them resumes with exactly one new ticket; PHA afterwards gives one more.
      for (const t of fresh.tickets.slice()) {
        const c = new TestClient({ version: "1.3" });
        c.tickets = [t];
        const r = await handshake(ctx, c, { postHandshakeAuth: true });
        assert.equal(r.alert, null);
        assert.equal(r.resumed, true);
        assert.equal(r.tickets.length, 2);
      }
    });
  }
}

Deno.test("test_psk_tickets: an external PSK handshake gets exactly 1 ticket", async () => {
  let finds = 0;
  const ctx = await ctxOf({
    pskFindSession: (_c, identity) => {
      finds++;
      if (text.decode(identity) !== "Identity") return null;
      return new SslSession({
        sslVersion: 0x0304,
        cipherId: 0x1302, // a SHA-384 PSK
        masterKey: new Uint8Array(48).fill(7),
        time: Math.floor(Date.now() / 1000),
        timeout: 7200,
      });
    },
  });
  const client = new TestClient({ version: "1.3" });
  const r = await handshake(ctx, client, {
    extraIdentities: [{ identity: new TextEncoder().encode("Identity"), binderLength: 48 }],
  });
  assert.equal(r.alert, null);
  assert.equal(r.resumed, true);
  assert.equal(r.identity, 0);
  assert.equal(finds, 1);
  assert.equal(r.tickets.length, 1);
});

for (let idx = 0; idx <= 5; idx++) {
  Deno.test(`test_extra_tickets(${idx}): two SSL_new_session_ticket calls send 2 more`, async () => {
    const numTickets = idx % 3;
    const ctx = await SslContext.create({ numTickets, noTicket: idx >= 3 });
    const client = new TestClient({ version: "1.3" });
    const r = await handshake(ctx, client, { extraTickets: 2 });
    assert.equal(r.alert, null);
    assert.equal(r.tickets.length, numTickets + 2);
    assert.equal(r.genCalls, 0);
    assert.equal(client.tickets.length, numTickets + 2);
    // Nonces count up across handshake and extra tickets: 0, 1, 2, ...
    assert.deepEqual(
      r.tickets.map((t) => t.tls13 ? t.nonce[7] : -1),
      Array.from({ length: numTickets + 2 }, (_, i) => i),
    );
    // SSL_new_session_ticket refuses before the handshake's tickets and in TLS 1.2.
    assert.equal(ctx.newConnection().requestTicket(), false);
    const r12 = await handshake(ctx, new TestClient({ version: "1.2" }), { extraTickets: 2 });
    assert.equal(r12.connection.requestTicket(), false);
  });
}

for (const version of VERSIONS) {
  for (const withCb of [true, false]) {
    Deno.test(
      `27-ticket-appdata: TLS ${version} resumption ${withCb ? "with" : "without"} app data`,
      async () => {
        const ctx = await ctxOf(
          withCb ? { genCb: setAppData("HelloWorld"), decCb: defaultDec } : {},
        );
        const client = new TestClient({ version });
        assert.equal((await handshake(ctx, client)).alert, null);
        const r = await handshake(ctx, client);
        assert.equal(r.resumed, true);
        assert.equal(appData(r.session), withCb ? "HelloWorld" : null);
      },
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Further observed edge cases (libssl 3.0.19, spec 14)

Deno.test("observed: TLS 1.2 dec_cb always IGNORE: no ticket, no gen_cb, twice", async () => {
  const ctx = await ctxOf({ genCb: setAppData("x"), decCb: () => IGNORE });
  const client = new TestClient({ version: "1.2" });
  for (const label of ["H1", "H2"]) {
    const r = await handshake(ctx, client);
    assert.equal(r.alert, null, label);
    assert.equal(r.resumed, false, label);
    assert.equal(r.ticketExpected, false, label); // no session_ticket in the ServerHello
    assert.deepEqual(r.decStatuses, [{ status: EMPTY, ret: IGNORE }], label);
    assert.equal(r.genCalls, 0, label);
    assert.deepEqual(r.tickets, [], label);
  }
});

for (const version of VERSIONS) {
  Deno.test(`observed: TLS ${version} dec_cb returning 42 is alert 80`, async () => {
    const ctx = await ctxOf({ decCb: defaultDec });
    const client = new TestClient({ version });
    assert.equal((await handshake(ctx, client)).alert, null);
    ctx.decCb = () => 42;
    const r = await handshake(ctx, client);
    assert.equal(r.alert, 80);
    assert.deepEqual(r.decStatuses, [{
      status: version === "1.2" ? SUCCESS : SUCCESS_RENEW,
      ret: 42,
    }]);
  });
}

Deno.test("observed: TLS 1.2 dec_cb USE on the first (EMPTY) ticket is alert 80", async () => {
  const ctx = await ctxOf({ decCb: () => USE });
  const r = await handshake(ctx, new TestClient({ version: "1.2" }));
  assert.equal(r.alert, 80);
  assert.deepEqual(r.decStatuses, [{ status: EMPTY, ret: USE }]);
});

Deno.test("observed: TLS 1.3 dec_cb USE on a tampered ticket (NO_DECRYPT) is alert 80", async () => {
  const ctx = await ctxOf({ decCb: () => USE });
  const client = new TestClient({ version: "1.3" });
  await handshake(ctx, client);
  client.tickets.at(-1)!.ticket[40] ^= 1;
  const r = await handshake(ctx, client);
  assert.equal(r.alert, 80);
  assert.deepEqual(r.decCbCalls, [{ status: NO_DECRYPT, keyNameLength: 16, ret: USE }]);
});

for (const version of VERSIONS) {
  for (const where of ["ciphertext", "key name"]) {
    Deno.test(`observed: TLS ${version} tampered ${where} byte is NO_DECRYPT, then new tickets`, async () => {
      let seen: SslSession | null | undefined;
      const ctx = await ctxOf({
        decCb: (c, s, k, st) => {
          seen = s;
          return defaultDec(c, s, k, st);
        },
      });
      const client = new TestClient({ version });
      await handshake(ctx, client);
      const ticket = version === "1.2" ? client.session!.ticket! : client.tickets.at(-1)!.ticket;
      ticket[where === "key name" ? 3 : 50] ^= 0x80;
      const r = await handshake(ctx, client);
      assert.equal(r.alert, null);
      assert.equal(r.resumed, false);
      assert.deepEqual(r.decCbCalls, [{
        status: NO_DECRYPT,
        keyNameLength: 16,
        ret: IGNORE_RENEW,
      }]);
      assert.equal(seen, null);
      assert.equal(r.tickets.length, version === "1.2" ? 1 : 2);
    });
  }
}

for (const version of VERSIONS) {
  Deno.test(`observed: TLS ${version} gen_cb returning 0 is alert 80`, async () => {
    const ctx = await ctxOf({ genCb: () => 0 });
    const r = await handshake(ctx, new TestClient({ version }));
    assert.equal(r.alert, 80);
    assert.equal(r.genCalls, 1);
    assert.deepEqual(r.tickets, []);
  });
}

for (const version of VERSIONS) {
  Deno.test(`observed: TLS ${version} key callback -1 on decrypt is alert 80, no dec_cb`, async () => {
    const ctx = await ctxOf({ decCb: defaultDec, ticketKeyCb: await keyCallback(1, -1) });
    const client = new TestClient({ version });
    assert.equal((await handshake(ctx, client)).alert, null);
    const r = await handshake(ctx, client);
    assert.equal(r.alert, 80);
    assert.equal(r.keyCbDec, 1);
    assert.equal(r.decCalls, 0);
  });

  Deno.test(`observed: TLS ${version} key callback -1 on encrypt is alert 80 after 1 gen_cb`, async () => {
    const ctx = await ctxOf({ genCb: () => 1, ticketKeyCb: await keyCallback(-1, 1) });
    const r = await handshake(ctx, new TestClient({ version }));
    assert.equal(r.alert, 80);
    assert.equal(r.genCalls, 1);
    assert.equal(r.keyCbEnc, 1);
  });

  Deno.test(`observed: TLS ${version} key callback 0 on decrypt: NO_DECRYPT, new tickets`, async () => {
    const ctx = await ctxOf({ decCb: defaultDec, ticketKeyCb: await keyCallback(1, 0) });
    const client = new TestClient({ version });
    await handshake(ctx, client);
    const r = await handshake(ctx, client);
    assert.equal(r.alert, null);
    assert.equal(r.resumed, false);
    assert.deepEqual(r.decCbCalls, [{ status: NO_DECRYPT, keyNameLength: 16, ret: IGNORE_RENEW }]);
    assert.equal(r.tickets.length, version === "1.2" ? 1 : 2);
  });

  Deno.test(`observed: TLS ${version} no dec_cb, default keys: resume with ${version === "1.2" ? 0 : 1} NST`, async () => {
    const ctx = await ctxOf();
    const client = new TestClient({ version });
    await handshake(ctx, client);
    const r = await handshake(ctx, client);
    assert.equal(r.resumed, true);
    assert.equal(r.tickets.length, version === "1.2" ? 0 : 1);
  });
}

Deno.test("observed: TLS 1.3 key callback returning 1, no dec_cb: resume, 0 NST", async () => {
  const ctx = await ctxOf({ ticketKeyCb: await keyCallback(1, 1) });
  const client = new TestClient({ version: "1.3" });
  await handshake(ctx, client);
  const r = await handshake(ctx, client);
  assert.equal(r.resumed, true);
  assert.deepEqual(r.tickets, []);
  assert.deepEqual([r.keyCbEnc, r.keyCbDec], [0, 1]);
});

Deno.test("observed: TLS 1.2 key callback returning 2: resume, 1 NST with lifetime hint 0", async () => {
  const ctx = await ctxOf({ ticketKeyCb: await keyCallback(1, 2) });
  const client = new TestClient({ version: "1.2" });
  await handshake(ctx, client);
  const r = await handshake(ctx, client);
  assert.equal(r.resumed, true);
  assert.deepEqual(r.tickets.map((t) => t.lifetime), [0]);
  // No app data: DER 95 bytes -> 160-byte tickets; renewed with the client's 32-byte id: 192.
  assert.deepEqual(r.ticketLengths, [192]);
});

Deno.test("observed: TLS 1.3 SSL_OP_NO_TICKET with the cache on: stateful 32-byte tickets", async () => {
  const ctx = await SslContext.create({ noTicket: true, genCb: () => 1, decCb: defaultDec });
  const client = new TestClient({ version: "1.3" });
  const h1 = await handshake(ctx, client);
  assert.deepEqual([h1.genCalls, h1.decCalls, h1.ticketLengths], [2, 0, [32, 32]]);
  for (const label of ["H2", "H3"]) {
    const r = await handshake(ctx, client);
    assert.equal(r.resumed, true, label);
    assert.deepEqual([r.genCalls, r.decCalls, r.ticketLengths], [1, 0, [32]], label);
  }
});

Deno.test("observed: TLS 1.2 SSL_OP_NO_TICKET with the cache on: session-id resumption", async () => {
  const ctx = await SslContext.create({ noTicket: true, genCb: () => 1, decCb: defaultDec });
  const client = new TestClient({ version: "1.2" });
  const h1 = await handshake(ctx, client);
  assert.deepEqual([h1.genCalls, h1.decCalls, h1.tickets.length], [0, 0, 0]);
  assert.equal(client.session!.sessionId.length, 32);
  const h2 = await handshake(ctx, client);
  assert.equal(h2.resumed, true);
  assert.deepEqual([h2.genCalls, h2.decCalls, h2.tickets.length], [0, 0, 0]);
});

Deno.test("observed: TLS 1.3 num_tickets 0: no gen_cb, no ticket, next is a full handshake", async () => {
  const ctx = await ctxOf({ numTickets: 0, genCb: () => 1 });
  const client = new TestClient({ version: "1.3" });
  const h1 = await handshake(ctx, client);
  assert.deepEqual([h1.genCalls, h1.tickets.length], [0, 0]);
  const h2 = await handshake(ctx, client);
  assert.equal(h2.resumed, false);
  assert.equal(h2.tickets.length, 0);
});

Deno.test("observed: TLS 1.3 num_tickets 5: 5 tickets, then 1 on resumption", async () => {
  const ctx = await ctxOf({ numTickets: 5, genCb: () => 1 });
  const client = new TestClient({ version: "1.3" });
  const h1 = await handshake(ctx, client);
  assert.deepEqual([h1.genCalls, h1.tickets.length], [5, 5]);
  const h2 = await handshake(ctx, client);
  assert.equal(h2.resumed, true);
  assert.deepEqual([h2.genCalls, h2.tickets.length], [1, 1]);
});

for (const [len, keyNameLength] of [[10, 10], [31, 16], [32, 16], [80, 16], [81, 16]]) {
  Deno.test(`observed: TLS 1.2 raw ${len}-byte ticket extension: NO_DECRYPT, keyname_len ${keyNameLength}`, async () => {
    const ctx = await ctxOf({ decCb: defaultDec });
    const client = new TestClient({ version: "1.2" });
    const ticket = crypto.getRandomValues(new Uint8Array(len));
    client.session = {
      sessionId: new Uint8Array(0),
      ticket,
      lifetimeHint: 0,
      cipherId: 0xc030,
      masterKey: new Uint8Array(48),
      extendedMasterSecret: true,
    };
    const r = await handshake(ctx, client);
    assert.equal(r.resumed, false);
    assert.deepEqual(r.decCbCalls, [{ status: NO_DECRYPT, keyNameLength, ret: IGNORE_RENEW }]);
    assert.deepEqual(r.ticketLengths, [160]); // a fresh ticket without app data
  });
}

Deno.test("observed: TLS 1.3 HelloRetryRequest during resumption calls dec_cb twice", async () => {
  const ctx = await ctxOf({ genCb: () => 1, decCb: defaultDec });
  const client = new TestClient({ version: "1.3" });
  await handshake(ctx, client);
  const r = await handshake(ctx, client, { helloRetryRequest: true });
  assert.equal(r.resumed, true);
  assert.equal(r.decCalls, 2);
  assert.deepEqual([r.genCalls, r.tickets.length], [1, 1]);
});

for (
  const [decRet, identity, nsts, finds] of [
    [IGNORE, 1, 1, 2],
    [IGNORE_RENEW, 1, 1, 2],
    [USE, 0, 0, 1],
    [USE_RENEW, 0, 1, 1],
  ] as const
) {
  Deno.test(`observed: TLS 1.3 [ticket, external PSK], dec_cb ${RET_NAMES[decRet]} on #0: identity ${identity}, ${nsts} NST`, async () => {
    let findCalls = 0;
    const ctx = await ctxOf({
      decCb: (_c, _s, _k, st) => st === SUCCESS || st === SUCCESS_RENEW ? decRet : IGNORE_RENEW,
      pskFindSession: (_c, id) => {
        findCalls++;
        return text.decode(id) !== "extpsk" ? null : new SslSession({
          sslVersion: 0x0304,
          cipherId: 0x1302,
          masterKey: new Uint8Array(48).fill(1),
          time: Math.floor(Date.now() / 1000),
          timeout: 7200,
        });
      },
    });
    const client = new TestClient({ version: "1.3" });
    await handshake(ctx, client);
    findCalls = 0;
    const r = await handshake(ctx, client, {
      extraIdentities: [{ identity: new TextEncoder().encode("extpsk"), binderLength: 48 }],
    });
    assert.equal(r.alert, null);
    assert.equal(r.resumed, true);
    assert.equal(r.identity, identity);
    assert.equal(r.tickets.length, nsts);
    assert.equal(findCalls, finds);
    assert.equal(r.decCalls, 1);
  });
}

// ---------------------------------------------------------------------------------------------
// Callbacks that fail: alert 80, and the context still works for the next connection.

const failures: [string, () => unknown][] = [
  ["throws", () => {
    throw new Error("boom");
  }],
  ["returns an unknown value", () => "yes"],
  ["rejects its Promise", () => Promise.reject(new Error("remote key store down"))],
];

for (const version of VERSIONS) {
  for (const [how, fail] of failures) {
    Deno.test(`a dec_cb that ${how} ends a TLS ${version} handshake with alert 80`, async () => {
      let failNext = false;
      const ctx = await ctxOf({
        decCb: (c, s, k, st) => failNext ? fail() as number : defaultDec(c, s, k, st),
      });
      const client = new TestClient({ version });
      assert.equal((await handshake(ctx, client)).alert, null);
      failNext = true;
      const r = await handshake(ctx, client);
      assert.equal(r.alert, 80);
      assert.deepEqual(r.decStatuses.map((d) => d.ret), [null]);
      failNext = false;
      const again = await handshake(ctx, client);
      assert.equal(again.alert, null);
      assert.equal(again.resumed, true);
    });

    Deno.test(`a gen_cb that ${how} ends a TLS ${version} handshake with alert 80`, async () => {
      let failNext = true;
      const ctx = await ctxOf({ genCb: () => failNext ? fail() as number : 1 });
      const client = new TestClient({ version });
      const r = await handshake(ctx, client);
      assert.equal(r.alert, 80);
      assert.equal(r.genCalls, 1);
      failNext = false;
      const next = await handshake(ctx, client);
      assert.equal(next.alert, null);
      assert.equal(next.tickets.length, version === "1.2" ? 1 : 2);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Pitfalls: libssl behaviours a reimplementation easily gets wrong, one test each

Deno.test("pitfall 1: TLS 1.3 IGNORE means no tickets at all", async () => {
  for (const [ret, nsts] of [[IGNORE, 0], [IGNORE_RENEW, 2]]) {
    const ctx = await ctxOf({ genCb: () => 1, decCb: () => ret });
    const client = new TestClient({ version: "1.3" });
    await handshake(ctx, client);
    const r = await handshake(ctx, client);
    assert.equal(r.resumed, false);
    assert.equal(r.genCalls, nsts);
    assert.equal(r.tickets.length, nsts);
  }
});

Deno.test("pitfall 2: TLS 1.3 USE means no renewal; a key callback returning 1 too", async () => {
  const useCtx = await ctxOf({ decCb: () => USE });
  let client = new TestClient({ version: "1.3" });
  await handshake(useCtx, client);
  let r = await handshake(useCtx, client);
  assert.deepEqual(r.decStatuses, [{ status: SUCCESS_RENEW, ret: USE }]);
  assert.equal(r.resumed, true);
  assert.equal(r.tickets.length, 0);

  const keyCtx = await ctxOf({ ticketKeyCb: await keyCallback(1, 1), decCb: defaultDec });
  client = new TestClient({ version: "1.3" });
  await handshake(keyCtx, client);
  r = await handshake(keyCtx, client);
  assert.deepEqual(r.decStatuses, [{ status: SUCCESS, ret: USE }]);
  assert.equal(r.tickets.length, 0);
});

Deno.test("pitfall 3: TLS 1.2 IGNORE and EMPTY fall back to the session-ID cache, IGNORE_RENEW does not", async () => {
  let decRet: number = IGNORE;
  const ctx = await SslContext.create({ decCb: () => decRet });
  // H1: dec_cb(EMPTY) -> IGNORE: no ticket, the session gets a 32-byte id and is cached.
  const cached = new TestClient({ version: "1.2" });
  assert.equal((await handshake(ctx, cached)).tickets.length, 0);
  const cachedId = cached.session!.sessionId.slice();
  assert.equal(cachedId.length, 32);
  // IGNORE (status NONE) with the cached id: resumed from the cache.
  let r = await handshake(ctx, cached);
  assert.deepEqual([r.resumed, r.decStatuses], [true, [{ status: EMPTY, ret: IGNORE }]]);
  // EMPTY left as EMPTY (no dec_cb): resumed from the cache, and a new ticket with hint 0.
  ctx.decCb = null;
  r = await handshake(ctx, cached);
  assert.equal(r.resumed, true);
  assert.deepEqual(r.tickets.map((t) => t.lifetime), [0]);
  // A real ticket plus the cached id: IGNORE_RENEW gives NO_DECRYPT and no cache lookup.
  ctx.decCb = () => decRet;
  decRet = IGNORE_RENEW;
  const holder = new TestClient({ version: "1.2" });
  await handshake(ctx, holder); // dec(EMPTY -> IGNORE_RENEW): a ticket
  const ticket = holder.session!.ticket!;
  const mixed = (): TestClient => {
    const c = new TestClient({ version: "1.2" });
    c.session = { ...holder.session!, ticket: ticket.slice(), sessionId: cachedId.slice() };
    return c;
  };
  r = await handshake(ctx, mixed());
  assert.deepEqual([r.resumed, r.decStatuses], [false, [{ status: SUCCESS, ret: IGNORE_RENEW }]]);
  decRet = IGNORE;
  r = await handshake(ctx, mixed());
  assert.deepEqual([r.resumed, r.decStatuses], [true, [{ status: SUCCESS, ret: IGNORE }]]);
  assert.deepEqual(r.session!.sessionId, cachedId);
});

Deno.test("pitfall 4: dec_cb sees EMPTY in TLS 1.2 only, and not for stateful, fatal or absent tickets", async () => {
  const calls: number[] = [];
  const decCb = (_c: unknown, _s: unknown, k: Uint8Array, st: number) => {
    calls.push(k.length);
    return defaultDec(_c, _s, k, st);
  };
  // TLS 1.2 first handshake: dec_cb(EMPTY) with keyname_len 0.
  let r = await handshake(await ctxOf({ decCb }), new TestClient({ version: "1.2" }));
  assert.deepEqual(r.decStatuses, [{ status: EMPTY, ret: IGNORE_RENEW }]);
  assert.deepEqual(calls, [0]);
  // The client sends no extension: no dec_cb.
  r = await handshake(await ctxOf({ decCb }), new TestClient({ version: "1.2", noTicket: true }));
  assert.equal(r.decCalls, 0);
  // Tickets disabled on the server: no dec_cb.
  r = await handshake(await ctxOf({ decCb, noTicket: true }), new TestClient({ version: "1.2" }));
  assert.equal(r.decCalls, 0);
  // TLS 1.3 stateful tickets: no dec_cb, yet resumption.
  const stateful = await SslContext.create({ decCb, noTicket: true });
  const c13 = new TestClient({ version: "1.3" });
  await handshake(stateful, c13);
  r = await handshake(stateful, c13);
  assert.deepEqual([r.resumed, r.decCalls], [true, 0]);
  // Key callback < 0: fatal before dec_cb.
  const fatal = await ctxOf({ decCb, ticketKeyCb: await keyCallback(1, -1) });
  const c12 = new TestClient({ version: "1.3" });
  await handshake(fatal, c12);
  r = await handshake(fatal, c12);
  assert.deepEqual([r.alert, r.decCalls], [80, 0]);
});

Deno.test("pitfall 5: keyname_len is min(16, ticket length), keyname the ticket start", async () => {
  const seen: Uint8Array[] = [];
  const ctx = await ctxOf({
    decCb: (c, s, k, st) => (seen.push(k.slice()), defaultDec(c, s, k, st)),
  });
  for (const len of [1, 10, 15, 16, 100]) {
    const client = new TestClient({ version: "1.2" });
    const ticket = crypto.getRandomValues(new Uint8Array(len));
    client.session = {
      sessionId: new Uint8Array(0),
      ticket,
      lifetimeHint: 0,
      cipherId: 0xc030,
      masterKey: new Uint8Array(48),
      extendedMasterSecret: true,
    };
    const r = await handshake(ctx, client);
    assert.equal(r.decCbCalls[0].keyNameLength, Math.min(16, len));
    assert.deepEqual(seen.at(-1), ticket.subarray(0, Math.min(16, len)));
  }
});

Deno.test("pitfall 6: validity checks run after dec_cb (sid_ctx miss, EMS downgrade 40, VERIFY_PEER 80)", async () => {
  const ctx = await ctxOf({ decCb: defaultDec, sessionIdContext: new Uint8Array([1]) });
  const client = new TestClient({ version: "1.2" });
  await handshake(ctx, client);
  const ticket = client.session!.ticket!.slice();
  // A different session-id context: USE, then a full handshake with a new ticket.
  ctx.sessionIdContext = new Uint8Array([2]);
  let r = await handshake(ctx, client);
  assert.deepEqual(r.decStatuses, [{ status: SUCCESS, ret: USE }]);
  assert.deepEqual([r.resumed, r.tickets.length], [false, 1]);
  // The EMS session resumed without EMS: handshake_failure.
  ctx.sessionIdContext = new Uint8Array([1]);
  client.session!.ticket = ticket.slice();
  r = await handshake(ctx, client, { extendedMasterSecret: false });
  assert.deepEqual(r.decStatuses, [{ status: SUCCESS, ret: USE }]);
  assert.equal(r.alert, 40);
  // SSL_VERIFY_PEER without a session-id context: internal_error.
  const peer = await ctxOf({ decCb: defaultDec, verifyPeer: true });
  const c = new TestClient({ version: "1.3" });
  await handshake(peer, c);
  r = await handshake(peer, c);
  assert.equal(r.decCalls, 1);
  assert.equal(r.alert, 80);
});

Deno.test("pitfall 7: gen_cb runs per NST, even when the TLS 1.3 key callback returns 0; any non-zero is success", async () => {
  const ctx = await ctxOf({ genCb: () => -1, ticketKeyCb: await keyCallback(0, 1) });
  const r = await handshake(ctx, new TestClient({ version: "1.3" }));
  assert.equal(r.alert, null);
  assert.deepEqual([r.genCalls, r.keyCbEnc, r.tickets.length], [2, 2, 0]);
  const r12 = await handshake(ctx, new TestClient({ version: "1.2" }));
  assert.deepEqual([r12.genCalls, r12.ticketLengths], [1, [0]]);
});

Deno.test("pitfall 8: TLS 1.2 tickets hold an empty session id, renewed ones the client's; TLS 1.3 a fresh one each", async () => {
  const ctx = await ctxOf({
    decCb: (_c, _s, _k, st) => st === SUCCESS || st === SUCCESS_RENEW ? USE_RENEW : IGNORE_RENEW,
  });
  const client = new TestClient({ version: "1.2" });
  const h1 = await handshake(ctx, client);
  const open = async (t: Uint8Array) => (await ctx.ticketSealer.open(t)).session!;
  assert.equal((await open(h1.tickets[0].ticket)).sessionId.length, 0);
  const clientId = client.session!.sessionId.slice();
  const h2 = await handshake(ctx, client);
  assert.equal(h2.resumed, true);
  assert.deepEqual((await open(h2.tickets[0].ticket)).sessionId, clientId);
  const c13 = new TestClient({ version: "1.3" });
  const t13 = (await handshake(ctx, c13)).tickets;
  const [a, b] = [await open(t13[0].ticket), await open(t13[1].ticket)];
  assert.equal(a.sessionId.length, 32);
  assert.notDeepEqual(a.sessionId, b.sessionId);
});

Deno.test("pitfall 9: kex_group is always encoded, even as 0", async () => {
  const ctx = await ctxOf();
  const conn = ctx.newConnection();
  await conn.processClientHello({ version: 0x0303, sessionTicket: new Uint8Array(0) });
  conn.establishSession({ cipherId: 0x002f, masterKey: new Uint8Array(48), kexGroup: 0 });
  const [nst] = await conn.newSessionTickets();
  const s = (await ctx.ticketSealer.open(nst.message.ticket)).session!;
  assert.equal(s.kexGroup, 0);
  assert.deepEqual(encodeSession(s).subarray(-5), Uint8Array.of(0xb3, 0x03, 0x02, 0x01, 0x00));
});

Deno.test("pitfall 10: the sealed bytes are i2d(d2i(i2d(session))): timeout 0 becomes 3", async () => {
  const ctx = await ctxOf({
    genCb: (conn) => {
      conn.session!.timeout = 0;
      return 1;
    },
  });
  const r = await handshake(ctx, new TestClient({ version: "1.2" }));
  assert.equal(r.alert, null);
  assert.equal((await ctx.ticketSealer.open(r.tickets[0].ticket)).session!.timeout, 3);
});

Deno.test("pitfall 10 through a key callback and a ring: the normalised session is sealed", async () => {
  const key = await cbcKey();
  const viaKeyCb = await ctxOf({
    genCb: (conn) => ((conn.session!.timeout = 0), 1),
    ticketKeyCb: () => ({ ret: 1, key }),
  });
  const r1 = await handshake(viaKeyCb, new TestClient({ version: "1.2" }));
  assert.equal(r1.alert, null);
  assert.equal((await key.open(r1.tickets[0].ticket)).session!.timeout, 3);
  const ring = new TicketKeyRing({ generate: false, now: () => Date.now() });
  ring.add(await TicketKey.generate(), { state: "active" });
  const viaRing = await ctxOf({ ticketKeys: ring, genCb: (c) => ((c.session!.timeout = 0), 1) });
  const r2 = await handshake(viaRing, new TestClient({ version: "1.2" }));
  assert.equal((await ring.open(r2.tickets[0].ticket)).session!.timeout, 3);
});

Deno.test("statem_srvr.c:construct_stateless_ticket: a session DER over 0xFF00 bytes is alert 80", async () => {
  // gen_cb makes the session too large to seal (65,280 bytes of DER at most).
  const big = await ctxOf({
    genCb: (c) => (c.session!.setTicketAppData(new Uint8Array(0xff00)), 1),
  });
  for (const version of VERSIONS) {
    const r = await handshake(big, new TestClient({ version }));
    assert.equal(r.alert, 80, version);
  }
  // Just under the limit seals.
  const fits = await ctxOf({
    genCb: (c) => (c.session!.setTicketAppData(new Uint8Array(65000)), 1),
  });
  const ok = await handshake(fits, new TestClient({ version: "1.2" }));
  assert.deepEqual([ok.alert, ok.tickets.length], [null, 1]);
});

Deno.test("pitfall 11: ticket keys are exactly 80 bytes (48 is rejected)", async () => {
  const ctx = await ctxOf();
  await assert.rejects(() => ctx.setTicketKeys(new Uint8Array(48)), TicketKeyError);
  await assert.rejects(() => SslContext.create({ ticketKeys: new Uint8Array(48) }), TicketKeyError);
  await ctx.setTicketKeys(new Uint8Array(80).map((_, i) => i));
  const r = await handshake(ctx, new TestClient({ version: "1.2" }));
  assert.deepEqual(r.tickets[0].ticket.subarray(0, 16), new Uint8Array(16).map((_, i) => i));
});

Deno.test("pitfall 12: tickets, keys and callbacks come from the initial context, not an SNI-switched one (06-sni-ticket)", async () => {
  // test/ssl-tests/06-sni-ticket.cnf.in with test/helpers/handshake.c: server2's key callback
  // must never be called (session_ticket_do_not_call); extensions.c:final_server_name.
  for (const version of VERSIONS) {
    let gen1 = 0, dec1 = 0, calls2 = 0;
    const server1 = await ctxOf({
      genCb: (conn) => (gen1++, setAppData("server1")(conn, null)),
      decCb: (c, s, k, st) => (dec1++, defaultDec(c, s, k, st)),
    });
    const never = () => {
      calls2++;
      return 0;
    };
    const server2 = await ctxOf({
      genCb: never,
      decCb: never,
      ticketKeyCb: () => (calls2++, { ret: -1 }),
    });
    const client = new TestClient({ version });
    const h1 = await handshake(server1, client, { serverNameContext: server2 });
    assert.equal(h1.alert, null, version);
    assert.ok(h1.tickets.length >= 1, version);
    // Sealed under server1's keys (opens there), not server2's.
    const t = h1.tickets[0].ticket;
    assert.equal((await server1.ticketSealer.open(t)).status, SUCCESS, version);
    assert.equal((await server2.ticketSealer.open(t)).status, NO_DECRYPT, version);
    const h2 = await handshake(server1, client, { serverNameContext: server2 });
    assert.equal(h2.resumed, true, version);
    assert.equal(appData(h2.session), "server1", version);
    assert.equal(calls2, 0, `${version}: server2's callbacks were called`);
    assert.ok(gen1 >= 1 && dec1 >= 1, version);

    // Switching to a context that disables tickets: no ticket is sent.
    const noTickets = await ctxOf({ noTicket: true });
    const h3 = await handshake(server1, new TestClient({ version }), {
      serverNameContext: noTickets,
    });
    assert.deepEqual([h3.alert, h3.tickets.length], [null, 0], version);
  }
});

Deno.test("pitfall 13: security level 3 turns TLS 1.2 tickets off, not TLS 1.3 ones (ssl/ssl_cert.c default security callback)", async () => {
  let dec = 0;
  const ctx = await ctxOf({
    securityLevel: 3,
    decCb: (c, s, k, st) => (dec++, defaultDec(c, s, k, st)),
  });
  const r12 = await handshake(ctx, new TestClient({ version: "1.2" }));
  assert.deepEqual([r12.alert, r12.tickets.length, dec, r12.ticketExpected], [null, 0, 0, false]);
  const r13 = await handshake(ctx, new TestClient({ version: "1.3" }));
  assert.deepEqual([r13.alert, r13.tickets.length], [null, 2]);
});

Deno.test("the handshake alert is a TlsAlert", async () => {
  const ctx = await ctxOf({ decCb: () => ABORT });
  const conn = ctx.newConnection();
  await assert.rejects(
    () => conn.processClientHello({ version: 0x0303, sessionTicket: new Uint8Array(0) }),
    (e: unknown) => e instanceof TlsAlert && e.alert === 80,
  );
});

Deno.test("a random source that returns the wrong length is alert 80, not a RangeError", async () => {
  const ctx = await ctxOf({ random: () => new Uint8Array(1) });
  const r = await handshake(ctx, new TestClient({ version: "1.3" }));
  assert.equal(r.alert, 80);
});

Deno.test("ssl_get_prev_session: a session expires only after time + timeout (sess_timedout: now > time + timeout)", async () => {
  let clock = 1_000_000_000;
  const ctx = await ctxOf({ now: () => clock, decCb: defaultDec });
  const client = new TestClient({ version: "1.2" });
  await handshake(ctx, client);
  clock += 7200 * 1000;
  let r = await handshake(ctx, client);
  assert.deepEqual([r.resumed, r.tickets.length], [true, 0]);
  clock += 1000;
  r = await handshake(ctx, client);
  assert.deepEqual(r.decStatuses, [{ status: SUCCESS, ret: USE }]);
  assert.deepEqual([r.resumed, r.tickets.length], [false, 1]);
});
