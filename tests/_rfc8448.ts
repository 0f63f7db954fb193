// Test data: the handshake traces of RFC 8448 ("Example Handshake Traces for TLS 1.3", M. Thomson,
// January 2019), §3 "Simple 1-RTT Handshake", §4 "Resumed 0-RTT Handshake" and §5
// "HelloRetryRequest". Handshake messages are the trace's "construct a ... handshake message"
// octets (each with its 4-byte handshake header); the `values` are the trace's intermediate
// secrets, keys and hashes as hex. The messages are hashed for real by the tests, so a transcript
// hash that matches the trace also proves the messages were transcribed correctly (and each
// message's length field is checked against its byte count).
//
// Transcribed from the RFC text as quoted in Erlang/OTP's lib/ssl/test/tls_1_3_record_SUITE.erl
// (§3, §4 ClientHello and binder) and cross-checked against a second independent transcription
// (joyzl TestRFC8448.java, §3, §4 server flight and §5), which agree on every shared value.

/** Hex with any whitespace → bytes. */
function hex(s: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromHex(s.replace(/\s+/g, ""));
}

/** RFC 8448 §3 "Simple 1-RTT Handshake" (TLS_AES_128_GCM_SHA256, x25519, RSA certificate). */
export const RFC8448_1RTT = {
  messages: {
    /** §3 {client} construct a ClientHello handshake message (196 octets). */
    clientHello: hex(`
      01 00 00 c0 03 03 cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d ff a2
      1a 8d 99 12 ec 18 a2 ef 62 83 02 4d ec e7 00 00 06 13 01 13 03 13 02 01
      00 00 91 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00
      0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00
      23 00 00 00 33 00 26 00 24 00 1d 00 20 99 38 1d e5 60 e4 bd 43 d2 3d 8e
      43 5a 7d ba fe b3 c0 6e 51 c1 3c ae 4d 54 13 69 1e 52 9a af 2c 00 2b 00
      03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06
      04 01 05 01 06 01 02 01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c
      00 02 40 01
    `),
    /** §3 {server} construct a ServerHello handshake message (90 octets). */
    serverHello: hex(`
      02 00 00 56 03 03 a6 af 06 a4 12 18 60 dc 5e 6e 60 24 9c d3 4c 95 93 0c
      8a c5 cb 14 34 da c1 55 77 2e d3 e2 69 28 00 13 01 00 00 2e 00 33 00 24
      00 1d 00 20 c9 82 88 76 11 20 95 fe 66 76 2b db f7 c6 72 e1 56 d6 cc 25
      3b 83 3d f1 dd 69 b1 b0 4e 75 1f 0f 00 2b 00 02 03 04
    `),
    /** §3 {server} construct an EncryptedExtensions handshake message (40 octets). */
    encryptedExtensions: hex(`
      08 00 00 24 00 22 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01
      01 02 01 03 01 04 00 1c 00 02 40 01 00 00 00 00
    `),
    /** §3 {server} construct a Certificate handshake message (445 octets). */
    certificate: hex(`
      0b 00 01 b9 00 00 01 b5 00 01 b0 30 82 01 ac 30 82 01 15 a0 03 02 01 02
      02 01 02 30 0d 06 09 2a 86 48 86 f7 0d 01 01 0b 05 00 30 0e 31 0c 30 0a
      06 03 55 04 03 13 03 72 73 61 30 1e 17 0d 31 36 30 37 33 30 30 31 32 33
      35 39 5a 17 0d 32 36 30 37 33 30 30 31 32 33 35 39 5a 30 0e 31 0c 30 0a
      06 03 55 04 03 13 03 72 73 61 30 81 9f 30 0d 06 09 2a 86 48 86 f7 0d 01
      01 01 05 00 03 81 8d 00 30 81 89 02 81 81 00 b4 bb 49 8f 82 79 30 3d 98
      08 36 39 9b 36 c6 98 8c 0c 68 de 55 e1 bd b8 26 d3 90 1a 24 61 ea fd 2d
      e4 9a 91 d0 15 ab bc 9a 95 13 7a ce 6c 1a f1 9e aa 6a f9 8c 7c ed 43 12
      09 98 e1 87 a8 0e e0 cc b0 52 4b 1b 01 8c 3e 0b 63 26 4d 44 9a 6d 38 e2
      2a 5f da 43 08 46 74 80 30 53 0e f0 46 1c 8c a9 d9 ef bf ae 8e a6 d1 d0
      3e 2b d1 93 ef f0 ab 9a 80 02 c4 74 28 a6 d3 5a 8d 88 d7 9f 7f 1e 3f 02
      03 01 00 01 a3 1a 30 18 30 09 06 03 55 1d 13 04 02 30 00 30 0b 06 03 55
      1d 0f 04 04 03 02 05 a0 30 0d 06 09 2a 86 48 86 f7 0d 01 01 0b 05 00 03
      81 81 00 85 aa d2 a0 e5 b9 27 6b 90 8c 65 f7 3a 72 67 17 06 18 a5 4c 5f
      8a 7b 33 7d 2d f7 a5 94 36 54 17 f2 ea e8 f8 a5 8c 8f 81 72 f9 31 9c f3
      6b 7f d6 c5 5b 80 f2 1a 03 01 51 56 72 60 96 fd 33 5e 5e 67 f2 db f1 02
      70 2e 60 8c ca e6 be c1 fc 63 a4 2a 99 be 5c 3e b7 10 7c 3c 54 e9 b9 eb
      2b d5 20 3b 1c 3b 84 e0 a8 b2 f7 59 40 9b a3 ea c9 d9 1d 40 2d cc 0c c8
      f8 96 12 29 ac 91 87 b4 2b 4d e1 00 00
    `),
    /** §3 {server} construct a CertificateVerify handshake message (136 octets). */
    certificateVerify: hex(`
      0f 00 00 84 08 04 00 80 5a 74 7c 5d 88 fa 9b d2 e5 5a b0 85 a6 10 15 b7
      21 1f 82 4c d4 84 14 5a b3 ff 52 f1 fd a8 47 7b 0b 7a bc 90 db 78 e2 d3
      3a 5c 14 1a 07 86 53 fa 6b ef 78 0c 5e a2 48 ee aa a7 85 c4 f3 94 ca b6
      d3 0b be 8d 48 59 ee 51 1f 60 29 57 b1 54 11 ac 02 76 71 45 9e 46 44 5c
      9e a5 8c 18 1e 81 8e 95 b8 c3 fb 0b f3 27 84 09 d3 be 15 2a 3d a5 04 3e
      06 3d da 65 cd f5 ae a2 0d 53 df ac d4 2f 74 f3
    `),
    /** §3 {server} construct a Finished handshake message (36 octets). */
    serverFinished: hex(`
      14 00 00 20 9b 9b 14 1d 90 63 37 fb d2 cb dc e7 1d f4 de da 4a b4 2c 30
      95 72 cb 7f ff ee 54 54 b7 8f 07 18
    `),
    /** §3 {client} construct a Finished handshake message (36 octets). */
    clientFinished: hex(`
      14 00 00 20 a8 ec 43 6d 67 76 34 ae 52 5a c1 fc eb e1 1a 03 9e c1 76 94
      fa c6 e9 85 27 b6 42 f2 ed d5 ce 61
    `),
    /** §3 {server} construct a NewSessionTicket handshake message (205 octets). */
    newSessionTicket: hex(`
      04 00 00 c9 00 00 00 1e fa d6 aa c5 02 00 00 00 b2 2c 03 5d 82 93 59 ee
      5f f7 af 4e c9 00 00 00 00 26 2a 64 94 dc 48 6d 2c 8a 34 cb 33 fa 90 bf
      1b 00 70 ad 3c 49 88 83 c9 36 7c 09 a2 be 78 5a bc 55 cd 22 60 97 a3 a9
      82 11 72 83 f8 2a 03 a1 43 ef d3 ff 5d d3 6d 64 e8 61 be 7f d6 1d 28 27
      db 27 9c ce 14 50 77 d4 54 a3 66 4d 4e 6d a4 d2 9e e0 37 25 a6 a4 da fc
      d0 fc 67 d2 ae a7 05 29 51 3e 3d a2 67 7f a5 90 6c 5b 3f 7d 8f 92 f2 28
      bd a4 0d da 72 14 70 f9 fb f2 97 b5 ae a6 17 64 6f ac 5c 03 27 2e 97 07
      27 c6 21 a7 91 41 ef 5f 7d e6 50 5e 5b fb c3 88 e9 33 43 69 40 93 93 4a
      e4 d3 57 00 08 00 2a 00 04 00 00 04 00
    `),
  },
  values: {
    /** {client} create an ephemeral x25519 key pair: private key. */
    clientPrivateKey: "49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005",
    /** {server} create an ephemeral x25519 key pair: private key. */
    serverPrivateKey: "b1580eeadf6dd589b8ef4f2d5652578cc810e9980191ec8d058308cea216a21e",
    /** {server} create an ephemeral x25519 key pair: public key. */
    serverPublicKey: "c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f",
    /** {server} extract secret "handshake": IKM (the X25519 shared secret). */
    sharedSecret: "8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d",
    /** {server} extract secret "early": secret. */
    earlySecret: "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a",
    /** {server} derive secret for handshake "tls13 derived": expanded. */
    derivedForHandshake: "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba",
    /** {server} extract secret "handshake": secret. */
    handshakeSecret: "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac",
    /** {server} derive secret "tls13 c hs traffic": hash (ClientHello..ServerHello). */
    helloHash: "860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8",
    /** {server} derive secret "tls13 c hs traffic": expanded. */
    clientHandshakeTraffic: "b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21",
    /** {server} derive secret "tls13 s hs traffic": expanded. */
    serverHandshakeTraffic: "b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38",
    /** {server} derive secret for master "tls13 derived": expanded. */
    derivedForMaster: "43de77e0c77713859a944db9db2590b53190a65b3ee2e4f12dd7a0bb7ce254b4",
    /** {server} extract secret "master": secret. */
    masterSecret: "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919",
    /** {server} derive write traffic keys for handshake data: key expanded. */
    serverHandshakeKey: "3fce516009c21727d0f2e4e86ee403bc",
    /** {server} derive write traffic keys for handshake data: iv expanded. */
    serverHandshakeIv: "5d313eb2671276ee13000b30",
    /** {server} calculate finished "tls13 finished": expanded. */
    serverFinishedKey: "008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8",
    /** {server} calculate finished "tls13 finished": finished. */
    serverVerifyData: "9b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718",
    /** {server} derive secret "tls13 c ap traffic": hash (ClientHello..server Finished). */
    finishedHash: "9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13",
    /** {server} derive secret "tls13 c ap traffic": expanded. */
    clientApplicationTraffic: "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5",
    /** {server} derive secret "tls13 s ap traffic": expanded. */
    serverApplicationTraffic: "a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643",
    /** {server} derive secret "tls13 exp master": expanded. */
    exporterMasterSecret: "fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50",
    /** {server} derive write traffic keys for application data: key expanded. */
    serverApplicationKey: "9f02283b6c9c07efc26bb9f2ac92e356",
    /** {server} derive write traffic keys for application data: iv expanded. */
    serverApplicationIv: "cf782b88dd83549aadf1e984",
    /** {server} derive read traffic keys for handshake data: key expanded. */
    clientHandshakeKey: "dbfaa693d1762c5b666af5d950258d01",
    /** {server} derive read traffic keys for handshake data: iv expanded. */
    clientHandshakeIv: "5bd3c71b836e0b76bb73265f",
    /** {client} calculate finished "tls13 finished": expanded. */
    clientFinishedKey: "b80ad01015fb2f0bd65ff7d4da5d6bf83f84821d1f87fdc7d3c75b5a7b42d9c4",
    /** {client} calculate finished "tls13 finished": finished. */
    clientVerifyData: "a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61",
    /** {client} derive write traffic keys for application data: key expanded. */
    clientApplicationKey: "17422dda596ed5d9acd890e3c63f5051",
    /** {client} derive write traffic keys for application data: iv expanded. */
    clientApplicationIv: "5b78923dee08579033e523d9",
    /** {client} derive secret "tls13 res master": hash (ClientHello..client Finished). */
    clientFinishedHash: "209145a96ee8e2a122ff810047cc952684658d6049e86429426db87c54ad143d",
    /** {client} derive secret "tls13 res master": expanded. */
    resumptionMasterSecret: "7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c",
    /** {server} generate resumption secret "tls13 resumption": expanded (ticket nonce 00 00). */
    resumptionPsk: "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3",
  },
} as const;

