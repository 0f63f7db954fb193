/**
 * Private: the `"openssl"` ticket format of `ssl/statem/statem_srvr.c:construct_stateless_ticket`
 * and `ssl/t1_lib.c:tls_decrypt_ticket`,
 * `key_name[16] | iv[16] | AES-CBC(PKCS#7) ciphertext | HMAC-SHA256(key_name | iv | ciphertext)`.
 *
 * @module
 */

import type { TicketStatus } from "./status.ts";
import { isOperationError } from "./_bytes.ts";
import { asBufferBytes, constantTimeEqual } from "./bytes.ts";
import { failed, type OpenCounters, opened, type OpenFinish } from "./_open.ts";

/** Bytes in front of the ciphertext: key name and IV. */
export const CBC_HEADER_LENGTH = 32;
/** CBC IV length (`EVP_MAX_IV_LENGTH`). */
export const CBC_IV_LENGTH = 16;
/** HMAC-SHA256 output length (`mlen`). */
export const MAC_LENGTH = 32;

/**
 * Seals `plaintext`: one output buffer holds name, IV (drawn in place), ciphertext and MAC.
 * The ciphertext length is known in advance: PKCS#7 always adds 1..16 bytes.
 */
export async function cbcSeal(
  aesKey: CryptoKey,
  hmacKey: CryptoKey,
  name: Uint8Array<ArrayBuffer>,
  plaintext: Uint8Array<ArrayBuffer>,
  iv: Uint8Array | undefined,
): Promise<Uint8Array<ArrayBuffer>> {
  const ctLength = plaintext.length - (plaintext.length % 16) + 16;
  const macOffset = CBC_HEADER_LENGTH + ctLength;
  const out = new Uint8Array(macOffset + MAC_LENGTH);
  out.set(name, 0);
  const ivView = out.subarray(16, CBC_HEADER_LENGTH);
  if (iv === undefined) crypto.getRandomValues(ivView);
  else ivView.set(iv);
  const ct = await crypto.subtle.encrypt({ name: "AES-CBC", iv: ivView }, aesKey, plaintext);
  out.set(new Uint8Array(ct), CBC_HEADER_LENGTH);
  const mac = await crypto.subtle.sign("HMAC", hmacKey, out.subarray(0, macOffset));
  out.set(new Uint8Array(mac), macOffset);
  return out;
}

/**
 * Opens a ticket whose key name already matched and whose length is within
 * `MIN_TICKET_LENGTH..MAX_TICKET_LENGTH`, with `tls_decrypt_ticket`'s checks 8 to 12 in order.
 * The MAC is checked (constant-time) before anything is decrypted.
 */
export async function cbcOpen<R>(
  aesKey: CryptoKey,
  hmacKey: CryptoKey,
  ticket: Uint8Array,
  success: TicketStatus,
  counters: OpenCounters | null,
  finish: OpenFinish<R>,
): Promise<R> {
  let eticklen = ticket.length;
  // check 8: eticklen <= 16 + ivlen + mlen
  if (eticklen <= CBC_HEADER_LENGTH + MAC_LENGTH) {
    return finish(failed(ticket, eticklen, "tooShort", counters));
  }
  const t = asBufferBytes(ticket);
  // check 9: eticklen -= mlen; HMAC over etick[0..eticklen]
  eticklen -= MAC_LENGTH;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, t.subarray(0, eticklen)));
  // check 10: CRYPTO_memcmp
  if (!constantTimeEqual(mac, t.subarray(eticklen, eticklen + MAC_LENGTH))) {
    return finish(failed(ticket, eticklen, "badMac", counters));
  }
  // check 11: eticklen -= 16 + ivlen; decrypt etick[32..]
  eticklen -= CBC_HEADER_LENGTH;
  // check 12: DecryptFinal fails on a partial block or bad padding
  if (eticklen % 16 !== 0) return finish(failed(ticket, eticklen, "badPadding", counters));
  let plaintext: ArrayBuffer;
  try {
    plaintext = await crypto.subtle.decrypt(
      { name: "AES-CBC", iv: t.subarray(16, CBC_HEADER_LENGTH) },
      aesKey,
      t.subarray(CBC_HEADER_LENGTH, CBC_HEADER_LENGTH + eticklen),
    );
  } catch (e) {
    if (isOperationError(e)) return finish(failed(ticket, eticklen, "badPadding", counters));
    throw e;
  }
  // The plaintext came from >= 16 bytes of ciphertext, so keyname_len is 16.
  return finish(opened(ticket, plaintext, success, counters));
}
