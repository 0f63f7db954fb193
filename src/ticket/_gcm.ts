/**
 * Private: the `"aes-256-gcm"` ticket format,
 * `key_name[16] | nonce[12] | ciphertext | tag[16]`, additional data = key_name.
 *
 * @module
 */

import type { TicketStatus } from "./status.ts";
import { isOperationError } from "./_bytes.ts";
import { asBufferBytes } from "./bytes.ts";
import { failed, type OpenCounters, opened, type OpenFinish } from "./_open.ts";

/** Bytes in front of the ciphertext: key name and nonce. */
export const GCM_HEADER_LENGTH = 28;
/** GCM nonce length. */
export const GCM_NONCE_LENGTH = 12;
/** GCM tag length: 128 bits, Web Crypto's default `tagLength`. */
export const GCM_TAG_LENGTH = 16;

/**
 * Seals `plaintext`. One output allocation: the header is written in place, the nonce is drawn
 * straight into the output, and `encrypt`'s `ciphertext | tag` is copied once behind it.
 */
export function gcmSeal(
  aesKey: CryptoKey,
  name: Uint8Array<ArrayBuffer>,
  plaintext: Uint8Array<ArrayBuffer>,
  iv: Uint8Array | undefined,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(GCM_HEADER_LENGTH + plaintext.length + GCM_TAG_LENGTH);
  out.set(name, 0);
  const nonce = out.subarray(16, GCM_HEADER_LENGTH);
  if (iv === undefined) crypto.getRandomValues(nonce);
  else nonce.set(iv);
  // One promise layer (no async wrapper); Web Crypto copies `plaintext` before returning.
  return crypto.subtle.encrypt(
    { name: "AES-GCM", iv: nonce, additionalData: name },
    aesKey,
    plaintext,
  ).then((sealed) => {
    out.set(new Uint8Array(sealed), GCM_HEADER_LENGTH);
    return out;
  });
}

/**
 * Opens a ticket whose key name already matched and whose length is within
 * `MIN_TICKET_LENGTH..MAX_TICKET_LENGTH`, resolving to `finish(result)`. A ticket with no
 * ciphertext byte is too short.
 */
export function gcmOpen<R>(
  aesKey: CryptoKey,
  ticket: Uint8Array,
  success: TicketStatus,
  counters: OpenCounters | null,
  finish: OpenFinish<R>,
): Promise<R> {
  const n = ticket.length;
  if (n <= GCM_HEADER_LENGTH + GCM_TAG_LENGTH) {
    return Promise.resolve(finish(failed(ticket, n, "tooShort", counters)));
  }
  const t = asBufferBytes(ticket);
  // One promise layer (no async wrapper, and `finish` runs inside it): the open path runs once
  // per resumption.
  return crypto.subtle.decrypt(
    {
      name: "AES-GCM",
      iv: t.subarray(16, GCM_HEADER_LENGTH),
      additionalData: t.subarray(0, 16),
    },
    aesKey,
    t.subarray(GCM_HEADER_LENGTH),
  ).then(
    (plaintext) => finish(opened(ticket, plaintext, success, counters)),
    (e) => {
      if (isOperationError(e)) return finish(failed(ticket, n, "badMac", counters));
      throw e;
    },
  );
}