/**
 * RFC 8448 §4 "Resumed 0-RTT Handshake": resumption with the ticket of §3 (nonce 00 00), 0-RTT
 * data, x25519.
 */
export const RFC8448_0RTT = {
  messages: {
    /** §4 {client} send handshake record: the ClientHello with its binder (512 octets). */
    clientHello: hex(`
      01 00 01 fc 03 03 1b c3 ce b6 bb e3 9c ff 93 83 55 b5 a5 0a db 6d b2 1b
      7a 6a f6 49 d7 b4 bc 41 9d 78 76 48 7d 95 00 00 06 13 01 13 03 13 02 01
      00 01 cd 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00
      0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00
      33 00 26 00 24 00 1d 00 20 e4 ff b6 8a c0 5f 8d 96 c9 9d a2 66 98 34 6c
      6b e1 64 82 ba dd da fe 05 1a 66 b4 f1 8d 66 8f 0b 00 2a 00 00 00 2b 00
      03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06
      04 01 05 01 06 01 02 01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c
      00 02 40 01 00 15 00 57 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      29 00 dd 00 b8 00 b2 2c 03 5d 82 93 59 ee 5f f7 af 4e c9 00 00 00 00 26
      2a 64 94 dc 48 6d 2c 8a 34 cb 33 fa 90 bf 1b 00 70 ad 3c 49 88 83 c9 36
      7c 09 a2 be 78 5a bc 55 cd 22 60 97 a3 a9 82 11 72 83 f8 2a 03 a1 43 ef
      d3 ff 5d d3 6d 64 e8 61 be 7f d6 1d 28 27 db 27 9c ce 14 50 77 d4 54 a3
      66 4d 4e 6d a4 d2 9e e0 37 25 a6 a4 da fc d0 fc 67 d2 ae a7 05 29 51 3e
      3d a2 67 7f a5 90 6c 5b 3f 7d 8f 92 f2 28 bd a4 0d da 72 14 70 f9 fb f2
      97 b5 ae a6 17 64 6f ac 5c 03 27 2e 97 07 27 c6 21 a7 91 41 ef 5f 7d e6
      50 5e 5b fb c3 88 e9 33 43 69 40 93 93 4a e4 d3 57 fa d6 aa cb 00 21 20
      3a dd 4f b2 d8 fd f8 22 a0 ca 3c f7 67 8e f5 e8 8d ae 99 01 41 c5 92 4d
      57 bb 6f a3 1b 9e 5f 9d
    `),
    /** §4 {server} construct a ServerHello handshake message (96 octets). */
    serverHello: hex(`
      02 00 00 5c 03 03 3c cf d2 de c8 90 22 27 63 47 2a e8 13 67 77 c9 d7 35
      87 77 bb 66 e9 1e a5 12 24 95 f5 59 ea 2d 00 13 01 00 00 34 00 29 00 02
      00 00 00 33 00 24 00 1d 00 20 12 17 61 ee 42 c3 33 e1 b9 e7 7b 60 dd 57
      c2 05 3c d9 45 12 ab 47 f1 15 e8 6e ff 50 94 2c ea 31 00 2b 00 02 03 04
    `),
    /** §4 {server} construct an EncryptedExtensions handshake message (44 octets). */
    encryptedExtensions: hex(`
      08 00 00 28 00 26 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01
      01 02 01 03 01 04 00 1c 00 02 40 01 00 00 00 00 00 2a 00 00
    `),
    /** §4 {server} construct a Finished handshake message (36 octets). */
    serverFinished: hex(`
      14 00 00 20 48 d3 e0 e1 b3 d9 07 c6 ac ff 14 5e 16 09 03 88 c7 7b 05 c0
      50 b6 34 ab 1a 88 bb d0 dd 1a 34 b2
    `),
    /** §4 {client} construct an EndOfEarlyData handshake message (4 octets). */
    endOfEarlyData: hex(`
      05 00 00 00
    `),
    /** §4 {client} construct a Finished handshake message (36 octets). */
    clientFinished: hex(`
      14 00 00 20 72 30 a9 c9 52 c2 5c d6 13 8f c5 e6 62 83 08 c4 1c 53 35 dd
      81 b9 f9 6b ce a5 0f d3 2b da 41 6d
    `),
  },
  values: {
    /** {client} create an ephemeral x25519 key pair: private key. */
    clientPrivateKey: "bff91188283846dd6a2134ef7180ca2b0b14fb10dce707b5098c0dddc813b2df",
    /** {server} create an ephemeral x25519 key pair: private key. */
    serverPrivateKey: "de5b4476e7b490b2652d338acbf2948066f255f9440e23b98fc69835298dc107",
    /** {client} extract secret "early": IKM (the PSK). */
    psk: "4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3",
    /** {client} extract secret "early": secret. */
    earlySecret: "9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c",
    /** {client} calculate PSK binder: binder hash (of the ClientHello prefix). */
    binderHash: "63224b2e4573f2d3454ca84b9d009a04f6be9e05711a8396473aefa01e924a14",
    /** {client} calculate PSK binder: PRK ("tls13 res binder"). */
    binderKey: "69fe131a3bbad5d63c64eebcc30e395b9d8107726a13d074e389dbc8a4e47256",
    /** {client} calculate PSK binder: expanded. */
    binderFinishedKey: "5588673e72cb59c87d220caffe94f2dea9a3b1609f7d50e90a48227db9ed7eaa",
    /** {client} calculate PSK binder: finished. */
    binder: "3add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d",
    /** {client} derive secret "tls13 c e traffic": expanded. */
    clientEarlyTraffic: "3fbbe6a60deb66c30a32795aba0eff7eaa10105586e7be5c09678d63b6caab62",
    /** {client} derive secret "tls13 e exp master": expanded. */
    earlyExporterMasterSecret: "b2026866610937d7423e5be90862ccf24c0e6091186d34f812089ff5be2ef7df",
    /** {client} derive write traffic keys for early application data: key expanded. */
    clientEarlyKey: "920205a5b7bf2115e6fc5c2942834f54",
    /** {client} derive write traffic keys for early application data: iv expanded. */
    clientEarlyIv: "6d475f0993c8e564610db2b9",
    /** {server} extract secret "handshake": IKM (the X25519 shared secret). */
    sharedSecret: "f44194756ff9ec9d25180635d66ea6824c6ab3bf179977be37f723570e7ccb2e",
    /** {server} derive secret for handshake "tls13 derived": expanded. */
    derivedForHandshake: "5f1790bbd82c5e7d376ed2e1e52f8e6038c9346db61b43be9a52f77ef3998e80",
    /** {server} extract secret "handshake": secret. */
    handshakeSecret: "005cb112fd8eb4ccc623bb88a07c64b3ede1605363fc7d0df8c7ce4ff0fb4ae6",
    /** {server} derive secret "tls13 c hs traffic": expanded. */
    clientHandshakeTraffic: "2faac08f851d35fea3604fcb4de82dc62c9b164a70974d0462e27f1ab278700f",
    /** {server} derive secret "tls13 s hs traffic": expanded. */
    serverHandshakeTraffic: "fe927ae271312e8bf0275b581c54eef020450dc4ecffaa05a1a35d27518e7803",
    /** {server} derive secret for master "tls13 derived": expanded. */
    derivedForMaster: "e2f16030251df0874ba19b9aba257610bc6d531c1dd206df0ca6e84ae2a26742",
    /** {server} extract secret "master": secret. */
    masterSecret: "e2d32d4ed66dd37897a0e80c84107503ce58bf8aad4cb55a5002d77ecb890ece",
    /** {server} derive write traffic keys for handshake data: key expanded. */
    serverHandshakeKey: "27c6bdc0a3dcea39a47326d79bc9e4ee",
    /** {server} derive write traffic keys for handshake data: iv expanded. */
    serverHandshakeIv: "9569ecdd4d0536705e9ef725",
    /** {server} calculate finished "tls13 finished": finished. */
    serverVerifyData: "48d3e0e1b3d907c6acff145e16090388c77b05c050b634ab1a88bbd0dd1a34b2",
    /** {server} derive secret "tls13 c ap traffic": expanded. */
    clientApplicationTraffic: "2abbf2b8e381d23dbebe1dd2a7d16a8bf484cb4950d23fb7fb7fa8547062d9a1",
    /** {server} derive secret "tls13 s ap traffic": expanded. */
    serverApplicationTraffic: "cc21f1bf8feb7dd5fa505bd9c4b468a9984d554a993dc49e6d285598fb672691",
    /** {server} derive secret "tls13 exp master": expanded. */
    exporterMasterSecret: "3fd93d4ffddc98e64b14dd107aedf8ee4add23f4510f58a4592d0b201bee56b4",
    /** {server} derive write traffic keys for application data: key expanded. */
    serverApplicationKey: "e857c690a34c5a9129d833619684f95e",
    /** {server} derive write traffic keys for application data: iv expanded. */
    serverApplicationIv: "0685d6b561aab9ef1013faf9",
    /** {client} derive write traffic keys for handshake data: key expanded. */
    clientHandshakeKey: "b1530806f4adfeac83f1413032bbfa82",
    /** {client} derive write traffic keys for handshake data: iv expanded. */
    clientHandshakeIv: "eb50c16be7654abf99dd06d9",
    /** {client} calculate finished "tls13 finished": finished. */
    clientVerifyData: "7230a9c952c25cd6138fc5e6628308c41c5335dd81b9f96bcea50fd32bda416d",
    /** {client} derive write traffic keys for application data: key expanded. */
    clientApplicationKey: "3cf122f301c6358ca7989553250efd72",
    /** {client} derive write traffic keys for application data: iv expanded. */
    clientApplicationIv: "ab1aec26aa78b8fc1176b9ac",
    /** {client} derive secret "tls13 res master": expanded. */
    resumptionMasterSecret: "5e95bdf1f89005ea2e9aa0ba85e728e3c19c5fe0c699e3f5bee59faebd0b5406",
  },
} as const;

