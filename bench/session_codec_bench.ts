// DER codec cost: the plaintext side of every seal (encode) and open (decode).
import { decodeSession, encodeSession } from "../src/session/codec.ts";
import { TLS12_DER, TLS13_DER } from "../tests/_vectors.ts";

const tls12 = decodeSession(TLS12_DER);
const tls13 = decodeSession(TLS13_DER);

Deno.bench("encodeSession TLS 1.2 (107 B)", { group: "encode" }, () => {
  encodeSession(tls12);
});
Deno.bench("encodeSession TLS 1.3 (143 B)", { group: "encode" }, () => {
  encodeSession(tls13);
});
Deno.bench("decodeSession TLS 1.2 (107 B)", { group: "decode" }, () => {
  decodeSession(TLS12_DER);
});
Deno.bench("decodeSession TLS 1.3 (143 B)", { group: "decode" }, () => {
  decodeSession(TLS13_DER);
});
