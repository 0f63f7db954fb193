/**
 * Private: the `demo` command, a short narrated tour of sealing and opening under every layout.
 * Its output is the same on every run (fresh random keys, but only sizes and statuses shown).
 *
 * @module
 */

import { ticketStatusName } from "../server/names.ts";
import { encodeSession } from "../session/codec.ts";
import { cipherName } from "../session/codec.ts";
import type { SslSession } from "../session/ssl_session.ts";
import { TLS1_2_VERSION, TLS1_3_VERSION } from "../session/versions.ts";
import { sameBytes } from "../ticket/bytes.ts";
import type { TicketOpenResult } from "../ticket/sealer.ts";
import { TICKET_KEY_LAYOUTS, TicketKey } from "../ticket/ticket_key.ts";
import { parseArgs } from "./_args.ts";
import { usageError } from "./_errors.ts";
import { type CliIo, utf8 } from "./_io.ts";
import { activeKeys, LAYOUT_NAMES } from "./_keys.ts";
import { openWith } from "./_commands.ts";
import { handshakeDemo, socketDemo } from "./_handshake_demo.ts";

/** The 80 key bytes 00..4f libssl 3.0 sealed the two tickets below with (openssl-80 layout). */
const VECTOR_KEY = Uint8Array.from({ length: 80 }, (_, i) => i);

/** A TLS 1.2 ticket libssl 3.0 sealed under VECTOR_KEY (ECDHE-RSA-AES256-GCM-SHA384). */
const TLS12_TICKET = Uint8Array.fromHex(
  "000102030405060708090a0b0c0d0e0fa7a3281f357aa2089a694076f1ef43da" +
    "d8bfab6d5399fab81ebc2611ac4397418252bfccbdc5c2bad8b5a3492674bab9" +
    "bcf357f2bd9c6c2658993f05383280fcb7c23e6276ea6239f3dfa61292272f3e" +
    "482ec0bc61e2a7871567a97889e4c179448729a4a86a9d4cc8705ea9233a1d7f" +
    "21d3a60b2937c3a81cc891cbdd845a595e397bafb5e6818743cc9336b1ed296d" +
    "1f10469ccd4725c05830226afaa77a80",
);

/** A TLS 1.3 ticket libssl 3.0 sealed under VECTOR_KEY (TLS_AES_256_GCM_SHA384). */
const TLS13_TICKET = Uint8Array.fromHex(
  "000102030405060708090a0b0c0d0e0f074a065de1d51a54dd8317f458870a65" +
    "0ac38bf6658cc0241068e42afdd7371d6adeee58a8a8ce8d1c43fe7dbf51867f" +
    "7fccf8ec5ca3a3d37e697ecc5615bf28c3a9d64060bb3cf8dc8751eaec94dfb1" +
    "b4a748f33cc3c5773683eef589b9ba893d18b99ead210385255adef618d34d2f" +
    "6ec1a05ff2910b234042fb1a8d0ce7141a7781896d9121e1d9bcc27db649e579" +
    "c8f72bc7326f82df6fbb22f544f8f35d071f6592f658d5245594454d9343a558" +
    "722f2fa3f351e25ac9a6eb6cf41d2efd",
);

function outcome(r: TicketOpenResult): string {
  const name = ticketStatusName(r.status) ?? String(r.status);
  return r.failure ? `${name} (${r.failure})` : name;
}

function describeSession(s: SslSession): string {
  const version = s.sslVersion === TLS1_3_VERSION
    ? "TLSv1.3"
    : s.sslVersion === TLS1_2_VERSION
    ? "TLSv1.2"
    : `0x${s.sslVersion.toString(16)}`;
  const secret = s.sslVersion === TLS1_3_VERSION ? "resumption PSK" : "master key";
  const app = s.getTicketAppData();
  return `${version} ${
    cipherName(s.cipherId) ?? s.cipherId
  }, ${s.masterKey.length}-byte ${secret}` +
    (app ? `, app data "${new TextDecoder().decode(app)}"` : "");
}

/**
 * `demo`: prints the tour to standard output.
 *
 * @example
 * ```ts
 * import { demo } from "./_demo.ts";
 * import { resolveIo } from "./_io.ts";
 * let out = "";
 * await demo([], resolveIo({ stdout: (b) => void (out += new TextDecoder().decode(b)) }));
 * console.log(out.includes("SUCCESS")); // true
 * ```
 *
 * @param args Arguments after `demo` (none).
 * @param io Standard streams.
 * @returns 0.
 */
