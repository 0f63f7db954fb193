/**
 * The ten TLS 1.3 cases of OpenSSL's `test/sslapitest.c:test_ticket_callbacks` (odd idx 1..19)
 * over real sockets: this module's TLS 1.3 server (`listenTls`, through
 * `tests/_tls_server.ts`) with the context of the loopback matrix
 * (`tests/ticket_callbacks_test.ts`: cache off, `gen_cb` setting "Hello World", `dec_cb`, the
 * AES-128-CBC / HMAC-SHA256 key callback), and a libssl client: `libssl_peer.c connect`, an
 * OpenSSL 3 client with its session cache on and `SSL_CTX_sess_set_new_cb`. H1 is a full
 * handshake; H2 resumes the last session H1 received (a full handshake when it received none).
 *
 * Each case asserts, for H1 and H2, the counts of spec table 13.2 (the loopback harness's
 * expectations): `gen_cb` calls, `dec_cb` status → return, key callback enc/dec calls,
 * NewSessionTickets sent by the server and received by the client, the client's ticket lengths,
 * and `reused` on both sides.
 *
 * OpenSSL's idx 8–13 (old `HMAC_CTX` key callback) and 14–19 (EVP key callback) differ only in
 * the callback's API; here both are the one `ticketKeyCb`, so 15/17/19 repeat 9/11/13.
 *
 * Ignored, with the reason printed, when gcc or libssl-dev is missing (a failure under CI=true).
 */
import assert from "node:assert/strict";
import { dirname } from "node:path";
import { SslContext } from "../../src/server/ssl_context.ts";
import { DecryptTicketReturn, type TicketKeyCallback } from "../../src/server/callbacks.ts";
import { TicketKey } from "../../src/ticket/ticket_key.ts";
import { TicketStatus } from "../../src/ticket/status.ts";
import { stableLengthRandom } from "../../testing.ts";
import { type ServedConnection, startTlsServer } from "../_tls_server.ts";
import { testCredentials } from "../_tls_certs.ts";
import { compileLibsslPeer, missing, parseEvents, run } from "./_peers.ts";

const why = await missing(["libssl"]);
if (why !== null) console.warn(`tls_ticket_callbacks_test: skipping (CI installs these): ${why}`);

const { IGNORE, IGNORE_RENEW, USE, USE_RENEW, ABORT } = DecryptTicketReturn;
const { EMPTY, SUCCESS, SUCCESS_RENEW } = TicketStatus;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** The C peer, compiled once for the whole file; its directory goes when the process exits. */
let peerBin: Promise<string> | null = null;
function peer(): Promise<string> {
  peerBin ??= compileLibsslPeer().then(({ bin }) => {
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dirname(bin), { recursive: true });
      } catch {
        // already gone
      }
    });
    return bin;
  });
  return peerBin;
}

/** sslapitest.c key callbacks: AES-128-CBC and HMAC-SHA256, both keyed "0123456789abcdef". */
async function testKey(): Promise<TicketKey> {
  const material = new Uint8Array(48); // node-48: name16 (all zero) | hmac16 | aes16
  material.set(enc.encode("0123456789abcdef"), 16);
  material.set(enc.encode("0123456789abcdef"), 32);
  return await TicketKey.import(material, "node-48");
}

/** idx -> tick_key_renew (only meaningful for idx >= 8). */
function tickKeyRenew(idx: number): number {
  if ([10, 11, 16, 17].includes(idx)) return 1;
  if ([12, 13, 18, 19].includes(idx)) return -1;
  return 0;
}

/** idx -> tick_dec_ret. */
function tickDecRet(idx: number): number {
  if (idx <= 1) return IGNORE;
  if (idx <= 3) return IGNORE_RENEW;
  if (idx <= 5) return USE;
  if (idx <= 7) return USE_RENEW;
  return ABORT;
}

