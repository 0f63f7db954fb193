/**
 * The TLS 1.2 PRF (RFC 5246 §5) against `openssl kdf TLS1-PRF` vectors, the master secret and
 * key block derivations built on it (RFC 5246 §6.3, §8.1; RFC 7627 §4), and AES-GCM records
 * with explicit nonces (RFC 5246 §6.2.3.3, RFC 5288 §3): the wire layout, the additional data,
 * and bad_record_mac / record_overflow for bad records.
 *
 * @module
 */
import assert from "node:assert/strict";
import { keyBlock, masterSecret, prf, verifyData12 } from "../src/tls/prf.ts";
import { concatBytes } from "../src/ticket/bytes.ts";
import { Tls12GcmCipher } from "../src/tls/tls12_record.ts";
import { TlsAlert } from "../mod.ts";

const hex = (s: string) => Uint8Array.fromHex(s.replaceAll(":", "").toLowerCase());
const SECRET = hex("000102030405060708090a0b0c0d0e0f");
const SEED = hex("a0a1a2a3");

Deno.test("RFC 5246 §5 PRF: P_SHA256 equals openssl kdf TLS1-PRF (64 bytes, label 'test label')", () => {
  // openssl kdf -keylen 64 -kdfopt digest:SHA256 -kdfopt hexsecret:000102...0f
  //   -kdfopt hexseed:<"test label" a0a1a2a3> TLS1-PRF
  const expected = hex(
    "04:36:00:CD:DC:91:FE:3F:26:BC:07:69:F8:D8:D4:3D:24:27:E4:F9:C2:FE:33:98:A1:33:CD:84:8A:D3:76:F5:" +
      "7B:9E:40:8F:94:13:25:59:CE:87:23:37:DF:73:21:87:02:7E:68:4F:38:11:D5:0E:8B:69:E3:5D:24:AD:AA:B2",
  );
  assert.deepEqual(prf("SHA-256", SECRET, "test label", SEED, 64), expected);
  // A shorter output is a prefix (the last block truncated).
  assert.deepEqual(prf("SHA-256", SECRET, "test label", SEED, 33), expected.slice(0, 33));
});

Deno.test("RFC 5246 §5 PRF: P_SHA384 equals openssl kdf TLS1-PRF (50 bytes, a partial block)", () => {
  const expected = hex(
    "FA:53:03:64:D7:7D:02:02:86:F4:7F:B3:C9:85:77:A7:84:5E:45:F2:84:AA:BD:3C:3B:FC:9F:5B:F7:A0:4D:06:" +
      "51:A9:85:7C:CD:D7:9F:2B:65:0E:6D:ED:3A:68:D4:E9:8D:E7",
  );
  assert.deepEqual(prf("SHA-384", SECRET, "test label", SEED, 50), expected);
});

Deno.test("RFC 5246 §8.1 / RFC 7627 §4 master secret; §6.3 key block; §7.4.9 verify_data: the PRF with the RFCs' labels and seeds", () => {
  const pms = new Uint8Array(32).fill(7), cr = new Uint8Array(32).fill(1);
  const sr = new Uint8Array(32).fill(2), sessionHash = new Uint8Array(32).fill(3);
  assert.deepEqual(
    masterSecret("SHA-256", pms, { clientRandom: cr, serverRandom: sr }),
    prf("SHA-256", pms, "master secret", concatBytes([cr, sr]), 48),
  );
  assert.deepEqual(
    masterSecret("SHA-384", pms, { sessionHash }),
    prf("SHA-384", pms, "extended master secret", sessionHash, 48),
  );
  const ms = new Uint8Array(48).fill(9);
  const block = prf("SHA-256", ms, "key expansion", concatBytes([sr, cr]), 40);
  const k = keyBlock("SHA-256", ms, cr, sr, 16);
  assert.deepEqual(concatBytes([k.clientKey, k.serverKey, k.clientIv, k.serverIv]), block);
  assert.deepEqual(
    verifyData12("SHA-256", ms, "client", sessionHash),
    prf("SHA-256", ms, "client finished", sessionHash, 12),
  );
});

Deno.test("RFC 5288 §3 GCM record: explicit nonce = sequence number, AAD = seq + type + version + length; the record keeps its type", async () => {
  const key = new Uint8Array(16).fill(5), salt = hex("01020304");
  const w = await Tls12GcmCipher.create(key, salt);
  await w.seal(23, new Uint8Array(1)); // sequence 0
  const rec = await w.seal(22, new TextEncoder().encode("abc")); // sequence 1
  assert.deepEqual([...rec.subarray(0, 5)], [22, 3, 3, 0, 8 + 3 + 16]);
  assert.deepEqual([...rec.subarray(5, 13)], [0, 0, 0, 0, 0, 0, 0, 1]);
  // The same with Web Crypto directly.
  const k = await crypto.subtle.importKey("raw", key, "AES-GCM", false, ["encrypt"]);
  const nonce = hex("01020304" + "0000000000000001");
  const aad = hex("0000000000000001" + "16" + "0303" + "0003");
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: aad },
      k,
      new TextEncoder().encode("abc"),
    ),
  );
  assert.deepEqual(rec.subarray(13), ct);
  const r = await Tls12GcmCipher.create(key, salt);
  r.sequence = 1;
  const opened = await r.open(rec.subarray(0, 5), rec.subarray(5));
  assert.deepEqual([opened.type, new TextDecoder().decode(opened.content)], [22, "abc"]);
});

Deno.test("RFC 5246 §7.2.2 bad_record_mac (20): a flipped bit, a wrong sequence number, a changed type, a record shorter than nonce + tag; RFC 5246 §6.2.3 record_overflow (22)", async () => {
  const key = new Uint8Array(32).fill(1), salt = new Uint8Array(4);
  const rec = await (await Tls12GcmCipher.create(key, salt)).seal(23, new Uint8Array(10));
  const alertOf = async (header: Uint8Array, body: Uint8Array, seq = 0) => {
    const r = await Tls12GcmCipher.create(key, salt);
    r.sequence = seq;
    try {
      await r.open(header, body);
      return "ok";
    } catch (e) {
      return e instanceof TlsAlert ? e.alert : String(e);
    }
  };
  const h = rec.subarray(0, 5), b = rec.subarray(5);
  assert.equal(await alertOf(h, b), "ok");
  const flipped = b.slice();
  flipped[12] ^= 1;
  assert.equal(await alertOf(h, flipped), 20);
  assert.equal(await alertOf(h, b, 1), 20);
  assert.equal(await alertOf(Uint8Array.of(22, 3, 3, 0, b.length), b), 20);
  assert.equal(await alertOf(h, b.subarray(0, 23)), 20);
  assert.equal(await alertOf(h, new Uint8Array(16384 + 24 + 1)), 22);
});