/**
 * RFC 8448 §5 "HelloRetryRequest": the client offers an x25519 share, the server asks for
 * secp256r1 (with a cookie), the second ClientHello carries a P-256 share.
 */
export const RFC8448_HRR = {
  messages: {
    /** §5 {client} construct a ClientHello handshake message (180 octets). */
    clientHello1: hex(`
      01 00 00 b0 03 03 b0 b1 c5 a5 aa 37 c5 91 9f 2e d1 d5 c6 ff f7 fc b7 84
      97 16 94 5a 2b 8c ee 92 58 a3 46 67 7b 6f 00 00 06 13 01 13 03 13 02 01
      00 00 81 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00
      0a 00 08 00 06 00 1d 00 17 00 18 00 33 00 26 00 24 00 1d 00 20 e8 e8 e3
      f3 b9 3a 25 ed 97 a1 4a 7d ca cb 8a 27 2c 62 88 e5 85 c6 48 4d 05 26 2f
      ca d0 62 ad 1f 00 2b 00 03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03
      02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01 04 02 05 02 06 02 02 02
      00 2d 00 02 01 01 00 1c 00 02 40 01
    `),
    /** §5 {server} construct a HelloRetryRequest handshake message (176 octets). */
    helloRetryRequest: hex(`
      02 00 00 ac 03 03 cf 21 ad 74 e5 9a 61 11 be 1d 8c 02 1e 65 b8 91 c2 a2
      11 16 7a bb 8c 5e 07 9e 09 e2 c8 a8 33 9c 00 13 01 00 00 84 00 33 00 02
      00 17 00 2c 00 74 00 72 71 dc d0 4b b8 8b c3 18 91 19 39 8a 00 00 00 00
      ee fa fc 76 c1 46 b8 23 b0 96 f8 aa ca d3 65 dd 00 30 95 3f 4e df 62 56
      36 e5 f2 1b b2 e2 3f cc 65 4b 1b 5b 40 31 8d 10 d1 37 ab cb b8 75 74 e3
      6e 8a 1f 02 5f 7d fa 5d 6e 50 78 1b 5e da 4a a1 5b 0c 8b e7 78 25 7d 16
      aa 30 30 e9 e7 84 1d d9 e4 c0 34 22 67 e8 ca 0c af 57 1f b2 b7 cf f0 f9
      34 b0 00 2b 00 02 03 04
    `),
    /** §5 {client} construct a ClientHello handshake message (512 octets). */
    clientHello2: hex(`
      01 00 01 fc 03 03 b0 b1 c5 a5 aa 37 c5 91 9f 2e d1 d5 c6 ff f7 fc b7 84
      97 16 94 5a 2b 8c ee 92 58 a3 46 67 7b 6f 00 00 06 13 01 13 03 13 02 01
      00 01 cd 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00
      0a 00 08 00 06 00 1d 00 17 00 18 00 33 00 47 00 45 00 17 00 41 04 a6 da
      73 92 ec 59 1e 17 ab fd 53 59 64 b9 98 94 d1 3b ef b2 21 b3 de f2 eb e3
      83 0e ac 8f 01 51 81 26 77 c4 d6 d2 23 7e 85 cf 01 d6 91 0c fb 83 95 4e
      76 ba 73 52 83 05 34 15 98 97 e8 06 57 80 00 2b 00 03 02 03 04 00 0d 00
      20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01 05 01 06 01 02
      01 04 02 05 02 06 02 02 02 00 2c 00 74 00 72 71 dc d0 4b b8 8b c3 18 91
      19 39 8a 00 00 00 00 ee fa fc 76 c1 46 b8 23 b0 96 f8 aa ca d3 65 dd 00
      30 95 3f 4e df 62 56 36 e5 f2 1b b2 e2 3f cc 65 4b 1b 5b 40 31 8d 10 d1
      37 ab cb b8 75 74 e3 6e 8a 1f 02 5f 7d fa 5d 6e 50 78 1b 5e da 4a a1 5b
      0c 8b e7 78 25 7d 16 aa 30 30 e9 e7 84 1d d9 e4 c0 34 22 67 e8 ca 0c af
      57 1f b2 b7 cf f0 f9 34 b0 00 2d 00 02 01 01 00 1c 00 02 40 01 00 15 00
      af 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
      00 00 00 00 00 00 00 00
    `),
    /** §5 {server} construct a ServerHello handshake message (123 octets). */
    serverHello: hex(`
      02 00 00 77 03 03 bb 34 1d 84 7f d7 89 c4 7c 38 71 72 dc 0c 9b f1 47 fc
      ca cb 50 43 d8 6c a4 c5 98 d3 ff 57 1b 98 00 13 01 00 00 4f 00 33 00 45
      00 17 00 41 04 58 3e 05 4b 7a 66 67 2a e0 20 ad 9d 26 86 fc c8 5b 5a d4
      1a 13 4a 0f 03 ee 72 b8 93 05 2b d8 5b 4c 8d e6 77 6f 5b 04 ac 07 d8 35
      40 ea b3 e3 d9 c5 47 bc 65 28 c4 31 7d 29 46 86 09 3a 6c ad 7d 00 2b 00
      02 03 04
    `),
  },
  values: {
    /** {server} extract secret "handshake": IKM (the P-256 ECDH shared secret). */
    sharedSecret: "c142ce13ca11b5c2233652e63ad3d97844f1621fbfb9de69d547dc8fedeabeb4",
    /** {server} extract secret "early": secret. */
    earlySecret: "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a",
    /** {server} extract secret "handshake": secret. */
    handshakeSecret: "ce022e5e6e81e50736d773f2d3adfce8220d049bf510f0dbfac927ef4243b148",
    /** {server} derive secret "tls13 c hs traffic": hash (message_hash, HelloRetryRequest, ClientHello, ServerHello). */
    helloHash: "8aa8e828ec2f8a884fec95a3139de01c15a3daa7ff5bfc3f4bfcc21b438d7bf8",
    /** {server} derive secret "tls13 c hs traffic": expanded. */
    clientHandshakeTraffic: "158aa7ab8855073582b41d674b4055cabcc534728f659314861b4e08e2011566",
    /** {server} derive secret "tls13 s hs traffic": expanded. */
    serverHandshakeTraffic: "3403e781e2af7b6508da28574f6e95a1abf162de83a97927c37672a4a0cef8a1",
  },
} as const;
