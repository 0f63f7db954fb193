// Sealing encodes each session into one shared scratch buffer that Web Crypto copies before
// the first await: many seals in flight at once must still each seal their own session.
import assert from "node:assert/strict";
import { encodeSession } from "../src/session/codec.ts";
import { SslSession } from "../src/session/ssl_session.ts";
import { TicketKey } from "../src/ticket/ticket_key.ts";
import { TicketKeyRing } from "../src/ticket/key_ring.ts";
import { TicketStatus } from "../src/ticket/status.ts";

const sessions = Array.from({ length: 64 }, (_, i) =>
  new SslSession({
    sslVersion: 0x0304,
    cipherId: 0x1301,
    sessionId: new Uint8Array(32).fill(i),
    masterKey: new Uint8Array(32 + (i % 17)).fill(255 - i),
    time: 1_800_000_000 + i,
    timeout: 7200,
    ticketAppData: "x".repeat(i + 1),
  }));

for (const format of ["aes-256-gcm", "openssl"] as const) {
  Deno.test(`64 seals in flight each seal their own session (${format} key and ring)`, async () => {
    const key = await TicketKey.generate({ format });
    const ring = new TicketKeyRing({ generate: false, now: () => 0 });
    ring.add(await TicketKey.generate({ format }), { state: "active" });
    for (const sealer of [key, ring]) {
      const tickets = await Promise.all(sessions.map((s) => sealer.seal(s)));
      const opened = await Promise.all(tickets.map((t) => sealer.open(t)));
      opened.forEach((r, i) => {
        assert.equal(r.status, TicketStatus.SUCCESS);
        assert.equal(encodeSession(r.session!).toHex(), encodeSession(sessions[i]).toHex());
      });
    }
  });
}
