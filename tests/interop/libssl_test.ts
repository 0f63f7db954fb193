/**
 * Interop with libssl itself: `libssl_peer.c` (compiled here with `gcc ... -lssl -lcrypto`) runs
 * an OpenSSL server and client over a BIO pair. The server holds 80 bytes of ticket keys
 * (`SSL_CTX_set_tlsext_ticket_keys`, `ssl/s3_lib.c:ssl3_ctx_ctrl`) and the man page's
 * `gen_cb`/`dec_cb` (`SSL_CTX_set_session_ticket_cb`), the setup of OpenSSL's
 * `test/sslapitest.c:test_ticket_callbacks` and `test/ssl-tests/27-ticket-appdata.cnf.in`.
 *
 * (a) Tickets libssl seals (`ssl/statem/statem_srvr.c:construct_stateless_ticket`) open here with
 *     `TicketKey.import(keys, "openssl-80")`: SUCCESS, the client's master key, gen_cb's app data.
 * (b) Tickets sealed here, with app data set through our API, are resumed by libssl: dec_cb sees
 *     SUCCESS (TLS 1.2) / SUCCESS_RENEW (TLS 1.3, the default-key path of
 *     `ssl/t1_lib.c:tls_decrypt_ticket`), our app data and master key; `SSL_session_reused` is 1.
 * Negative controls: a flipped byte and a wrong key give NO_DECRYPT; an expired session decrypts
 * (SUCCESS*) but `ssl/ssl_sess.c:ssl_get_prev_session` refuses it: a full handshake every time.
 *
 * Ignored, with the reason printed, when gcc, libssl-dev or the openssl tool is missing.
 */
import assert from "node:assert/strict";
import { encodeSession, sessionToPem } from "../../src/session/codec.ts";
import { TicketKey } from "../../src/ticket/ticket_key.ts";
import { TicketStatus } from "../../src/ticket/status.ts";
import { makeCertDir } from "./_openssl.ts";
import {
  clientSessionFor,
  compileLibsslPeer,
  flipByte,
  missing,
  nowSeconds,
  parseEvents,
  type PeerEvent,
  randomBytes,
  run,
  serverSession,
  utf8,
} from "./_peers.ts";

const why = await missing(["libssl", "openssl"]);
if (why !== null) console.warn(`libssl_test: skipping (CI installs these): ${why}`);

type Version = "1.2" | "1.3";

/** Events of one kind. */
const of = (events: PeerEvent[], kind: string) => events.filter((e) => e.kind === kind);

