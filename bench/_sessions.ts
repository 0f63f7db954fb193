// The sessions the benchmarks seal and open: the two OpenSSL test-vector sessions (a TLS 1.2
// one of 107 bytes of DER and a TLS 1.3 one of 143), and the TLS 1.3 one carrying a 2 KiB peer
// certificate.
import { decodeSession } from "../src/session/codec.ts";
import type { SslSession } from "../src/session/ssl_session.ts";
import { TLS12_DER, TLS13_DER } from "../tests/_vectors.ts";

const bigCert = new Uint8Array(2048 + 4);
bigCert.set([0x30, 0x82, 0x08, 0x00]); // a 2 KiB "certificate": one SEQUENCE
const withCert = decodeSession(TLS13_DER);
withCert.peerCertificate = bigCert;

/** Label and session of each benchmarked size. */
export const BENCH_SESSIONS: [string, SslSession][] = [
  ["TLS 1.2 (107 B)", decodeSession(TLS12_DER)],
  ["TLS 1.3 (143 B)", decodeSession(TLS13_DER)],
  ["2 KiB peer cert", withCert],
];
