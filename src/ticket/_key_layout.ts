/**
 * Private: where the name, HMAC key and AES key sit in each product's ticket key layout.
 *
 * @module
 */

import type { TicketFormat } from "./ticket_format.ts";
import type { TicketKeyLayout } from "./ticket_key.ts";

/** One layout: total raw length and the offset of each part (-1 when absent). */
export interface LayoutSpec {
  /** Raw key length in bytes (before base64 for the text layouts). */
  length: number;
  /** Format of keys in this layout. */
  format: TicketFormat;
  /** AES key length in bytes. */
  aesLength: 16 | 32;
  /** HMAC key length in bytes (0 for GCM). */
  hmacLength: 0 | 16 | 32;
  /** Offset of the AES key. */
  aesOffset: number;
  /** Offset of the HMAC key, -1 for GCM. */
  hmacOffset: number;
  /** True for base64 text, one key per line. */
  text: boolean;
  /** Field order, for messages and docs. */
  order: string;
}

function spec(
  format: TicketFormat,
  aesLength: 16 | 32,
  hmacLength: 0 | 16 | 32,
  aesFirst: boolean,
  text = false,
): LayoutSpec {
  return {
    length: 16 + aesLength + hmacLength,
    format,
    aesLength,
    hmacLength,
    aesOffset: aesFirst ? 16 : 16 + hmacLength,
    hmacOffset: hmacLength === 0 ? -1 : aesFirst ? 16 + aesLength : 16,
    text,
    order: hmacLength === 0
      ? `name16|aes${aesLength}`
      : aesFirst
      ? `name16|aes${aesLength}|hmac${hmacLength}`
      : `name16|hmac${hmacLength}|aes${aesLength}`,
  };
}

/** Every layout by name. */
export const LAYOUTS = {
  "gcm": spec("aes-256-gcm", 32, 0, true),
  "openssl-80": spec("openssl", 32, 32, false),
  "openssl-48": spec("openssl", 16, 16, false),
  "node-48": spec("openssl", 16, 16, false),
  "nginx-48": spec("openssl", 16, 16, true),
  "nginx-80": spec("openssl", 32, 32, false),
  "haproxy-48": spec("openssl", 16, 16, true, true),
  "haproxy-80": spec("openssl", 32, 32, true, true),
} as const satisfies Record<TicketKeyLayout, LayoutSpec>;