for (const version of ["1.2", "1.3"] as Version[]) {
  const tls13 = version === "1.3";
  const wire = tls13 ? "0304" : "0303";
  const suite = tls13 ? "1302" : "c030";

  Deno.test({
    name: `libssl TLS ${version}: tickets libssl seals open here; tickets sealed here resume`,
    ignore: why !== null,
  }, async (t) => {
    const peer = await compileLibsslPeer();
    const certs = await makeCertDir("openssl", "rsa");
    try {
      const keys = randomBytes(80);
      const key = await TicketKey.import(keys, "openssl-80");
      const nameHex = keys.subarray(0, 16).toHex();
      // Same key name, other HMAC and AES keys: reaches the MAC check of tls_decrypt_ticket.
      const wrongKeys = keys.slice();
      wrongKeys.set(randomBytes(64), 16);
      const wrongKey = await TicketKey.import(wrongKeys, "openssl-80");
      const otherName = await TicketKey.import(randomBytes(80), "openssl-80");

      /** Runs the BIO-pair handshake; `session` is the client session to resume. */
      const pair = async (appData: string, session?: Parameters<typeof sessionToPem>[0]) => {
        const args = ["pair", certs.certPath, certs.keyPath, keys.toHex(), version, appData];
        if (session !== undefined) {
          const path = `${certs.dir}/sess_in.pem`;
          await Deno.writeTextFile(path, sessionToPem(session));
          args.push(path);
        }
        const r = await run(peer.bin, args);
        assert.equal(r.code, 0, `libssl_peer failed:\n${r.stdout}${r.stderr}`);
        const events = parseEvents(r.stdout);
        const results = of(events, "result");
        assert.equal(results.length, 1, r.stdout);
        return { events, result: results[0].fields };
      };

      await t.step(
        "(a) libssl's tickets open here with SUCCESS, its master key and gen_cb's app data",
        async () => {
          const appData = `libssl gen_cb TLS ${version}`;
          const { events, result } = await pair(appData);
          assert.equal(result.reused, "0");
          assert.equal(result.appdata, utf8(appData).toHex());
          // TLS 1.2: an OpenSSL client sends an empty session_ticket extension, so dec_cb sees
          // EMPTY (3); TLS 1.3: no pre_shared_key, no dec_cb (ssl/statem/extensions_srvr.c).
          assert.deepEqual(
            of(events, "dec").map((e) => e.fields.status),
            tls13 ? [] : [String(TicketStatus.EMPTY)],
          );
          // gen_cb once per ticket: 1 in TLS 1.2, num_tickets = 2 in TLS 1.3.
          const gens = of(events, "gen");
          assert.equal(gens.length, tls13 ? 2 : 1);
          for (const g of gens) assert.equal(g.fields.appdata, utf8(appData).toHex());
          const tickets = of(events, "ticket");
          assert.equal(tickets.length, tls13 ? 2 : 1);
          for (const { fields } of tickets) {
            assert.equal(fields.version, wire);
            assert.equal(fields.cipher, suite);
            const ticket = Uint8Array.fromHex(fields.hex);
            const opened = await key.open(ticket);
            assert.equal(opened.status, TicketStatus.SUCCESS);
            assert.equal(opened.keyName.toHex(), nameHex);
            const s = opened.session!;
            assert.equal(s.masterKey.toHex(), fields.master_key);
            assert.equal(s.masterKey.length, 48);
            assert.deepEqual(s.getTicketAppData(), utf8(appData));
            assert.equal(s.sslVersion, parseInt(wire, 16));
            assert.equal(s.cipherId, parseInt(suite, 16));
            assert.equal(s.timeout, 7200);
            assert.equal(s.sessionIdContext.length, 0);
            assert.equal(s.kexGroup, 0x1d);
            assert.equal(s.flags, tls13 ? 0 : 1); // EMS in TLS 1.2 only
            assert.equal(s.sessionId.length, tls13 ? 32 : 0);
            assert.ok(Math.abs(s.time - nowSeconds()) < 60);
            // The plaintext is a fixed point of our codec: i2d(d2i(x)) == x (ssl/ssl_asn1.c).
            const plain = (await key.openBytes(ticket)).plaintext!;
            assert.equal(encodeSession(s).toHex(), plain.toHex());
            assert.equal(ticket.length, 16 + 16 + 16 * Math.ceil((plain.length + 1) / 16) + 32);
            // And here, the controls: damaged, wrong secrets, unknown name.
            const flipped = await key.open(flipByte(ticket, 40));
            assert.equal(flipped.status, TicketStatus.NO_DECRYPT);
            assert.equal(flipped.failure, "badMac");
            const wrong = await wrongKey.open(ticket);
            assert.equal(wrong.status, TicketStatus.NO_DECRYPT);
            assert.equal(wrong.failure, "badMac");
            const other = await otherName.open(ticket);
            assert.equal(other.status, TicketStatus.NO_DECRYPT);
            assert.equal(other.failure, "unknownKey");
          }
        },
      );

      await t.step(
        "(b) a ticket sealed here resumes in libssl; dec_cb sees SUCCESS and our app data",
        async () => {
          const appData = `sealed here TLS ${version}`;
          const session = serverSession({ version, appData });
          const ticket = await key.seal(session);
          const { events, result } = await pair("", await clientSessionFor(session, ticket));
          const decs = of(events, "dec");
          assert.equal(decs.length, 1);
          assert.deepEqual(decs[0].fields, {
            status: String(tls13 ? TicketStatus.SUCCESS_RENEW : TicketStatus.SUCCESS),
            keyname: nameHex,
            appdata: utf8(appData).toHex(),
            master_key: session.masterKey.toHex(),
            version: wire,
            cipher: suite,
          });
          assert.equal(result.reused, "1");
          assert.equal(result.version, tls13 ? "TLSv1.3" : "TLSv1.2");
          assert.equal(result.cipher, suite);
          // The resumed session carries the ticket's app data (27-ticket-appdata.cnf.in).
          assert.equal(result.appdata, utf8(appData).toHex());
          const gens = of(events, "gen");
          const tickets = of(events, "ticket");
          if (!tls13) {
            // USE: no renewal in TLS 1.2, so neither gen_cb nor a NewSessionTicket.
            assert.equal(gens.length, 0);
            assert.equal(tickets.length, 0);
          } else {
            // USE_RENEW: exactly one ticket; ssl_session_dup carried our app data into it.
            assert.equal(gens.length, 1);
            assert.equal(gens[0].fields.appdata, utf8(appData).toHex());
            assert.equal(tickets.length, 1);
            const renewed = await key.open(Uint8Array.fromHex(tickets[0].fields.hex));
            assert.equal(renewed.status, TicketStatus.SUCCESS);
            assert.deepEqual(renewed.session!.getTicketAppData(), utf8(appData));
            assert.equal(renewed.session!.masterKey.toHex(), tickets[0].fields.master_key);
            assert.notEqual(renewed.session!.masterKey.toHex(), session.masterKey.toHex());
          }
        },
      );

      /** A resumption attempt that must end in a full handshake with dec_cb status `status`. */
      const fullHandshake = async (
        ticket: Uint8Array,
        session: ReturnType<typeof serverSession>,
        status: number,
      ) => {
        const { events, result } = await pair("fresh", await clientSessionFor(session, ticket));
        const decs = of(events, "dec");
        assert.equal(decs.length, 1);
        assert.equal(decs[0].fields.status, String(status));
        assert.equal(decs[0].fields.keyname, ticket.subarray(0, 16).toHex());
        assert.equal(result.reused, "0");
        // A full handshake issues fresh tickets carrying gen_cb's app data.
        assert.equal(result.appdata, utf8("fresh").toHex());
        assert.equal(of(events, "ticket").length, tls13 ? 2 : 1);
        return decs[0].fields;
      };

      await t.step(
        "negative: a flipped ciphertext byte gives NO_DECRYPT and a full handshake",
        async () => {
          const session = serverSession({ version, appData: "flipped" });
          const ticket = flipByte(await key.seal(session), 40);
          const dec = await fullHandshake(ticket, session, TicketStatus.NO_DECRYPT);
          assert.equal(dec.appdata, "-");
          assert.equal(dec.master_key, "-");
        },
      );

      await t.step(
        "negative: a ticket sealed under another key gives NO_DECRYPT and a full handshake",
        async () => {
          const session = serverSession({ version, appData: "wrong key" });
          await fullHandshake(await wrongKey.seal(session), session, TicketStatus.NO_DECRYPT);
          const dec = await fullHandshake(
            await otherName.seal(session),
            session,
            TicketStatus.NO_DECRYPT,
          );
          assert.equal(dec.appdata, "-");
        },
      );

      await t.step("negative: an expired session decrypts but is not resumed", async () => {
        const session = serverSession({
          version,
          appData: "expired",
          time: nowSeconds() - 30 * 86400,
        });
        const dec = await fullHandshake(
          await key.seal(session),
          session,
          tls13 ? TicketStatus.SUCCESS_RENEW : TicketStatus.SUCCESS,
        );
        // dec_cb ran on the decrypted session; the timeout check comes after it.
        assert.equal(dec.appdata, utf8("expired").toHex());
        assert.equal(dec.master_key, session.masterKey.toHex());
      });
    } finally {
      await certs.remove();
      await peer.remove();
    }
  });
}
