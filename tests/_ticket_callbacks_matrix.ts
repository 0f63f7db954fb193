/**
 * OpenSSL's `test/sslapitest.c:test_ticket_callbacks` (3.0.22, 20 cases) as data and one
 * context builder, shared by the loopback replay (`ticket_callbacks_test.ts`) and the replay over
 * real sockets with a libssl client (`interop/tls_ticket_callbacks_test.ts`): the key callback
 * (AES-128-CBC and HMAC-SHA256 keyed "0123456789abcdef", all-zero key name and IV), `gen_cb`
 * setting "Hello World", `dec_cb`, `tick_key_renew` / `tick_dec_ret` per idx, and the counts
 * observed against libssl 3.0.19.
 *
 * @module
 */

import { DecryptTicketReturn, type TicketKeyCallback } from "../src/server/callbacks.ts";
import { SslContext } from "../src/server/ssl_context.ts";
import { TicketStatus } from "../src/ticket/status.ts";
import { TicketKey } from "../src/ticket/ticket_key.ts";
import { stableLengthRandom } from "../testing.ts";

const { IGNORE, IGNORE_RENEW, USE, USE_RENEW, ABORT } = DecryptTicketReturn;
const { EMPTY, SUCCESS, SUCCESS_RENEW } = TicketStatus;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** One handshake's expected counts. */
export interface Expect {
  /** `gen_cb` calls. */
  gen: number;
  /** `dec_cb` calls: status → return. */
  dec: { status: number; ret: number }[];
  /** Key callback calls with enc = 1. */
  keyEnc: number;
  /** Key callback calls with enc = 0. */
  keyDec: number;
  /** Lengths of the tickets of the NewSessionTickets, in order (their count is the NSTs). */
  lengths: number[];
  /** Whether the handshake resumed. */
  reused: boolean;
  /** The lifetime of every NewSessionTicket, when the table gives it. */
  lifetime?: number;
}

/** idx -> tick_key_renew (only meaningful for idx >= 8). */
export function tickKeyRenew(idx: number): number {
  if ([10, 11, 16, 17].includes(idx)) return 1;
  if ([12, 13, 18, 19].includes(idx)) return -1;
  return 0;
}

/** idx -> tick_dec_ret. */
export function tickDecRet(idx: number): number {
  if (idx <= 1) return IGNORE;
  if (idx <= 3) return IGNORE_RENEW;
  if (idx <= 5) return USE;
  if (idx <= 7) return USE_RENEW;
  return ABORT;
}

/** H1 (a full handshake) of case idx: TLS 1.2 for even idx, TLS 1.3 for odd. */
export function expectH1(idx: number): Expect {
  const tls13 = idx % 2 === 1;
  const emptyTicket = tickKeyRenew(idx) === -1;
  return {
    gen: tls13 ? 2 : 1,
    // An OpenSSL TLS 1.3 client sends no PSK on a fresh connection; a TLS 1.2 one an empty
    // session_ticket extension.
    dec: tls13 ? [] : [{ status: EMPTY, ret: IGNORE_RENEW }],
    keyEnc: idx >= 8 ? (tls13 ? 2 : 1) : 0,
    keyDec: 0,
    lengths: tls13 ? (emptyTicket ? [] : [224, 224]) : [emptyTicket ? 0 : 176],
    reused: false,
    lifetime: !tls13 && emptyTicket ? 0 : 7200,
  };
}

