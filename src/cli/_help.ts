/**
 * Private: the help texts of the command-line tool.
 *
 * @module
 */

import { TICKET_KEY_LAYOUTS } from "../ticket/ticket_key.ts";
import { LAYOUT_NAMES } from "./_keys.ts";
import { FLEET_HELP } from "./_fleet.ts";
import { SERVE_HELP } from "./_serve.ts";

const PRODUCTS: Record<string, string> = {
  "gcm": "this module's own AES-256-GCM tickets",
  "openssl-80": "OpenSSL 1.1.0+ SSL_CTX_set_tlsext_ticket_keys (AES-256-CBC)",
  "openssl-48": "OpenSSL 1.0.x, BoringSSL (AES-128-CBC)",
  "node-48": "Node tls ticketKeys (same bytes as openssl-48)",
  "nginx-48": "nginx ssl_session_ticket_key (AES-128-CBC)",
  "nginx-80": "nginx ssl_session_ticket_key (AES-256-CBC)",
  "haproxy-48": "HAProxy tls-ticket-keys (AES-128-CBC)",
  "haproxy-80": "HAProxy tls-ticket-keys (AES-256-CBC)",
};

function layoutTable(): string {
  return LAYOUT_NAMES.map((l) => {
    const s = TICKET_KEY_LAYOUTS[l];
    const size = s.base64Lines ? `base64 lines of ${s.bytes} bytes` : `${s.bytes} bytes`;
    return `  ${l.padEnd(11)} ${size.padEnd(26)} ${s.fields.padEnd(20)} ${PRODUCTS[l] ?? ""}`
      .trimEnd();
  }).join("\n");
}

const TOP = () =>
  `Usage: deno task cli <command> [options]
   or: deno run --allow-read --allow-write cli.ts <command> [options]

Ticket keys and session tickets for OpenSSL, nginx, HAProxy and Node servers.

Commands:
  keygen          make a fresh ticket key in a product's layout
  convert         rewrite a key file from one product's layout to another's
  open            open a ticket with a key file; print its status and session as JSON
  seal            seal a session (DER, PEM or JSON) into a ticket
  session         inspect a session (DER, PEM or JSON), or convert it to PEM or DER
  client-session  make the client session PEM that openssl s_client -sess_in resumes with
  demo            seal and open a session under every layout, narrated
  fleet           a fleet's shared key schedule: status, metrics, rotate, export
  serve           an HTTPS server on this module's TLS 1.3 server, printing each handshake

Key layouts (--layout, --from, --to); every key starts with its 16-byte name:
${layoutTable()}

FILE arguments take - for standard input or output. Binary output (keys, tickets, DER) is
refused on a terminal: use --out FILE, a redirection, or --hex. Secrets (keys, and sessions in
PEM or DER with their master key) go to a terminal only with --show-secrets; files and pipes
get them as they are. --out never replaces an existing file without --force, and never one of
the command's own inputs. Deno permissions: files need --allow-read and --allow-write, fleet
also --allow-env (SESSION_TICKETS_KEK) and --allow-net (etcd); deno task cli grants them.
Exit status: 0 done; 1 failed (unreadable or wrong file, ticket did not open); 2 usage error.
Run "<command> --help" for a command's options.
`;