/** The server context of the loopback matrix for this idx (tests/ticket_callbacks_test.ts). */
async function matrixContext(idx: number): Promise<SslContext> {
  const renew = tickKeyRenew(idx);
  const decRet = tickDecRet(idx);
  let keyCalled = false;
  const key = await testKey();
  const keyCb: TicketKeyCallback = (_conn, _name, _iv, encrypt) => {
    keyCalled = true;
    const ret = renew === -1 ? 0 : renew ? 2 : 1;
    return encrypt ? { ret, key, iv: new Uint8Array(16) } : { ret, key };
  };
  return await SslContext.create({
    sessionCacheSize: 0, // SSL_SESS_CACHE_OFF: resumption only from tickets
    random: stableLengthRandom, // a 4-byte age_add, so TLS 1.3 tickets are always 224
    ticketKeyCb: idx >= 8 ? keyCb : null,
    genCb: (conn) => {
      conn.session!.setTicketAppData("Hello World");
      return 1;
    },
    decCb: (_conn, ss, _name, status) => {
      if (status === EMPTY) return IGNORE_RENEW;
      if (status !== SUCCESS && status !== SUCCESS_RENEW) return ABORT;
      const app = ss?.getTicketAppData();
      if (!app || dec.decode(app) !== "Hello World") return ABORT;
      if (keyCalled) return status === SUCCESS ? USE : USE_RENEW;
      return decRet;
    },
  });
}

/** One handshake's expected counts (spec table 13.2, as the loopback harness asserts them). */
interface Expect {
  gen: number;
  dec: { status: number; ret: number }[];
  keyEnc: number;
  keyDec: number;
  /** Lengths of the tickets in the NewSessionTickets, in order (their count is the NSTs). */
  lengths: number[];
  reused: boolean;
}

/** H1 of every TLS 1.3 case: a full handshake, 2 tickets of 224 bytes unless the key cb says 0. */
function expectH1(idx: number): Expect {
  const noTicket = tickKeyRenew(idx) === -1;
  return {
    gen: 2,
    dec: [], // an OpenSSL TLS 1.3 client sends no PSK on a fresh connection
    keyEnc: idx >= 8 ? 2 : 0,
    keyDec: 0,
    lengths: noTicket ? [] : [224, 224],
    reused: false,
  };
}

/** The H2 columns of spec table 13.2 for the TLS 1.3 cases (copied from the loopback harness). */
const H2: Record<number, Expect> = {
  1: {
    gen: 0,
    dec: [{ status: SUCCESS_RENEW, ret: IGNORE }],
    keyEnc: 0,
    keyDec: 0,
    lengths: [],
    reused: false,
  },
  3: {
    gen: 2,
    dec: [{ status: SUCCESS_RENEW, ret: IGNORE_RENEW }],
    keyEnc: 0,
    keyDec: 0,
    lengths: [224, 224],
    reused: false,
  },
  5: {
    gen: 0,
    dec: [{ status: SUCCESS_RENEW, ret: USE }],
    keyEnc: 0,
    keyDec: 0,
    lengths: [],
    reused: true,
  },
  7: {
    gen: 1,
    dec: [{ status: SUCCESS_RENEW, ret: USE_RENEW }],
    keyEnc: 0,
    keyDec: 0,
    lengths: [224],
    reused: true,
  },
  9: {
    gen: 0,
    dec: [{ status: SUCCESS, ret: USE }],
    keyEnc: 0,
    keyDec: 1,
    lengths: [],
    reused: true,
  },
  11: {
    gen: 1,
    dec: [{ status: SUCCESS_RENEW, ret: USE_RENEW }],
    keyEnc: 1,
    keyDec: 1,
    lengths: [224],
    reused: true,
  },
  // No NST in H1, so the client offers no PSK: a full handshake, gen twice, again no NST.
  13: { gen: 2, dec: [], keyEnc: 2, keyDec: 0, lengths: [], reused: false },
};
for (const i of [15, 17, 19]) H2[i] = H2[i - 6]; // EVP key callback: as the old one

/** What each case is about, for the test names. */
const TITLE: Record<number, string> = {
  1: "dec_cb IGNORE: H2 is a full handshake with no NewSessionTicket",
  3: "dec_cb IGNORE_RENEW: H2 is a full handshake with 2 NewSessionTickets",
  5: "dec_cb USE: H2 resumes with no NewSessionTicket",
  7: "dec_cb USE_RENEW: H2 resumes with 1 NewSessionTicket",
  9: "old key callback returns 1: H2 resumes (SUCCESS -> USE), no NewSessionTicket",
  11: "old key callback returns 2: H2 resumes (SUCCESS_RENEW -> USE_RENEW), 1 NewSessionTicket",
  13: "old key callback returns 0: no ticket is ever sent, H2 is a full handshake",
  15: "EVP key callback returns 1: H2 resumes (SUCCESS -> USE), no NewSessionTicket",
  17: "EVP key callback returns 2: H2 resumes (SUCCESS_RENEW -> USE_RENEW), 1 NewSessionTicket",
  19: "EVP key callback returns 0: no ticket is ever sent, H2 is a full handshake",
};

