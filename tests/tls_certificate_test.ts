/**
 * `src/tls/certificate.ts`: loading a certificate chain and private key from PEM, and signing
 * CertificateVerify content with the RFC 8446 §4.2.3 signature schemes.
 *
 * Keys and certificates come from the `openssl` command-line tool (`tests/_tls_certs.ts`);
 * signatures are checked by `node:crypto` and by `openssl dgst` / `openssl pkeyutl`. The PKCS#8
 * that SEC1 and PKCS#1 keys are converted to is compared byte for byte with `openssl pkcs8
 * -topk8`. Tests that need openssl are ignored, with the reason printed, when it is missing.
 */
import assert from "node:assert/strict";
import * as nodeCrypto from "node:crypto";
import {
  CertificateError,
  type CertificateErrorReason,
  p1363ToDer,
  ServerCredentials,
  SignatureScheme,
} from "../src/tls/certificate.ts";
import { privateKeyFromPem } from "../src/tls/_private_key.ts";
import { TlsAlert } from "../src/server/alert.ts";
import { missing } from "./interop/_peers.ts";
import {
  openssl,
  tempDir,
  testChain,
  testCredentials,
  type TestKeyForm,
  type TestKeyKind,
} from "./_tls_certs.ts";

const whyOpenssl = await missing(["openssl"]);
if (whyOpenssl !== null) {
  console.warn(`tls_certificate_test: skipping openssl tests: ${whyOpenssl}`);
}
const needsOpenssl = whyOpenssl !== null;

const CASES: { kind: TestKeyKind; form: TestKeyForm; schemes: number[] }[] = [
  { kind: "P-256", form: "pkcs8", schemes: [0x0403] },
  { kind: "P-256", form: "sec1", schemes: [0x0403] },
  { kind: "P-384", form: "pkcs8", schemes: [0x0503] },
  { kind: "P-384", form: "sec1", schemes: [0x0503] },
  { kind: "Ed25519", form: "pkcs8", schemes: [0x0807] },
  { kind: "RSA", form: "pkcs8", schemes: [0x0804, 0x0805] },
  { kind: "RSA", form: "pkcs1", schemes: [0x0804, 0x0805] },
];

/** The hash each scheme signs with (null: Ed25519 hashes internally). */
const HASH: Record<number, { name: "sha256" | "sha384"; length: number } | null> = {
  0x0403: { name: "sha256", length: 32 },
  0x0503: { name: "sha384", length: 48 },
  0x0804: { name: "sha256", length: 32 },
  0x0805: { name: "sha384", length: 48 },
  0x0807: null,
};

/** Verifies a wire-form signature with node:crypto and the certificate's public key. */
function nodeVerify(
  scheme: number,
  certPem: string,
  data: Uint8Array,
  sig: Uint8Array,
  saltLength?: number,
): boolean {
  const key = new nodeCrypto.X509Certificate(certPem).publicKey;
  const hash = HASH[scheme];
  if (scheme === 0x0804 || scheme === 0x0805) {
    return nodeCrypto.verify(hash!.name, data, {
      key,
      padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING,
      saltLength: saltLength ?? hash!.length,
    }, sig);
  }
  // ECDSA: node reads DER (dsaEncoding "der") by default.
  return nodeCrypto.verify(hash === null ? null : hash.name, data, key, sig);
}

/** Asserts that `p` rejects with a CertificateError of this reason, message matching `re`. */
async function rejectsWith(
  p: Promise<unknown>,
  reason: CertificateErrorReason,
  re?: RegExp,
  secretPem?: string,
): Promise<CertificateError> {
  let caught: unknown;
  await assert.rejects(p, (e) => {
    caught = e;
    return true;
  });
  assert.ok(caught instanceof CertificateError, `expected a CertificateError, got ${caught}`);
  assert.equal(caught.name, "CertificateError");
  assert.equal(caught.reason, reason, caught.message);
  if (re !== undefined) assert.match(caught.message, re);
  if (secretPem !== undefined) assertNoKeyBytes(caught.message, secretPem);
  return caught;
}

/** No 12-character run of the key's base64 appears in `message`. */
function assertNoKeyBytes(message: string, keyPem: string): void {
  const b64 = keyPem.split(/\r?\n/).filter((l) => /^[A-Za-z0-9+/=]{16,}$/.test(l)).join("");
  for (let i = 0; i + 12 <= b64.length; i += 4) {
    assert.ok(!message.includes(b64.slice(i, i + 12)), "key bytes in an error message");
  }
}

function pem(label: string, der: Uint8Array): string {
  const b64 = der.toBase64();
  const lines = [`-----BEGIN ${label}-----`];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  lines.push(`-----END ${label}-----`, "");
  return lines.join("\n");
}