const HELP: Record<string, string> = {
  fleet: FLEET_HELP,
  serve: SERVE_HELP,
  keygen: `Usage: keygen --layout L [--out FILE] [--hex] [--count N] [--force] [--show-secrets]

Makes a fresh random ticket key (crypto.subtle.generateKey) and writes it in layout L: raw
bytes for the raw layouts, base64 lines for haproxy-48 and haproxy-80.

Options:
  --layout L   the key layout (run --help for the list)
  --out FILE   write the key to FILE, mode 0600 (default: standard output)
  --hex        write a raw layout as one line of hex
  --count N    haproxy layouts: how many key lines (default 3; HAProxy uses the last 3 lines
               of the file and seals with the middle one)
  --force      overwrite an existing --out FILE (its key's tickets stop opening)
  --show-secrets
               print the key on a terminal (without --out; pipes and files need no flag)

Examples:
  deno task cli keygen --layout nginx-80 --out /etc/nginx/ticket.key
  deno task cli keygen --layout haproxy-80 --out /etc/haproxy/ticket.keys
  deno task cli keygen --layout node-48 --hex --out node.key.hex
`,
  convert:
    `Usage: convert --from L1 --to L2 [--in FILE|-]... [--out FILE|-] [--line N] [--hex] [--force]
               [--show-secrets]

Rewrites a key file from one product's layout to another's, moving the name, HMAC key and AES
key to their places (nginx-48 to node-48 swaps the AES and HMAC halves). A key keeps its size
and cipher: 48-byte keys (AES-128) do not become 80-byte keys (AES-256), and gcm keys do not
become CBC + HMAC keys.

Options:
  --from L1    the layout of the input
  --to L2      the layout to write
  --in FILE    the input key file (default: standard input); raw layouts may be hex text.
               Repeat --in to gather several keys into one haproxy file, in order
  --out FILE   write the result to FILE, mode 0600 (default: standard output)
  --line N     take only key N (from 1) of a several-key input (needed for a raw --to)
  --hex        write a raw layout as one line of hex
  --force      overwrite an existing --out FILE (never one of the --in files)
  --show-secrets
               print the key on a terminal (without --out; pipes and files need no flag)

Examples:
  deno task cli convert --from nginx-48 --to node-48 --in ticket.key --out node.key
  deno task cli convert --from nginx-80 --to haproxy-80 --in old.key --in cur.key --in next.key --out ticket.keys
  deno task cli convert --from haproxy-80 --to nginx-80 --in ticket.keys --line 2 --out ticket.key
`,
  open: `Usage: open --key FILE --layout L [--hex] [--show-secrets] [TICKET|-]

Opens a ticket with the keys in FILE, with the checks of OpenSSL's tls_decrypt_ticket, and
prints JSON: {"status", "statusName", "keyName", "failure", "session"}.
  status     OpenSSL's SSL_TICKET_* number: 3 EMPTY, 4 NO_DECRYPT, 5 SUCCESS, 6 SUCCESS_RENEW
  keyName    the ticket's first 16 bytes (its key's name), hex
  failure    why it did not open: tooShort, tooLong, unknownKey, badMac, badPadding,
             badSession; null when it opened
  session    the session (byte fields hex, master key "[redacted]"), or null
haproxy files are used as HAProxy does: the last 3 lines open tickets, and a ticket of any key
but the sealing one (the penultimate line) opens as SUCCESS_RENEW. Exit status 1 (after the
JSON) when the ticket does not open.

Options:
  --key FILE       the key file (- for standard input)
  --layout L       its layout (run --help for the list)
  --hex            the ticket is hex text
  --show-secrets   print the master key (seal and client-session need it in JSON input)
  TICKET           the ticket file (default: standard input); with --hex, also the hex
                   itself (hex digits that name no file)

Examples:
  deno task cli open --key ticket.key --layout nginx-80 ticket.bin
  deno task cli open --key ticket.keys --layout haproxy-80 --hex ticket.hex
  deno task cli open --key ticket.key --layout nginx-80 --hex 5e0f6c...
`,
  seal: `Usage: seal --key FILE --layout L [--hex] [--out FILE|-] [--force] [--iv HEX] SESSION|-

Seals a session into a ticket that a server holding the key opens: OpenSSL's format
(name | IV | AES-CBC | HMAC-SHA256) for the product layouts, name | nonce | AES-256-GCM | tag
for gcm. SESSION is DER, PEM (-----BEGIN SSL SESSION PARAMETERS-----) or the JSON that
"session --show-secrets" or "open --show-secrets" prints. A haproxy file seals with the
penultimate of its last 3 lines, as HAProxy does.

Options:
  --key FILE   the key file (- for standard input)
  --layout L   its layout (run --help for the list)
  --hex        write the ticket as hex text (default: binary)
  --out FILE   write the ticket to FILE (default: standard output)
  --force      overwrite an existing --out FILE (never the key file or SESSION)
  --iv HEX     a fixed IV (16 bytes; gcm: a 12-byte nonce), only to reproduce test vectors:
               never reuse an IV for real tickets
  SESSION      the session file (- for standard input)

Examples:
  deno task cli seal --key ticket.key --layout nginx-80 --out ticket.bin session.pem
  deno task cli open --key a.key --layout openssl-80 --show-secrets t.bin > s.json
  deno task cli seal --key b.key --layout nginx-48 --hex s.json
`,
  session: `Usage: session [--show-secrets] [--format json|pem|der] [--out FILE|-] [--force] FILE|-

Reads a session in DER, PEM or JSON with d2i_SSL_SESSION's rules and prints it as JSON (byte
fields hex, cipherName after cipherId, master key "[redacted]" unless --show-secrets), or
writes it as PEM or DER (as openssl sess_id -outform PEM/DER).

Options:
  --show-secrets     print the master key in the JSON; needed to print PEM (which holds
                     it) on a terminal
  --format F         json (default), pem or der
  --out FILE         write to FILE (default: standard output)
  --force            overwrite an existing --out FILE (never FILE itself)
  FILE               the session file (default: standard input)

Examples:
  deno task cli session session.pem
  deno task cli session --show-secrets --format pem edited.json > session.pem
`,
  "client-session": `Usage: client-session --ticket T [--hex] (--session S | --key FILE --layout L)
                      [--lifetime SECONDS] [--sid-ctx HEX] [--out FILE|-] [--force]
                      [--show-secrets]

Makes the session a client holds after it received ticket T, as PEM for
"openssl s_client -sess_in". S is the session sealed in T (DER, PEM, or JSON with the master
key); or give --key and --layout to open T and take its session. As OpenSSL's client does when
a NewSessionTicket arrives, the result carries the ticket, its lifetime hint, and the SHA-256 of
the ticket as session id (a TLS 1.2 client only notices a resumption when the server echoes a
non-empty session id). Its session-id context is --sid-ctx (default empty: s_client sets none,
and a client refuses a resumption whose context differs from its own). The server-side peer
certificate and the ticket app data are left out.

Options:
  --ticket T          the ticket file (- for standard input)
  --hex               T is hex text (a file, or the hex itself)
  --session S         the session sealed in T
  --key FILE          instead of --session: open T with this key file...
  --layout L          ...in this layout
  --lifetime SECONDS  the lifetime hint (default: the session's timeout); OpenSSL's TLS 1.3
                      client does not offer a ticket older than its hint
  --sid-ctx HEX       the client's session-id context (default: empty)
  --out FILE          write the PEM to FILE, mode 0600 (default: standard output)
  --force             overwrite an existing --out FILE (never one of the inputs)
  --show-secrets      print the PEM (it holds the master key) on a terminal

Example:
  deno task cli seal --key ticket.key --layout nginx-80 --out ticket.bin server.pem
  deno task cli client-session --ticket ticket.bin --session server.pem --out client.pem
  openssl s_client -connect 127.0.0.1:443 -tls1_2 -sess_in client.pem
`,
  demo: `Usage: demo

Opens the TLS 1.2 and TLS 1.3 tickets that libssl 3.0 sealed under the key bytes 00..4f, then
seals that session under a fresh key in every layout and opens it again, converts an nginx-48
key to node-48, and shows a tampered ticket and a wrong key failing. Needs no files. Last,
real TLS 1.3 handshakes on a loopback socket between this module's server and Deno's own TLS
clients (Deno.connectTls, fetch), with a self-signed certificate made in memory: that part
needs --allow-net=127.0.0.1 (deno task demo grants it) and is skipped without it.
`,
};

/**
 * The help text of a command, or of the whole tool for `""`.
 *
 * @example
 * ```ts
 * import { helpText } from "./_help.ts";
 * console.log(helpText("open").startsWith("Usage: open")); // true
 * ```
 *
 * @param command A command name, or `""` for the overview.
 * @returns The text, ending in a newline.
 */
export function helpText(command: string): string {
  return command === "" ? TOP() : HELP[command];
}