const SHORT: Record<number, string> = {
  1: "IGNORE",
  3: "IGNORE_RENEW",
  5: "USE",
  7: "USE_RENEW",
  9: "key cb 1",
  11: "key cb 2",
  13: "key cb 0",
  15: "EVP key cb 1",
  17: "EVP key cb 2",
  19: "EVP key cb 0",
};

/** Both sides' view of one handshake, in the shape of the expectations. */
function observed(served: ServedConnection, client: Record<string, string>) {
  const info = served.info!;
  const lengths = client.tickets === "-" ? [] : client.tickets.split(",").map(Number);
  return {
    server: {
      gen: served.counters.genCb,
      dec: info.decCbCalls.map(({ status, ret }) => ({ status, ret })),
      decCb: served.counters.decCb,
      keyEnc: served.counters.keyCbEnc,
      keyDec: served.counters.keyCbDec,
      nstSent: info.ticketsSent,
      reused: info.resumed,
    },
    client: {
      nst: Number(client.nst),
      lengths,
      ticklen: Number(client.ticklen),
      reused: client.reused === "1",
      greeting: client.greeting,
      version: client.version,
    },
  };
}

function expected(want: Expect) {
  return {
    server: {
      gen: want.gen,
      dec: want.dec,
      decCb: want.dec.length,
      keyEnc: want.keyEnc,
      keyDec: want.keyDec,
      nstSent: want.lengths.length,
      reused: want.reused,
    },
    client: {
      nst: want.lengths.length,
      lengths: want.lengths,
      ticklen: want.lengths.at(-1) ?? 0,
      reused: want.reused,
      greeting: want.reused ? "hello_resumed" : "hello_new",
      version: "TLSv1.3",
    },
  };
}

for (let idx = 1; idx < 20; idx += 2) {
  Deno.test({
    name: `test_ticket_callbacks idx ${idx} (TLS 1.3, ${SHORT[idx]}) over a socket: ${TITLE[idx]}`,
    ignore: why !== null,
  }, async () => {
    const bin = await peer();
    const creds = await testCredentials("P-256");
    const server = await startTlsServer({
      cert: creds.certPem,
      key: creds.keyPem,
      context: await matrixContext(idx),
    });
    try {
      // H1 then H2 from one libssl client process; the certificate is verified (CAfile).
      const r = await run(bin, [
        "connect",
        "127.0.0.1",
        String(server.port),
        "1.3",
        creds.certFile,
      ]);
      const log = `libssl_peer connect:\n${r.stdout}${r.stderr}`;
      assert.equal(r.code, 0, log);
      const clients = parseEvents(r.stdout).filter((e) => e.kind === "client");
      assert.deepEqual(clients.map((c) => c.fields.h), ["1", "2"], log);
      const served = await server.waitFor(2);
      assert.equal(served.length, 2, "the server accepted two connections");
      for (const [i, s] of served.entries()) {
        assert.equal(s.error, null, `H${i + 1} server error: ${s.error}\n${log}`);
      }
      assert.deepEqual(
        observed(served[0], clients[0].fields),
        expected(expectH1(idx)),
        `H1\n${log}`,
      );
      assert.deepEqual(observed(served[1], clients[1].fields), expected(H2[idx]), `H2\n${log}`);
      // The original boolean assertions of sslapitest.c, on the server's H2.
      const decRet = tickDecRet(idx);
      const renew = tickKeyRenew(idx);
      const ignored = decRet === IGNORE || decRet === IGNORE_RENEW;
      assert.equal(served[1].info!.resumed, !(ignored || renew === -1));
      assert.equal(
        served[1].counters.genCb > 0,
        renew !== 0 || decRet === IGNORE_RENEW || decRet === USE_RENEW,
      );
      assert.equal(served[1].counters.decCb > 0, !(idx === 13 || idx === 19));
      // A resumed session carries gen_cb's app data from the H1 ticket.
      if (served[1].info!.resumed) {
        assert.equal(dec.decode(served[1].info!.session!.getTicketAppData()!), "Hello World");
      }
    } finally {
      await server.stop();
    }
  });
}