function pemBlock(text: string, label: string): Uint8Array<ArrayBuffer> {
  const m = new RegExp(`-----BEGIN ${label}-----([^-]*)-----END ${label}-----`).exec(text);
  assert.ok(m !== null, `no ${label} block`);
  return Uint8Array.fromBase64(m[1].replace(/\s+/g, ""));
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(4, "0")}`;
}

Deno.test({
  name: "RFC 8446 §4.2.3 signature schemes: every key type and PEM form (RFC 5208 PKCS#8, " +
    "RFC 5915 SEC1, RFC 8017 PKCS#1) loads and signs with each scheme; node:crypto verifies",
  ignore: needsOpenssl,
  async fn(t) {
    for (const c of CASES) {
      await t.step(`${c.kind} ${c.form}`, async () => {
        const { certPem, keyPem } = await testCredentials(c.kind, c.form);
        const creds = await ServerCredentials.fromPem(certPem, keyPem);
        assert.equal(creds.keyType, c.kind);
        assert.deepEqual(creds.schemes, c.schemes);
        assert.equal(creds.chain.length, 1);
        assert.deepEqual(
          new Uint8Array(creds.chain[0]),
          new Uint8Array(new nodeCrypto.X509Certificate(certPem).raw),
        );
        for (const scheme of c.schemes) {
          const data = crypto.getRandomValues(new Uint8Array(130));
          const sig = await creds.sign(scheme, data);
          assert.ok(nodeVerify(scheme, certPem, data, sig), `${hex(scheme)} verifies`);
          const tampered = data.slice();
          tampered[0] ^= 1;
          assert.ok(!nodeVerify(scheme, certPem, tampered, sig), `${hex(scheme)} tampered`);
          if (c.kind === "P-256" || c.kind === "P-384") {
            assert.equal(sig[0], 0x30, "ECDSA-Sig-Value SEQUENCE");
            assert.equal(sig[1], sig.length - 2);
          } else if (c.kind === "Ed25519") {
            assert.equal(sig.length, 64);
          } else {
            assert.equal(sig.length, 256);
            // RFC 8446 §4.2.3: the salt is exactly as long as the hash.
            const len = HASH[scheme]!.length;
            assert.ok(!nodeVerify(scheme, certPem, data, sig, len - 1), "salt length - 1");
            assert.ok(!nodeVerify(scheme, certPem, data, sig, len + 1), "salt length + 1");
          }
        }
      });
    }
  },
});

Deno.test({
  name: "RFC 8446 §4.2.3 signature schemes: openssl dgst / pkeyutl verify our signatures",
  ignore: needsOpenssl,
  async fn(t) {
    const dir = await tempDir();
    for (const kind of ["P-256", "P-384", "Ed25519", "RSA"] as const) {
      const { certPem, keyPem, certFile } = await testCredentials(kind);
      const creds = await ServerCredentials.fromPem(certPem, keyPem);
      const pub = `${dir}/verify-${kind}-pub.pem`;
      await Deno.writeTextFile(
        pub,
        (await openssl(["x509", "-in", certFile, "-pubkey", "-noout"])).stdout,
      );
      for (const scheme of creds.schemes) {
        await t.step(`${kind} ${hex(scheme)}`, async () => {
          const data = new TextEncoder().encode(
            `${" ".repeat(64)}TLS 1.3, server CertificateVerify`,
          );
          const dataFile = `${dir}/verify-${scheme}.data`;
          const sigFile = `${dir}/verify-${scheme}.sig`;
          await Deno.writeFile(dataFile, data);
          await Deno.writeFile(sigFile, await creds.sign(scheme, data));
          const hash = HASH[scheme];
          const pss = scheme === 0x0804 || scheme === 0x0805
            ? ["-sigopt", "rsa_padding_mode:pss", "-sigopt", `rsa_pss_saltlen:${hash!.length}`]
            : [];
          const r = await openssl(
            hash === null
              ? ["pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-in", dataFile]
                .concat(["-sigfile", sigFile])
              : ["dgst", `-${hash.name}`, ...pss, "-verify", pub, "-signature", sigFile, dataFile],
          );
          assert.match(r.stdout, /Verified OK|Signature Verified Successfully/);
        });
      }
    }
  },
});

Deno.test({
  name: "RFC 8446 §4.2.3: selectScheme takes the key's first scheme the client offered; " +
    "ECDSA schemes bind the curve",
  ignore: needsOpenssl,
  async fn() {
    const load = async (kind: TestKeyKind) => {
      const { certPem, keyPem } = await testCredentials(kind);
      return await ServerCredentials.fromPem(certPem, keyPem);
    };
    const rsa = await load("RSA");
    assert.equal(rsa.selectScheme([0x0805, 0x0804]), 0x0804);
    assert.equal(rsa.selectScheme([0x0403, 0x0805]), 0x0805);
    assert.equal(rsa.selectScheme([0x0401, 0x0501, 0x0806, 0x0809]), null); // PKCS1, sha512, pss_pss
    assert.equal(rsa.selectScheme([]), null);
    const p256 = await load("P-256");
    assert.equal(p256.selectScheme([0x0503, 0x0603, 0x0403]), 0x0403);
    assert.equal(p256.selectScheme([0x0503, 0x0807]), null);
    const p384 = await load("P-384");
    assert.equal(p384.selectScheme([0x0403]), null);
    assert.equal(p384.selectScheme([0x0403, 0x0503]), 0x0503);
    const ed = await load("Ed25519");
    assert.equal(ed.selectScheme([0x0808, 0x0807]), 0x0807);
    assert.equal(ed.selectScheme([0x0808]), null);
    // rsa_pkcs1_* are for TLS 1.2 ServerKeyExchange signatures only (RFC 5246 §7.4.1.4.1).
    assert.deepEqual(Object.values(SignatureScheme).sort(), [
      0x0401,
      0x0403,
      0x0501,
      0x0503,
      0x0804,
      0x0805,
      0x0807,
    ]);
    assert.deepEqual(rsa.schemes, [0x0804, 0x0805]);
    assert.deepEqual(rsa.schemes12, [0x0804, 0x0805, 0x0401, 0x0501]);
    assert.equal(rsa.selectScheme12([0x0501, 0x0401]), 0x0401);
    assert.equal(rsa.selectScheme12([0x0403]), null);
    assert.equal(p256.selectScheme12([0x0401, 0x0403]), 0x0403);
  },
});

Deno.test({
  name: "RFC 8446 §4.2.3: signing with a scheme the key lacks is TlsAlert 80 (internal_error)",
  ignore: needsOpenssl,
  async fn() {
    const p256 = await testCredentials("P-256");
    const creds = await ServerCredentials.fromPem(p256.certPem, p256.keyPem);
    for (const scheme of [0x0503, 0x0804, 0x0807, 0x0000]) {
      await assert.rejects(creds.sign(scheme, new Uint8Array(1)), (e) => {
        assert.ok(e instanceof TlsAlert);
        assert.equal(e.alert, 80);
        return true;
      });
    }
    // Views into a larger buffer and SharedArrayBuffer-backed bytes sign only their own range.
    const data = new Uint8Array(new SharedArrayBuffer(16)).fill(7).subarray(4, 12);
    const sig = await creds.sign(0x0403, data);
    assert.ok(nodeVerify(0x0403, p256.certPem, new Uint8Array(8).fill(7), sig));
  },
});

/** Independent DER reader for ECDSA-Sig-Value: checks minimal INTEGERs, returns r and s. */
function parseEcdsaSig(der: Uint8Array): [bigint, bigint] {
  let p = 0;
  const length = () => {
    let n = der[p++];
    if (n & 0x80) {
      const k = n & 0x7f;
      assert.equal(k, 1, "long form uses one length byte here");
      n = der[p++];
      assert.ok(n >= 0x80, "minimal long form");
    }
    return n;
  };
  assert.equal(der[p++], 0x30);
  assert.equal(length(), der.length - p);
  const ints: bigint[] = [];
  for (let i = 0; i < 2; i++) {
    assert.equal(der[p++], 0x02);
    const n = length();
    assert.ok(n >= 1);
    const c = der.subarray(p, p + n);
    p += n;
    assert.ok(!(c[0] & 0x80), "non-negative");
    if (n > 1) assert.ok(!(c[0] === 0 && !(c[1] & 0x80)), "minimal");
    ints.push(BigInt(`0x${c.toHex()}`));
  }
  assert.equal(p, der.length);
  return [ints[0], ints[1]];
}

Deno.test("RFC 3279 §2.2.3 / RFC 5480 ECDSA-Sig-Value: p1363ToDer edge cases", () => {
  const sig = (r: number[], s: number[], size = 32) => {
    const out = new Uint8Array(size * 2);
    out.set(r, size - r.length);
    out.set(s, 2 * size - s.length);
    return out;
  };
  // Small r and s: leading zero bytes stripped, one content byte each.
  assert.deepEqual(p1363ToDer(sig([0x01], [0x7f])), Uint8Array.of(0x30, 6, 2, 1, 1, 2, 1, 0x7f));
  // Zero: one 00 content byte.
  assert.deepEqual(p1363ToDer(sig([], [0x05])), Uint8Array.of(0x30, 6, 2, 1, 0, 2, 1, 5));
  // Top bit set on a 1-byte value: a 00 prefix keeps it positive.
  assert.deepEqual(
    p1363ToDer(sig([0x80], [0xff])),
    Uint8Array.of(0x30, 8, 2, 2, 0, 0x80, 2, 2, 0, 0xff),
  );
  // Full-width r with the top bit set: 33 content bytes; s zero-prefixed in P1363 with a
  // following high-bit byte: the zeros go, one 00 comes back.
  const full = new Uint8Array(32).fill(0xab);
  const der = p1363ToDer(sig([...full], [0x00, 0x00, 0x90, 0x01]));
  assert.deepEqual([...der.subarray(0, 5)], [0x30, 2 + 33 + 2 + 3, 2, 33, 0]);
  assert.deepEqual([...der.subarray(-5)], [2, 3, 0, 0x90, 0x01]);
  // r and s whose first byte is 00 but second has the top bit: P1363 length 32, DER content 32.
  const zr = new Uint8Array(32).fill(0xcc);
  zr[0] = 0;
  const d2 = p1363ToDer(sig([...zr], [...zr]));
  assert.deepEqual([...d2.subarray(0, 5)], [0x30, 68, 2, 32, 0]);
  assert.equal(d2[5], 0xcc);
  // P-384 and P-521 sizes; P-521's SEQUENCE needs the long length form.
  assert.equal(p1363ToDer(new Uint8Array(96).fill(0xff)).length, 2 + 2 * (2 + 49));
  const p521 = p1363ToDer(new Uint8Array(132).fill(0x80));
  assert.deepEqual([...p521.subarray(0, 3)], [0x30, 0x81, 2 * (2 + 67)]);
  // Random vectors (with random runs of leading zeros) decode back to r and s, minimally.
  for (let i = 0; i < 2000; i++) {
    const size = [32, 48, 66][i % 3];
    const v = crypto.getRandomValues(new Uint8Array(size * 2));
    v.fill(0, 0, i % 7);
    v.fill(0, size, size + (i % 5));
    if (i % 11 === 0) v.fill(0, size, 2 * size);
    const [r, s] = parseEcdsaSig(p1363ToDer(v));
    assert.equal(r, BigInt(`0x${v.subarray(0, size).toHex()}`));
    assert.equal(s, BigInt(`0x${v.subarray(size).toHex()}`));
  }
  for (const bad of [new Uint8Array(0), new Uint8Array(63), new Uint8Array(266)]) {
    assert.throws(() => p1363ToDer(bad), TypeError);
  }
});

Deno.test({
  name: "RFC 5915 SEC1 and RFC 8017 PKCS#1 keys convert to the PKCS#8 (RFC 5208) that " +
    "`openssl pkcs8 -topk8 -nocrypt` writes, byte for byte",
  ignore: needsOpenssl,
  async fn(t) {
    for (const [kind, form] of [["P-256", "sec1"], ["P-384", "sec1"], ["RSA", "pkcs1"]] as const) {
      await t.step(`${kind} ${form}`, async () => {
        const { keyPem, keyFile } = await testCredentials(kind, form);
        const ours = privateKeyFromPem(keyPem);
        assert.equal(ours.form, form);
        assert.equal(ours.type, kind);
        const theirs = await openssl(["pkcs8", "-topk8", "-nocrypt", "-in", keyFile]);
        assert.deepEqual(ours.pkcs8, pemBlock(theirs.stdout, "PRIVATE KEY"));
      });
    }
  },
});

Deno.test({
  name: "RFC 5915 SEC1: the curve comes from parameters [0] or the EC PARAMETERS block; " +
    "publicKey [1] is optional",
  ignore: needsOpenssl,
  async fn() {
    const { certPem, keyPem, keyFile } = await testCredentials("P-256", "sec1");
    const sec1 = pemBlock(keyPem, "EC PRIVATE KEY");
    const params = pem("EC PARAMETERS", pemBlock(keyPem, "EC PARAMETERS"));
    const check = async (key: string) => {
      const creds = await ServerCredentials.fromPem(certPem, key);
      const data = new Uint8Array(40).fill(1);
      assert.ok(nodeVerify(0x0403, certPem, data, await creds.sign(0x0403, data)));
    };
    // As `openssl ecparam -genkey` writes it, and without the EC PARAMETERS block.
    await check(keyPem);
    await check(pem("EC PRIVATE KEY", sec1));
    // Without publicKey [1] (`openssl ec -no_public`).
    const noPublic = await openssl(["ec", "-in", keyFile, "-no_public"]);
    assert.ok(pemBlock(noPublic.stdout, "EC PRIVATE KEY").length < sec1.length);
    await check(noPublic.stdout);
    // Without parameters [0]: 30 77 | 02 01 01 | 04 20 <32> | a0 0a <OID> | a1 44 <point>.
    assert.deepEqual([...sec1.subarray(0, 2)], [0x30, 0x77]);
    assert.equal(sec1[39], 0xa0);
    const noParams = Uint8Array.of(0x30, 0x77 - 12, ...sec1.subarray(2, 39), ...sec1.subarray(51));
    await check(params + pem("EC PRIVATE KEY", noParams));
    await rejectsWith(
      ServerCredentials.fromPem(certPem, pem("EC PRIVATE KEY", noParams)),
      "malformed",
      /names no curve/,
    );
    // EC PARAMETERS naming another curve than parameters [0].
    const p384 = await testCredentials("P-384", "sec1");
    const otherParams = pem("EC PARAMETERS", pemBlock(p384.keyPem, "EC PARAMETERS"));
    await rejectsWith(
      ServerCredentials.fromPem(certPem, otherParams + pem("EC PRIVATE KEY", sec1)),
      "malformed",
      /different curve/,
    );
  },
});

Deno.test({
  name: "RFC 5208 PKCS#8 / RFC 5480: unsupported key algorithms and curves are " +
    'CertificateError "unsupported", naming what is unsupported',
  ignore: needsOpenssl,
  async fn(t) {
    const { certPem } = await testCredentials("P-256");
    const genpkey = async (...args: string[]) => (await openssl(["genpkey", ...args])).stdout;
    const cases: [string, () => Promise<string>, RegExp][] = [
      ["P-521", () => genpkey("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"), /P-521/],
      [
        "secp256k1",
        () => genpkey("-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"),
        /secp256k1/,
      ],
      ["Ed448", () => genpkey("-algorithm", "ED448"), /Ed448/],
      ["X25519", () => genpkey("-algorithm", "X25519"), /X25519/],
      [
        "RSA-PSS key",
        () => genpkey("-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"),
        /RSA-PSS \(id-RSASSA-PSS/,
      ],
      [
        "SEC1 with explicit curve parameters",
        async () =>
          (await openssl(
            ["ecparam", "-name", "prime256v1", "-param_enc", "explicit", "-genkey", "-noout"],
          )).stdout,
        /explicit curve parameters/,
      ],
      [
        "PKCS#8 with explicit curve parameters",
        async () => {
          const sec1 = (await openssl(
            ["ecparam", "-name", "prime256v1", "-param_enc", "explicit", "-genkey", "-noout"],
          )).stdout;
          return (await openssl(["pkcs8", "-topk8", "-nocrypt"], sec1)).stdout;
        },
        /explicit curve parameters/,
      ],
      [
        "DSA",
        // PrivateKeyInfo { 0, { id-dsa }, OCTET STRING { INTEGER 1 } }
        () =>
          Promise.resolve(pem(
            "PRIVATE KEY",
            Uint8Array.fromHex("3014020100300906072a8648ce380401040402020101"),
          )),
        /DSA/,
      ],
      [
        "an unknown algorithm",
        // PrivateKeyInfo { 0, { 1.2.3.4 }, OCTET STRING {} }
        () =>
          Promise.resolve(pem("PRIVATE KEY", Uint8Array.fromHex("300c0201003005060307a2030400"))),
        /unsupported/,
      ],
      [
        "DSA PRIVATE KEY",
        () => Promise.resolve(pem("DSA PRIVATE KEY", Uint8Array.of(0x30, 0))),
        /unsupported private key format/,
      ],
      [
        "OPENSSH PRIVATE KEY",
        () => Promise.resolve(pem("OPENSSH PRIVATE KEY", Uint8Array.of(1, 2, 3))),
        /unsupported private key format/,
      ],
      [
        "multi-prime RSA",
        () => Promise.resolve(pem("RSA PRIVATE KEY", Uint8Array.fromHex("3003020101"))),
        /multi-prime/,
      ],
    ];
    for (const [name, make, re] of cases) {
      await t.step(name, async () => {
        const keyPem = await make();
        await rejectsWith(ServerCredentials.fromPem(certPem, keyPem), "unsupported", re, keyPem);
      });
    }
    await t.step("the unknown OID is named", async () => {
      const keyPem = pem("PRIVATE KEY", Uint8Array.fromHex("300c020100300506035504030400"));
      await rejectsWith(
        ServerCredentials.fromPem(certPem, keyPem),
        "unsupported",
        /key algorithm 2\.5\.4\.3/,
      );
    });
    await t.step("RSA shorter than 2048 bits", async () => {
      const key = await genpkey("-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024");
      const dir = await tempDir();
      await Deno.writeTextFile(`${dir}/rsa1024.pem`, key);
      const cert = await openssl(
        ["req", "-x509", "-new", "-key", `${dir}/rsa1024.pem`, "-subj", "/CN=localhost"]
          .concat(["-days", "2"]),
      );
      await rejectsWith(ServerCredentials.fromPem(cert.stdout, key), "unsupported", /1024-bit/);
    });
  },
});

Deno.test({
  name: 'RFC 5958 / RFC 1421 encrypted keys are CertificateError "encrypted", without key bytes',
  ignore: needsOpenssl,
  async fn() {
    const ec = await testCredentials("P-256", "sec1");
    const rsa = await testCredentials("RSA", "pkcs1");
    const pass = ["-passout", "pass:secret"];
    const pkcs8 = await openssl([
      "pkcs8",
      "-topk8",
      "-v2",
      "aes-256-cbc",
      ...pass,
      "-in",
      ec.keyFile,
    ]);
    assert.match(pkcs8.stdout, /BEGIN ENCRYPTED PRIVATE KEY/);
    await rejectsWith(
      ServerCredentials.fromPem(ec.certPem, pkcs8.stdout),
      "encrypted",
      /encrypted/,
      pkcs8.stdout,
    );
    const legacyEc = await openssl(["ec", "-aes256", ...pass, "-in", ec.keyFile]);
    assert.match(legacyEc.stdout, /Proc-Type: 4,ENCRYPTED/);
    await rejectsWith(
      ServerCredentials.fromPem(ec.certPem, legacyEc.stdout),
      "encrypted",
      /EC PRIVATE KEY.*encrypted/,
      legacyEc.stdout,
    );
    const legacyRsa = await openssl([
      "rsa",
      "-aes256",
      "-traditional",
      ...pass,
      "-in",
      rsa.keyFile,
    ]);
    assert.match(legacyRsa.stdout, /Proc-Type: 4,ENCRYPTED/);
    await rejectsWith(
      ServerCredentials.fromPem(rsa.certPem, legacyRsa.stdout),
      "encrypted",
      /RSA PRIVATE KEY.*encrypted/,
      legacyRsa.stdout,
    );
  },
});

Deno.test({
  name: "the private key does not match the certificate: same type, other type, other curve",
  ignore: needsOpenssl,
  async fn() {
    const p256 = await testCredentials("P-256");
    const p256b = await testCredentials("P-256", "sec1");
    const p384 = await testCredentials("P-384");
    const ed = await testCredentials("Ed25519");
    const rsa = await testCredentials("RSA");
    const rsab = await testCredentials("RSA", "pkcs1");
    const exact = /^the private key does not match the certificate$/;
    await rejectsWith(ServerCredentials.fromPem(p256.certPem, p256b.keyPem), "mismatch", exact);
    await rejectsWith(ServerCredentials.fromPem(rsa.certPem, rsab.keyPem), "mismatch", exact);
    await rejectsWith(
      ServerCredentials.fromPem(ed.certPem, p256.keyPem),
      "mismatch",
      /^the private key does not match the certificate \(the certificate's public key is Ed25519, the private key is P-256\)$/,
    );
    await rejectsWith(ServerCredentials.fromPem(p384.certPem, p256.keyPem), "mismatch", /P-384/);
    await rejectsWith(ServerCredentials.fromPem(p256.certPem, rsa.keyPem), "mismatch", /RSA/);
    // Ed25519: a second key of the same type.
    const ed2 = (await openssl(["genpkey", "-algorithm", "ED25519"])).stdout;
    await rejectsWith(ServerCredentials.fromPem(ed.certPem, ed2), "mismatch", exact, ed2);
  },
});

Deno.test({
  name: "RFC 8446 §4.4.2 Certificate: the chain keeps the PEM order, leaf first; a CA-first " +
    "chain does not match the leaf key",
  ignore: needsOpenssl,
  async fn() {
    const c = await testChain("P-256");
    const creds = await ServerCredentials.fromPem(c.certPem, c.keyPem);
    assert.equal(creds.chain.length, 2);
    const leaf = new nodeCrypto.X509Certificate(c.leafPem);
    const ca = new nodeCrypto.X509Certificate(c.caPem);
    assert.deepEqual(new Uint8Array(creds.chain[0]), new Uint8Array(leaf.raw));
    assert.deepEqual(new Uint8Array(creds.chain[1]), new Uint8Array(ca.raw));
    assert.ok(new nodeCrypto.X509Certificate(creds.chain[0]).checkIssued(ca));
    const data = new Uint8Array(10);
    assert.ok(nodeVerify(0x0403, c.leafPem, data, await creds.sign(0x0403, data)));
    await rejectsWith(
      ServerCredentials.fromPem(c.caPem + c.leafPem, c.keyPem),
      "mismatch",
      /does not match/,
    );
    // A combined file (certificates and key in one PEM, with explanatory text) serves as both.
    const text = (await openssl(["x509", "-in", c.certFile, "-text"])).stdout;
    const combined = `${text}\n${c.caPem}${c.keyPem}`;
    const again = await ServerCredentials.fromPem(combined, combined);
    assert.equal(again.chain.length, 2);
    assert.deepEqual(again.chain, creds.chain);
    // CRLF line endings.
    const crlf = await ServerCredentials.fromPem(
      c.certPem.replaceAll("\n", "\r\n"),
      c.keyPem.replaceAll("\n", "\r\n"),
    );
    assert.deepEqual(crlf.chain, creds.chain);
  },
});

Deno.test({
  name: "RFC 7468 PEM: malformed, missing and oversized input is CertificateError, never TypeError",
  ignore: needsOpenssl,
  async fn(t) {
    const { certPem, keyPem } = await testCredentials("P-256");
    const certDer = pemBlock(certPem, "CERTIFICATE");
    const lines = certPem.trimEnd().split("\n");
    const last = lines.length - 2; // the last base64 line
    const withLast = (f: (l: string) => string) =>
      [...lines.slice(0, last), f(lines[last]), lines[last + 1]].join("\n");
    const cases: [string, string, string, CertificateErrorReason, RegExp][] = [
      ["empty certificate PEM", "", keyPem, "missing", /no CERTIFICATE block \(no PEM blocks/],
      ["garbage", "hello, world\n", keyPem, "missing", /no CERTIFICATE block/],
      ["only a key in the certificate PEM", keyPem, keyPem, "missing", /found: PRIVATE KEY/],
      ["no key", certPem, certPem, "missing", /no private key block \(found: CERTIFICATE\)/],
      ["two keys", certPem, keyPem + keyPem, "malformed", /2 private key blocks/],
      [
        "base64 truncated by one character",
        withLast((l) => l.slice(0, -2) + "="),
        keyPem,
        "malformed",
        /invalid base64/,
      ],
      [
        "base64 missing its padding",
        "-----BEGIN CERTIFICATE-----\nMAA\n-----END CERTIFICATE-----\n",
        keyPem,
        "malformed",
        /invalid base64/,
      ],
      [
        "base64 truncated by whole lines",
        [...lines.slice(0, last), lines[last + 1]].join("\n"),
        keyPem,
        "malformed",
        /not a DER X\.509 certificate/,
      ],
      [
        "a stray character",
        withLast((l) => "*" + l.slice(1)),
        keyPem,
        "malformed",
        /invalid base64/,
      ],
      [
        "PEM cut in half",
        certPem.slice(0, certPem.length / 2),
        keyPem,
        "malformed",
        /no "-----END/,
      ],
      [
        "mismatched END label",
        certPem.replace("END CERTIFICATE", "END X509 CRL"),
        keyPem,
        "malformed",
        /expected "-----END CERTIFICATE-----"/,
      ],
      [
        "END without BEGIN",
        "-----END CERTIFICATE-----\n" + certPem,
        keyPem,
        "malformed",
        /encapsulation boundary/,
      ],
      [
        "BEGIN inside a block",
        certPem.replace("-----END CERTIFICATE-----", certPem),
        keyPem,
        "malformed",
        /expected "-----END CERTIFICATE-----"/,
      ],
      [
        "header lines in a certificate",
        certPem.replace("-----\n", "-----\nComment: hi\n\n"),
        keyPem,
        "malformed",
        /header lines/,
      ],
      ["not DER", pem("CERTIFICATE", Uint8Array.of(1, 2, 3)), keyPem, "malformed", /not a DER/],
      [
        "an empty SEQUENCE",
        pem("CERTIFICATE", Uint8Array.of(0x30, 0)),
        keyPem,
        "malformed",
        /not a DER/,
      ],
      [
        "trailing data after the certificate",
        pem("CERTIFICATE", Uint8Array.of(...certDer, 0)),
        keyPem,
        "malformed",
        /trailing data/,
      ],
      [
        "indefinite length",
        pem("CERTIFICATE", Uint8Array.of(0x30, 0x80, ...certDer, 0, 0)),
        keyPem,
        "malformed",
        /not a DER/,
      ],
      [
        "a bad second certificate",
        certPem + pem("CERTIFICATE", Uint8Array.of(0x30, 1, 5)),
        keyPem,
        "malformed",
        /block 2 \(CERTIFICATE\) is not a DER/,
      ],
      [
        "17 certificates",
        certPem.repeat(17),
        keyPem,
        "too-large",
        /17 certificates, at most 16/,
      ],
      [
        "a 70 KiB block",
        pem("CERTIFICATE", new Uint8Array(70 * 1024)),
        keyPem,
        "too-large",
        /larger than the 65536 bytes/,
      ],
      ["5 MiB of text", certPem + " ".repeat(5 << 20), keyPem, "too-large", /characters/],
      [
        "garbage in the PRIVATE KEY block",
        certPem,
        pem("PRIVATE KEY", Uint8Array.of(0x30, 3, 2, 1, 0)),
        "malformed",
        /PRIVATE KEY/,
      ],
      [
        "a PKCS#8 key that Web Crypto refuses",
        certPem,
        // PrivateKeyInfo { 0, { id-ecPublicKey, prime256v1 }, OCTET STRING { 00 } }
        pem(
          "PRIVATE KEY",
          Uint8Array.fromHex(
            "301b02010030130607" + "2a8648ce3d0201" + "0608" + "2a8648ce3d030107" + "040100",
          ),
        ),
        "malformed",
        /cannot be imported/,
      ],
    ];
    for (const [name, cert, key, reason, re] of cases) {
      await t.step(name, async () => {
        await rejectsWith(ServerCredentials.fromPem(cert, key), reason, re, keyPem);
      });
    }
    await t.step("non-string arguments", async () => {
      const fromPem = ServerCredentials.fromPem as (c: unknown, k: unknown) => Promise<unknown>;
      await rejectsWith(fromPem(undefined, keyPem), "malformed", /must be a string/);
      await rejectsWith(fromPem(certPem, new Uint8Array(3)), "malformed", /must be a string/);
    });
  },
});

/** A small deterministic PRNG (xorshift32) so that failures reproduce. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

Deno.test({
  name: "fuzz: mutated and truncated key and certificate DER load or fail with CertificateError",
  ignore: needsOpenssl,
  async fn() {
    const rand = prng(0x5eed);
    const sources: [string, string, string][] = [];
    for (
      const [kind, form] of [["P-256", "pkcs8"], ["P-256", "sec1"], ["Ed25519", "pkcs8"]] as const
    ) {
      const c = await testCredentials(kind, form);
      sources.push([c.certPem, c.keyPem, form === "sec1" ? "EC PRIVATE KEY" : "PRIVATE KEY"]);
    }
    const rsa = await testCredentials("RSA", "pkcs1");
    sources.push([rsa.certPem, rsa.keyPem, "RSA PRIVATE KEY"]);
    let loaded = 0;
    let refused = 0;
    const attempt = async (cert: string, key: string) => {
      try {
        await ServerCredentials.fromPem(cert, key);
        loaded++;
      } catch (e) {
        assert.ok(e instanceof CertificateError, `escaped: ${e}`);
        refused++;
      }
    };
    for (let i = 0; i < 400; i++) {
      const [certPem, keyPem, label] = sources[i % sources.length];
      if (label === "RSA PRIVATE KEY" && i % 8 !== 3) continue; // RSA imports are slow
      const mutateCert = i % 2 === 0;
      const der = pemBlock(mutateCert ? certPem : keyPem, mutateCert ? "CERTIFICATE" : label);
      const m = der.slice();
      const flips = 1 + (rand() % 3);
      for (let f = 0; f < flips; f++) m[rand() % m.length] ^= 1 << (rand() % 8);
      const mutated = pem(mutateCert ? "CERTIFICATE" : label, m);
      await attempt(mutateCert ? mutated : certPem, mutateCert ? keyPem : mutated);
    }
    // Every truncation of a P-256 SEC1 key and a prefix sample of the certificate.
    const [certPem, keyPem] = sources[1];
    const key = pemBlock(keyPem, "EC PRIVATE KEY");
    for (let n = 1; n < key.length; n++) {
      await attempt(certPem, pem("EC PRIVATE KEY", key.subarray(0, n)));
    }
    const cert = pemBlock(certPem, "CERTIFICATE");
    for (let n = 1; n < cert.length; n += 7) {
      await attempt(pem("CERTIFICATE", cert.subarray(0, n)), keyPem);
    }
    assert.ok(refused > 200, `refused ${refused}`);
    assert.ok(loaded > 0, `loaded ${loaded}`); // flips in a certificate's signature are harmless
  },
});
