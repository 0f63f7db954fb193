/**
 * Private: the narrated handshakes of `demo`: TLS 1.2 and TLS 1.3 loopback handshakes driven
 * through `SslContext` / `ServerConnection`, with a `gen_cb` that sets app data and a `dec_cb`
 * whose every return value is tried on the same ticket; then real TLS 1.3 handshakes on a
 * socket, between `listenTls` and Deno's own TLS clients.
 *
 * @module
 */

import { TlsAlert } from "../server/alert.ts";
import { DecryptTicketReturn } from "../server/callbacks.ts";
import { alertName, decryptTicketReturnName, ticketStatusName } from "../server/names.ts";
import type { ClientHello, ConnectionCounters, IssuedTicket } from "../server/server_connection.ts";
import { SslContext } from "../server/ssl_context.ts";
import { TLS1_2_VERSION, TLS1_3_VERSION } from "../session/versions.ts";
import type { TlsConnection } from "../tls/connection.ts";
import type { HandshakeInfo } from "../tls/handshake.ts";
import { listenTls } from "../tls/listener.ts";
import { selfSignedCertificate } from "./_self_signed.ts";
import { defaultDecReturn } from "./_serve.ts";

const text = (b: Uint8Array | null) => (b ? `"${new TextDecoder().decode(b)}"` : "none");
const statusText = (status: number) => `${ticketStatusName(status) ?? "?"} (${status})`;
const returnText = (ret: number) => `${decryptTicketReturnName(ret) ?? "?"} (${ret})`;

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
      const ret = decReturn ?? defaultDecReturn(status);
      say(
        `     dec_cb: status ${statusText(status)}, keyname_len ${keyName.length}, ` +
          `app data ${text(session?.getTicketAppData() ?? null)} -> returns ${returnText(ret)}`,
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
      say(`     -> fatal alert ${e.alert} (${alertName(e.alert) ?? "?"}): handshake fails`);
      return [];
    }
  };

  say("TLS 1.2 (ECDHE-RSA-AES256-GCM-SHA384), ticket keys 00..4f set on the SslContext");
  say("  1. Fresh connection: the client sends an empty session_ticket extension.");
  const hello12 = { version: TLS1_2_VERSION, extendedMasterSecret: true, cipherSuites: [0xc030] };
  const [first] = await run({ ...hello12, sessionTicket: new Uint8Array(0) }, 0xc030);
  say("  2. The client comes back with that ticket. dec_cb's every return value, in turn:");
  for (const ret of [null, ...Object.values(DecryptTicketReturn)]) {
    decReturn = ret;
    if (ret !== null) say(`   dec_cb forced to ${decryptTicketReturnName(ret)}:`);
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
  const issued13 = await run({ version: TLS1_3_VERSION, cipherSuite: 0x1302 }, 0x1302);
  say("  2. The client offers the first ticket as its PSK identity. dec_cb's every return value:");
  const psk = {
    identities: [{ identity: issued13[0].message.ticket, obfuscatedTicketAge: 1000 }],
    binders: [new Uint8Array(48)],
  };
  for (const ret of [null, ...Object.values(DecryptTicketReturn)]) {
    decReturn = ret;
    if (ret !== null) say(`   dec_cb forced to ${decryptTicketReturnName(ret)}:`);
    await run(
      { version: TLS1_3_VERSION, cipherSuite: 0x1302, pskKeyExchangeModes: [1], preSharedKey: psk },
      0x1302,
    );
  }
}