/** The H2 (resumption) columns of spec table 13.2, by idx. */
export const H2: Record<number, Expect> = {
  0: {
    gen: 0,
    dec: [{ status: SUCCESS, ret: IGNORE }],
    keyEnc: 0,
    keyDec: 0,
    lengths: [],
    reused: false,
  },
  1: {
    gen: 0,
    dec: [{ status: SUCCESS_RENEW, ret: IGNORE }],
    keyEnc: 0,
    keyDec: 0,
    lengths: [],
    reused: false,
  },
  2: {
    gen: 1,
    dec: [{ status: SUCCESS, ret: IGNORE_RENEW }],
    keyEnc: 0,
    keyDec: 0,
    lengths: [176],
    reused: false,
    lifetime: 7200,
  },
  3: {
    gen: 2,
    dec: [{ status: SUCCESS_RENEW, ret: IGNORE_RENEW }],
    keyEnc: 0,
    keyDec: 0,
    lengths: [224, 224],
    reused: false,
  },
  4: {
    gen: 0,
    dec: [{ status: SUCCESS, ret: USE }],
    keyEnc: 0,
    keyDec: 0,
    lengths: [],
    reused: true,
  },
  5: {
    gen: 0,
    dec: [{ status: SUCCESS_RENEW, ret: USE }],
    keyEnc: 0,
    keyDec: 0,
    lengths: [],
    reused: true,
  },
  // A renewed TLS 1.2 ticket embeds the client's 32-byte session id (176 + 32) and hint 0.
  6: {
    gen: 1,
    dec: [{ status: SUCCESS, ret: USE_RENEW }],
    keyEnc: 0,
    keyDec: 0,
    lengths: [208],
    reused: true,
    lifetime: 0,
  },
  7: {
    gen: 1,
    dec: [{ status: SUCCESS_RENEW, ret: USE_RENEW }],
    keyEnc: 0,
    keyDec: 0,
    lengths: [224],
    reused: true,
  },
  8: {
    gen: 0,
    dec: [{ status: SUCCESS, ret: USE }],
    keyEnc: 0,
    keyDec: 1,
    lengths: [],
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
  10: {
    gen: 1,
    dec: [{ status: SUCCESS_RENEW, ret: USE_RENEW }],
    keyEnc: 1,
    keyDec: 1,
    lengths: [208],
    reused: true,
    lifetime: 0,
  },
  11: {
    gen: 1,
    dec: [{ status: SUCCESS_RENEW, ret: USE_RENEW }],
    keyEnc: 1,
    keyDec: 1,
    lengths: [224],
    reused: true,
  },
  12: {
    gen: 1,
    dec: [{ status: EMPTY, ret: IGNORE_RENEW }],
    keyEnc: 1,
    keyDec: 0,
    lengths: [0],
    reused: false,
    lifetime: 0,
  },
  13: { gen: 2, dec: [], keyEnc: 2, keyDec: 0, lengths: [], reused: false },
};
for (let i = 14; i < 20; i++) H2[i] = H2[i - 6]; // EVP key callback: as the old one

/** The `gen_cb` / `dec_cb` flags of sslapitest.c (set when called; the test resets them). */
export interface MatrixFlags {
  /** `gen_cb` was called. */
  gen: number;
  /** `dec_cb` was called. */
  dec: number;
}

/** The server context of case idx (session cache off, as sslapitest.c), and its flags. */
export async function matrixContext(
  idx: number,
): Promise<{ ctx: SslContext; flags: MatrixFlags }> {
  const renew = tickKeyRenew(idx);
  const decRet = tickDecRet(idx);
  const flags: MatrixFlags = { gen: 0, dec: 0 };
  let keyCalled = false;
  const material = new Uint8Array(48); // node-48: name16 (all zero) | hmac16 | aes16
  material.set(enc.encode("0123456789abcdef"), 16);
  material.set(enc.encode("0123456789abcdef"), 32);
  const key = await TicketKey.import(material, "node-48");
  const keyCb: TicketKeyCallback = (_conn, _name, _iv, encrypt) => {
    keyCalled = true;
    const ret = renew === -1 ? 0 : renew ? 2 : 1;
    return encrypt ? { ret, key, iv: new Uint8Array(16) } : { ret, key };
  };
  const ctx = await SslContext.create({
    sessionCacheSize: 0, // SSL_SESS_CACHE_OFF: resumption only from tickets
    random: stableLengthRandom, // a 4-byte age_add, so TLS 1.3 tickets are always 224
    ticketKeyCb: idx >= 8 ? keyCb : null,
    genCb: (conn) => {
      flags.gen = 1;
      conn.session!.setTicketAppData("Hello World");
      return 1;
    },
    decCb: (_conn, ss, _name, status) => {
      flags.dec = 1;
      if (status === EMPTY) return IGNORE_RENEW;
      if (status !== SUCCESS && status !== SUCCESS_RENEW) return ABORT;
      const app = ss?.getTicketAppData();
      if (!app || dec.decode(app) !== "Hello World") return ABORT;
      if (keyCalled) return status === SUCCESS ? USE : USE_RENEW;
      return decRet;
    },
  });
  return { ctx, flags };
}
