// Tests for src/server/names.ts: the names of ticket statuses, dec_cb returns and alerts come
// from the keys of TicketStatus, DecryptTicketReturn and AlertDescription (issue 11: one place
// per rule), spelled as OpenSSL (SSL_TICKET_*, SSL_TICKET_RETURN_*) and RFC 8446 §6 spell them.
import assert from "node:assert/strict";
import { AlertDescription } from "../src/server/alert.ts";
import { DecryptTicketReturn } from "../src/server/callbacks.ts";
import { alertName, decryptTicketReturnName, ticketStatusName } from "../src/server/names.ts";
import { TicketStatus } from "../src/ticket/status.ts";
import { describeDecCalls } from "../src/cli/_serve.ts";

const NOT_A_NUMBER_WE_NAME = [-1, 7, 1.5, Number.NaN, 2 ** 32 + 5];

Deno.test("include/openssl/ssl.h.in SSL_TICKET_*: ticketStatusName gives each status its OpenSSL name, undefined otherwise", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6].map(ticketStatusName),
    [
      "FATAL_ERR_MALLOC",
      "FATAL_ERR_OTHER",
      "NONE",
      "EMPTY",
      "NO_DECRYPT",
      "SUCCESS",
      "SUCCESS_RENEW",
    ],
  );
  for (const [name, value] of Object.entries(TicketStatus)) {
    assert.equal(ticketStatusName(value), name);
  }
  for (const n of NOT_A_NUMBER_WE_NAME) assert.equal(ticketStatusName(n), undefined, String(n));
});

Deno.test("include/openssl/ssl.h.in SSL_TICKET_RETURN_*: decryptTicketReturnName gives each return its OpenSSL name, undefined otherwise", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4].map(decryptTicketReturnName),
    ["ABORT", "IGNORE", "IGNORE_RENEW", "USE", "USE_RENEW"],
  );
  for (const [name, value] of Object.entries(DecryptTicketReturn)) {
    assert.equal(decryptTicketReturnName(value), name);
  }
  for (const n of [5, ...NOT_A_NUMBER_WE_NAME]) {
    assert.equal(decryptTicketReturnName(n), undefined, String(n));
  }
});

Deno.test("RFC 8446 §6 AlertDescription: alertName gives the RFC's lower-case name of each alert sent, undefined otherwise", () => {
  assert.equal(alertName(80), "internal_error");
  assert.equal(alertName(70), "protocol_version");
  assert.equal(alertName(120), "no_application_protocol");
  for (const [name, value] of Object.entries(AlertDescription)) {
    assert.equal(alertName(value), name.toLowerCase());
  }
  assert.equal(alertName(21), undefined); // decryption_failed_RESERVED: never sent
  assert.equal(alertName(-1), undefined);
});

Deno.test("cli serve's dec_cb log (describeDecCalls) names statuses and returns through names.ts", () => {
  assert.equal(
    describeDecCalls([
      { status: 6, keyNameLength: 16, ret: 4 },
      { status: 4, keyNameLength: 16, ret: 2 },
      { status: 5, keyNameLength: 16, ret: null },
      { status: 3, keyNameLength: 0, ret: 9 },
    ]),
    "SUCCESS_RENEW->USE_RENEW,NO_DECRYPT->IGNORE_RENEW,SUCCESS->?,EMPTY->9",
  );
});