export async function demo(args: readonly string[], io: CliIo): Promise<number> {
  const { positionals } = parseArgs("demo", args, {});
  if (positionals.length > 0) throw usageError(`demo takes no arguments, got "${positionals[0]}"`);
  const lines: string[] = [];
  const say = (line = "") => lines.push(line);

  say("session-tickets demo");
  say();
  say("Part A: loopback handshakes through SslContext and ServerConnection");
  say();
  await handshakeDemo(say);
  say();
  say("Part B: ticket formats and key layouts");
  say();
  say("1. Tickets libssl 3.0 sealed under the 80 key bytes 00..4f (layout openssl-80):");
  const vectorKey = await TicketKey.import(VECTOR_KEY, "openssl-80");
  let session: SslSession | null = null;
  for (const [label, ticket] of [["TLS 1.2", TLS12_TICKET], ["TLS 1.3", TLS13_TICKET]] as const) {
    const r = await vectorKey.open(ticket);
    say(
      `   ${label} ticket, ${ticket.length} bytes -> ${outcome(r)}` +
        (r.session ? `: ${describeSession(r.session)}` : ""),
    );
    session ??= r.session;
  }
  if (session === null) throw new Error("the OpenSSL test vector did not open");
  const der = encodeSession(session);

  say();
  say(
    `2. The TLS 1.2 session (${der.length} bytes of DER) sealed and opened under a fresh key in each layout:`,
  );
  for (const layout of LAYOUT_NAMES) {
    const spec = TICKET_KEY_LAYOUTS[layout];
    const count = spec.base64Lines ? 3 : 1;
    const made: TicketKey[] = [];
    for (let i = 0; i < count; i++) {
      made.push(
        await TicketKey.generate({ format: spec.format, aesBits: spec.aesBits, extractable: true }),
      );
    }
    const file = await TicketKey.exportAll(made, layout);
    const keys = await TicketKey.importAll(
      spec.base64Lines ? new TextDecoder().decode(file) : file,
      layout,
    );
    file.fill(0);
    const ticket = await activeKeys(keys).sealer.seal(session);
    const r = await openWith(keys, ticket);
    const same = r.session !== null && sameBytes(encodeSession(r.session), der);
    const size = spec.base64Lines
      ? `${count} lines of ${spec.bytes} bytes`
      : `${spec.bytes}-byte key`;
    say(
      `   ${layout.padEnd(11)} ${size.padEnd(20)} ${
        spec.fields.padEnd(20)
      } ${ticket.length}-byte ticket` +
        `${spec.base64Lines ? " (line 2 seals)" : ""} -> ${outcome(r)}${
          same ? ", same session" : ""
        }`,
    );
  }

  say();
  say(
    "3. Layouts put the same 48 bytes in different places (nginx: name|aes|hmac, Node: name|hmac|aes):",
  );
  const nginx = await TicketKey.generate({ format: "openssl", aesBits: 128, extractable: true });
  const nginxFile = await nginx.export("nginx-48");
  const ticket = await nginx.seal(session);
  const misread = await TicketKey.import(nginxFile, "node-48");
  say(
    `   a ticket sealed with an nginx-48 file, opened with that file read as node-48 -> ${
      outcome(await misread.open(ticket))
    }`,
  );
  const node = await (await TicketKey.import(nginxFile, "nginx-48", { extractable: true }))
    .export("node-48");
  const converted = await TicketKey.import(node, "node-48");
  say(
    `   the same ticket, opened with the file after convert --from nginx-48 --to node-48 -> ${
      outcome(await converted.open(ticket))
    }`,
  );
  nginxFile.fill(0);
  node.fill(0);

  say();
  say("4. Tickets that do not open:");
  const tampered = ticket.slice();
  tampered[tampered.length - 1] ^= 1;
  say(
    `   one flipped bit in the ${ticket.length}-byte ticket -> ${
      outcome(await nginx.open(tampered))
    }`,
  );
  const other = await TicketKey.generate({ format: "openssl", aesBits: 128 });
  say(`   the ticket opened with another key -> ${outcome(await other.open(ticket))}`);
  say(`   an empty ticket -> ${outcome(await nginx.open(new Uint8Array(0)))}`);
  say();
  say("Part C: a real socket: this module's TLS 1.3 server (listenTls) and Deno's own TLS clients");
  say();
  await socketDemo(say);
  say();
  say(
    'Next: "keygen --layout nginx-80 --out ticket.key", then "seal" and "open"; "--help" lists all.',
  );
  await io.stdout(utf8(lines.join("\n") + "\n"));
  return 0;
}