/** What the server saw of one connection. */
interface ServerSide {
  info: HandshakeInfo | null;
  counters: ConnectionCounters;
  error: string | null;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Answers one HTTP/1.x request with a short page and close_notify. */
async function answer(conn: TlsConnection, info: HandshakeInfo): Promise<void> {
  const reader = conn.readable.getReader();
  let request = "";
  const dec = new TextDecoder();
  while (!request.includes("\r\n\r\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    request += dec.decode(value, { stream: true });
  }
  reader.releaseLock();
  const body = info.resumed ? "resumed\n" : "full handshake\n";
  const writer = conn.writable.getWriter();
  await writer.write(
    new TextEncoder().encode(
      "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n" +
        `content-length: ${body.length}\r\n\r\n${body}`,
    ),
  );
  await writer.close(); // close_notify
}

/**
 * Runs real TLS 1.3 handshakes on a loopback socket: `listenTls` with a fresh self-signed
 * certificate, then `Deno.connectTls` twice and `fetch` (through one `Deno.createHttpClient`)
 * twice, narrating each handshake as the server saw it. Without network permission for
 * 127.0.0.1 it says so and returns.
 *
 * @example
 * ```ts
 * import { socketDemo } from "./_handshake_demo.ts";
 * const lines: string[] = [];
 * await socketDemo((line = "") => void lines.push(line));
 * console.log(lines.length > 0); // true
 * ```
 */
export async function socketDemo(say: (line?: string) => void): Promise<void> {
  const net = await Deno.permissions.query({ name: "net", host: "127.0.0.1" });
  if (net.state !== "granted") {
    say("  skipped: it needs --allow-net=127.0.0.1 (deno task demo grants it)");
    return;
  }
  const { certPem, keyPem } = await selfSignedCertificate();
  let sessions = 0;
  const context = await SslContext.create({
    genCb: (conn) => {
      const s = conn.session!;
      if (s.getTicketAppData() === null) s.setTicketAppData(`session ${++sessions}`);
      return 1;
    },
    decCb: (_conn, _session, _keyName, status) => defaultDecReturn(status),
  });
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: certPem,
    key: keyPem,
    context,
    alpnProtocols: ["http/1.1"],
    handshakeTimeoutMs: 5000,
  });
  const port = listener.addr.port;
  const waiting: ((s: ServerSide) => void)[] = [];
  const seen: ServerSide[] = [];
  const report = (s: ServerSide) => {
    const next = waiting.shift();
    if (next) next(s);
    else seen.push(s);
  };
  const nextServerSide = () =>
    seen.length > 0
      ? Promise.resolve(seen.shift()!)
      : new Promise<ServerSide>((r) => waiting.push(r));
  const handled: Promise<void>[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      handled.push((async () => {
        try {
          const info = await conn.handshake();
          report({ info, counters: { ...conn.engine.counters }, error: null });
          await answer(conn, info);
        } catch (e) {
          report({
            info: null,
            counters: { ...conn.engine.counters },
            error: e instanceof Error ? e.message : String(e),
          });
        } finally {
          await conn.close().catch(() => {});
        }
      })());
    }
  })();

  const narrate = (side: ServerSide) => {
    const i = side.info;
    if (i === null) {
      say(`     server: the handshake failed: ${side.error}`);
      return;
    }
    say(
      `     server: ${i.resumed ? `resumed (PSK identity ${i.pskIdentity})` : "full handshake"}, ` +
        `${i.cipherSuite}, ${i.group}` +
        (i.signatureScheme ? `, CertificateVerify ${i.signatureScheme}` : "") +
        `, ALPN ${i.alpnProtocol ?? "none"}`,
    );
    if (i.decCbCalls.length === 0) say("     dec_cb: not called (the client offered no ticket)");
    for (const c of i.decCbCalls) {
      say(
        `     dec_cb: status ${statusText(c.status)}, keyname_len ${c.keyNameLength} ` +
          `-> returns ${c.ret === null ? "nothing usable" : returnText(c.ret)}`,
      );
    }
    const app = i.session?.getTicketAppData() ?? null;
    say(
      `     gen_cb: ${plural(side.counters.genCb, "call")}; ${
        plural(i.ticketsSent, "NewSessionTicket")
      } sent; the session's app data ${text(app)}`,
    );
  };
  const viaConnectTls = async () => {
    const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [certPem] });
    await conn.write(
      new TextEncoder().encode("GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
    );
    await new Response(conn.readable).text();
    try {
      conn.close();
    } catch {
      // Already closed with its readable.
    }
  };

  try {
    say(
      "A fresh ECDSA P-256 key and a self-signed certificate for localhost and 127.0.0.1, made",
    );
    say("with Web Crypto and the DER writer; listenTls on 127.0.0.1 (an ephemeral port) with a");
    say('random ticket key, a gen_cb that sets app data "session N" when a session begins, and a');
    say("dec_cb that uses every ticket that opens.");
    say("  1. Deno.connectTls (caCerts: the certificate), first connection:");
    await viaConnectTls();
    const first = await nextServerSide();
    narrate(first);
    say("  2. Deno.connectTls again:");
    await viaConnectTls();
    const second = await nextServerSide();
    narrate(second);
    if (second.info?.resumed) say("     -> Deno.connectTls resumed the first session");
    else if (second.info?.decCbCalls.length === 0) {
      say(
        `     -> no ticket offered: Deno.connectTls keeps none of the ${
          plural(first.info?.ticketsSent ?? 0, "ticket")
        } it received, so every connection is a full handshake`,
      );
    }
    say("  3. fetch through one Deno.createHttpClient (caCerts, poolMaxIdlePerHost 0: a new");
    say("     connection per request), first request:");
    const client = Deno.createHttpClient({ caCerts: [certPem], poolMaxIdlePerHost: 0 });
    try {
      await (await fetch(`https://127.0.0.1:${port}/`, { client })).text();
      narrate(await nextServerSide());
      say("  4. the same client, second request:");
      await (await fetch(`https://127.0.0.1:${port}/`, { client })).text();
      const fourth = await nextServerSide();
      narrate(fourth);
      say(
        fourth.info?.resumed
          ? "     -> resumed: fetch's HttpClient keeps the tickets it receives and offers one next time"
          : "     -> not resumed: this fetch offered no ticket either",
      );
    } finally {
      client.close();
    }
  } finally {
    listener.close();
    await serving;
    await Promise.all(handled);
  }
}
