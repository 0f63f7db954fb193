// Test vectors observed from libssl 3.0.19 (SSL_CTX_set_tlsext_ticket_keys with keys[i] = i),
// cross-checked with `openssl enc` / `openssl dgst -mac HMAC`.

/** TLS 1.2 ticket plaintext (107 bytes): ECDHE-RSA-AES256-GCM-SHA384, app data "HelloWorld". */
export const TLS12_DER = Uint8Array.fromHex(
  "3069020101020203030402c03004000430f01de22b939337e8c049326e3845aa884f2bddfa20dae67e1627fe8f" +
    "1ce545a164dd9edbb8443116ac0355da145b6c7ca10602046b0c3b4ba20402021c20a4020400ad03020101b2" +
    "0c040a48656c6c6f576f726c64b30302011d",
);

/** TLS 1.3 ticket plaintext (143 bytes): TLS_AES_256_GCM_SHA384, age_add 0x6cc2081e. */
export const TLS13_DER = Uint8Array.fromHex(
  "30818c020101020203040402130204206735d93d8e3d629a1bbb2f730184e3c5b00aa9b8919cd1b04c9595fe" +
    "f447588804304a15d3d2d5f90836f3bc0fa6f63931a4f11e9fba4a7b276d0b94d64d75c9be27191b9394f4c3" +
    "7b9620cddf165a6c5b88a10602046b0c3b4ba20402021c20a4020400ae0602046cc2081eb20c040a48656c6c" +
    "6f576f726c64b30302011d",
);

/** The 80 ticket key bytes 00..4f: name 00..0f, HMAC key 10..2f, AES key 30..4f. */
export const KEYS_00_4F = Uint8Array.from({ length: 80 }, (_, i) => i);

/** The TLS 1.2 ticket (176 bytes) sealing TLS12_DER under KEYS_00_4F. */
export const TLS12_TICKET = Uint8Array.fromHex(
  "000102030405060708090a0b0c0d0e0fa7a3281f357aa2089a694076f1ef43da" +
    "d8bfab6d5399fab81ebc2611ac4397418252bfccbdc5c2bad8b5a3492674bab9bcf357f2bd9c6c2658993f05" +
    "383280fcb7c23e6276ea6239f3dfa61292272f3e482ec0bc61e2a7871567a97889e4c179448729a4a86a9d4c" +
    "c8705ea9233a1d7f21d3a60b2937c3a81cc891cbdd845a595e397bafb5e6818743cc9336b1ed296d1f10469c" +
    "cd4725c05830226afaa77a80",
);

/** The TLS 1.3 NewSessionTicket message (second ticket of the connection). */
export const TLS13_NST = Uint8Array.fromHex(
  "040000e500001c206cc2081e080000000000000001" + "00d0" +
    "000102030405060708090a0b0c0d0e0f074a065de1d51a54dd8317f458870a65" +
    "0ac38bf6658cc0241068e42afdd7371d6adeee58a8a8ce8d1c43fe7dbf51867f7fccf8ec5ca3a3d37e697ecc" +
    "5615bf28c3a9d64060bb3cf8dc8751eaec94dfb1b4a748f33cc3c5773683eef589b9ba893d18b99ead210385" +
    "255adef618d34d2f6ec1a05ff2910b234042fb1a8d0ce7141a7781896d9121e1d9bcc27db649e579c8f72bc7" +
    "326f82df6fbb22f544f8f35d" +
    "071f6592f658d5245594454d9343a558722f2fa3f351e25ac9a6eb6cf41d2efd" +
    "0000",
);

/** The 208-byte ticket inside TLS13_NST. */
export const TLS13_TICKET = TLS13_NST.subarray(23, 23 + 208);
