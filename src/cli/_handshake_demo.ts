/**
 * Private: the narrated handshakes of `demo`: TLS 1.2 and TLS 1.3 loopback handshakes driven
 * through `SslContext` / `ServerConnection`, with a `gen_cb` that sets app data and a `dec_cb`
 * whose every return value is tried on the same ticket.
 *
 * @module
 */

import { TlsAlert } from "../errors.ts";
import { DecryptTicketReturn } from "../server/callbacks.ts";
import type { ClientHello, IssuedTicket } from "../server/server_connection.ts";
import { SslContext } from "../server/ssl_context.ts";
import { TicketStatus } from "../ticket/status.ts";

const STATUS = [
  "FATAL_ERR_MALLOC",
  "FATAL_ERR_OTHER",
  "NONE",
  "EMPTY",
  "NO_DECRYPT",
  "SUCCESS",
  "SUCCESS_RENEW",
];
const RETURNS = ["ABORT", "IGNORE", "IGNORE_RENEW", "USE", "USE_RENEW"];
const text = (b: Uint8Array | null) => (b ? `"${new TextDecoder().decode(b)}"` : "none");

/**
 * Runs the narrated handshakes, one line of narration per call of `say`.
 *
 * @example
 * ```ts
 * import { handshakeDemo } from "./_handshake_demo.ts";
 * await handshakeDemo((line) => console.log(line));
 * ```
 */
export async function handshakeDemo(say: (line?: string) => void): Promise<void> {
  let decReturn: number | null = null; // null: the usual mapping
  const ctx = await SslContext.create({
    // The 80 key bytes 00..4f (name|hmac|aes), as in OpenSSL's test vectors: stable output.
    ticketKeys: Uint8Array.from({ length: 80 }, (_, i) => i),
    sessionCacheSize: 0,
    genCb: (conn) => {
      conn.session!.setTicketAppData("user=42");
      say(`     gen_cb: sets ticket app data "user=42" on the session being sealed`);
      return 1;
    },
    decCb: (_conn, session, keyName, status) => {
      const ret = decReturn ??
        (status === TicketStatus.SUCCESS
          ? DecryptTicketReturn.USE
          : status === TicketStatus.SUCCESS_RENEW
          ? DecryptTicketReturn.USE_RENEW
          : DecryptTicketReturn.IGNORE_RENEW);
      say(
        `     dec_cb: status ${STATUS[status]} (${status}), keyname_len ${keyName.length}, ` +
          `app data ${text(session?.getTicketAppData() ?? null)} -> returns ${
            RETURNS[ret]
          } (${ret})`,
      );
      return ret;
    },
  });
  const rms = crypto.getRandomValues(new Uint8Array(48)); // SHA-384 resumption master secret
  const tickets = (issued: IssuedTicket[]) => {
    if (issued.length === 0) say("     no NewSessionTicket sent");
    for (const t of issued) {
      const m = t.message;
      say(
        `     NewSessionTicket: ${m.ticket.length}-byte ticket, key name ${
          m.ticket.subarray(0, 4).toHex()
        }..., lifetime hint ${m.lifetime} s` + (m.tls13 ? `, nonce ${m.nonce.toHex()}` : ""),
      );
    }
  };
  const run = async (hello: ClientHello, cipherId: number) => {
    const conn = ctx.newConnection();
    try {
      const d = await conn.processClientHello(hello);
      if (!d.resumed) {
        conn.establishSession({
          cipherId,
          masterKey: new Uint8Array(48).fill(7),
          extendedMasterSecret: true,
        });
      }
      say(`     -> ${d.resumed ? "resumed" : "full handshake"}`);
      const issued = await conn.newSessionTickets({ resumptionMasterSecret: rms });
      tickets(issued);
      return issued;
    } catch (e) {
      if (!(e instanceof TlsAlert)) throw e;
      say(`     -> fatal alert ${e.alert} (internal_error): handshake fails`);
      return [];
    }
  };

  say("TLS 1.2 (ECDHE-RSA-AES256-GCM-SHA384), ticket keys 00..4f set on the SslContext");
  say("  1. Fresh connection: the client sends an empty session_ticket extension.");
  const hello12 = { version: 0x0303, extendedMasterSecret: true, cipherSuites: [0xc030] };
  const [first] = await run({ ...hello12, sessionTicket: new Uint8Array(0) }, 0xc030);
  say("  2. The client comes back with that ticket. dec_cb's every return value, in turn:");
  for (const ret of [null, 0, 1, 2, 3, 4]) {
    decReturn = ret;
    if (ret !== null) say(`   dec_cb forced to ${RETURNS[ret]}:`);
    await run({
      ...hello12,
      sessionTicket: first.message.ticket,
      sessionId: new Uint8Array(32).fill(1),
    }, 0xc030);
  }
  decReturn = null;

  say();
  say("TLS 1.3 (TLS_AES_256_GCM_SHA384), the same context");
  say("  1. Fresh connection: no pre_shared_key, so no dec_cb; two tickets (num_tickets 2).");
  const issued13 = await run({ version: 0x0304, cipherSuite: 0x1302 }, 0x1302);
  say("  2. The client offers the first ticket as its PSK identity. dec_cb's every return value:");
  const psk = {
    identities: [{ identity: issued13[0].message.ticket, obfuscatedTicketAge: 1000 }],
    binders: [new Uint8Array(48)],
  };
  for (const ret of [null, 0, 1, 2, 3, 4]) {
    decReturn = ret;
    if (ret !== null) say(`   dec_cb forced to ${RETURNS[ret]}:`);
    await run(
      { version: 0x0304, cipherSuite: 0x1302, pskKeyExchangeModes: [1], preSharedKey: psk },
      0x1302,
    );
  }
}
