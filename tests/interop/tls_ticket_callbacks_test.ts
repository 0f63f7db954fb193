/**
 * The twenty cases of OpenSSL's `test/sslapitest.c:test_ticket_callbacks` over real sockets,
 * TLS 1.2 for even idx 0..18 and TLS 1.3 for odd idx 1..19: this module's server (`listenTls`, through
 * `tests/_tls_server.ts`) with the context of the loopback matrix
 * (`tests/_ticket_callbacks_matrix.ts`, as `tests/ticket_callbacks_test.ts` uses it: cache off, `gen_cb` setting "Hello World", `dec_cb`, the
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
import { DecryptTicketReturn } from "../../src/server/callbacks.ts";
import {
  type Expect,
  expectH1,
  H2,
  matrixContext,
  tickDecRet,
  tickKeyRenew,
} from "../_ticket_callbacks_matrix.ts";
import { type ServedConnection, startTlsServer } from "../_tls_server.ts";
import { testCredentials } from "../_tls_certs.ts";
import { compileLibsslPeer, missing, parseEvents, run } from "./_peers.ts";

const why = await missing(["libssl"]);
if (why !== null) console.warn(`tls_ticket_callbacks_test: skipping (CI installs these): ${why}`);

const { IGNORE, IGNORE_RENEW, USE_RENEW } = DecryptTicketReturn;
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

/** What each case is about, for the test names. */
const TITLE: Record<number, string> = {
  0: "dec_cb IGNORE: H2 is a full handshake with no NewSessionTicket",
  2: "dec_cb IGNORE_RENEW: H2 is a full handshake with a NewSessionTicket",
  4: "dec_cb USE: H2 resumes with no NewSessionTicket",
  6: "dec_cb USE_RENEW: H2 resumes with a renewed ticket (RFC 5077 §3.3)",
  8: "old key callback returns 1: H2 resumes (SUCCESS -> USE), no NewSessionTicket",
  10: "old key callback returns 2: H2 resumes (SUCCESS_RENEW -> USE_RENEW), a renewed ticket",
  12: "old key callback returns 0: empty NewSessionTickets, H2 is a full handshake",
  14: "EVP key callback returns 1: H2 resumes (SUCCESS -> USE), no NewSessionTicket",
  16: "EVP key callback returns 2: H2 resumes (SUCCESS_RENEW -> USE_RENEW), a renewed ticket",
  18: "EVP key callback returns 0: empty NewSessionTickets, H2 is a full handshake",
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
  0: "IGNORE",
  2: "IGNORE_RENEW",
  4: "USE",
  6: "USE_RENEW",
  8: "key cb 1",
  10: "key cb 2",
  12: "key cb 0",
  14: "EVP key cb 1",
  16: "EVP key cb 2",
  18: "EVP key cb 0",
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

/**
 * What the libssl client reports is its new-session callback. In TLS 1.3 that is one call per
 * NewSessionTicket. In TLS 1.2 it is one call per full handshake whose session it can cache
 * (`ssl_update_cache` in `tls_finish_handshake`, never on a resumed one even when a renewed
 * ticket came): a session with a ticket, or with the 32-byte session id the server gives when it
 * sends no NewSessionTicket; after an empty ticket (empty session id, no ticket) nothing is
 * cached.
 */
function clientView(want: Expect, tls13: boolean): { lengths: number[] } {
  if (tls13) return { lengths: want.lengths };
  if (want.reused) return { lengths: [] };
  if (want.lengths.length === 0) return { lengths: [0] }; // session-id session
  return { lengths: want.lengths[0] > 0 ? [want.lengths[0]] : [] };
}

function expected(want: Expect, tls13: boolean) {
  const { lengths } = clientView(want, tls13);
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
      nst: lengths.length,
      lengths,
      ticklen: lengths.at(-1) ?? 0,
      reused: want.reused,
      greeting: want.reused ? "hello_resumed" : "hello_new",
      version: tls13 ? "TLSv1.3" : "TLSv1.2",
    },
  };
}

for (let idx = 0; idx < 20; idx++) {
  const tls13 = idx % 2 === 1;
  Deno.test({
    name: `test_ticket_callbacks idx ${idx} (TLS ${tls13 ? "1.3" : "1.2"}, ${SHORT[idx]}) ` +
      `over a socket: ${TITLE[idx]}`,
    ignore: why !== null,
  }, async () => {
    const bin = await peer();
    const creds = await testCredentials("P-256");
    const server = await startTlsServer({
      cert: creds.certPem,
      key: creds.keyPem,
      context: (await matrixContext(idx)).ctx,
    });
    try {
      // H1 then H2 from one libssl client process; the certificate is verified (CAfile).
      const r = await run(bin, [
        "connect",
        "127.0.0.1",
        String(server.port),
        tls13 ? "1.3" : "1.2",
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
        expected(expectH1(idx), tls13),
        `H1\n${log}`,
      );
      assert.deepEqual(
        observed(served[1], clients[1].fields),
        expected(H2[idx], tls13),
        `H2\n${log}`,
      );
      // The original boolean assertions of sslapitest.c, on the server's H2.
      const decRet = tickDecRet(idx);
      const renew = tickKeyRenew(idx);
      const ignored = decRet === IGNORE || decRet === IGNORE_RENEW;
      assert.equal(served[1].info!.resumed, !(ignored || renew === -1));
      assert.equal(
        served[1].counters.genCb > 0,
        renew !== 0 || decRet === IGNORE_RENEW || decRet === USE_RENEW,
      );
      // TLS 1.3 H2 after key callback 0 offers no ticket (no dec_cb); TLS 1.2 an empty
      // session_ticket extension (dec_cb with EMPTY).
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
