/**
 * Throw-away certificates for the TLS server tests, made with the `openssl` command-line tool:
 * self-signed `CN=localhost` certificates (subjectAltName `DNS:localhost, IP:127.0.0.1`, valid
 * 2 days) with a key of each type and PEM form, and a two-certificate chain (leaf signed by a
 * CA). Each is made once per process and cached; the files live in one temporary directory
 * that is removed when the process exits.
 *
 * @module
 */

import { ServerCredentials } from "../tls.ts";
import { findOpenssl } from "./interop/_openssl.ts";
import { runCommand } from "./_process.ts";

/** Key types of the test certificates. */
export type TestKeyKind = "P-256" | "P-384" | "Ed25519" | "RSA";
/** PEM form of the private key: PKCS#8, SEC1 (EC only), PKCS#1 (RSA only). */
export type TestKeyForm = "pkcs8" | "sec1" | "pkcs1";

/** A certificate and its private key, as PEM text and as files. */
export interface TestCredentials {
  /** The certificate PEM (for a chain: leaf first, then the CA). */
  certPem: string;
  /** The private key PEM. */
  keyPem: string;
  /** Path of a file holding `certPem`. */
  certFile: string;
  /** Path of a file holding `keyPem`. */
  keyFile: string;
}

/** {@link TestCredentials} of a leaf certificate issued by a test CA. */
export interface TestChain extends TestCredentials {
  /** The CA certificate PEM (also the second block of `certPem`). */
  caPem: string;
  /** Path of a file holding `caPem` (for a client's trust store, e.g. `-CAfile`). */
  caFile: string;
  /** The leaf certificate PEM alone. */
  leafPem: string;
}

const TIMEOUT_MS = 30_000;
const cache = new Map<string, Promise<TestCredentials>>();
const chains = new Map<string, Promise<TestChain>>();
let dirPromise: Promise<string> | undefined;
let binPromise: Promise<string> | undefined;

/**
 * A self-signed certificate and key of this type and form, made with `openssl` on first use
 * and cached for the rest of the process.
 *
 * @param kind Key type.
 * @param form PEM form of the key (default `"pkcs8"`): `"sec1"` (from `openssl ecparam
 *   -genkey`, with its `EC PARAMETERS` block) for P-256/P-384, `"pkcs1"` (`openssl genrsa
 *   -traditional`) for RSA.
 * @returns PEM texts and file paths.
 * @throws {Error} When openssl is missing or fails, or `form` does not fit `kind`.
 *
 * @example
 * ```ts
 * import { testCredentials } from "./_tls_certs.ts";
 * const { certPem, keyPem } = await testCredentials("P-256", "sec1");
 * console.log(keyPem.startsWith("-----BEGIN EC PARAMETERS-----")); // true
 * console.log(certPem.startsWith("-----BEGIN CERTIFICATE-----")); // true
 * ```
 */
export async function testCredentials(
  kind: TestKeyKind,
  form: TestKeyForm = "pkcs8",
): Promise<TestCredentials> {
  const fits = form === "pkcs8" || (form === "sec1" && (kind === "P-256" || kind === "P-384")) ||
    (form === "pkcs1" && kind === "RSA");
  if (!fits) throw new Error(`no ${form} form for a ${kind} key`);
  const id = `${kind}-${form}`;
  let p = cache.get(id);
  if (p === undefined) {
    p = makeSelfSigned(kind, form, id);
    cache.set(id, p);
    p.catch(() => cache.delete(id));
  }
  return await p;
}

/**
 * A leaf certificate (`CN=localhost`, with the same subjectAltName) issued by a self-signed test
 * CA (`CN=Test CA`, `basicConstraints=critical,CA:TRUE`), both with `kind` keys (PKCS#8),
 * cached per kind.
 *
 * @param kind Key type of both certificates.
 * @returns The chain (`certPem` is leaf then CA), the leaf key, and the CA alone.
 *
 * @example
 * ```ts
 * import { testChain } from "./_tls_certs.ts";
 * const chain = await testChain("P-256");
 * console.log(chain.certPem === chain.leafPem + chain.caPem); // true
 * ```
 */
export async function testChain(kind: TestKeyKind): Promise<TestChain> {
  const id = `${kind}-chain`;
  let p = chains.get(id);
  if (p === undefined) {
    p = makeChain(kind, id);
    chains.set(id, p);
    p.catch(() => chains.delete(id));
  }
  return await p;
}

async function makeSelfSigned(
  kind: TestKeyKind,
  form: TestKeyForm,
  id: string,
): Promise<TestCredentials> {
  const dir = await tempDir();
  const keyFile = `${dir}/${id}-key.pem`;
  const certFile = `${dir}/${id}-cert.pem`;
  if (form === "pkcs8") {
    await openssl([
      "req",
      "-x509",
      ...newKeyArgs(kind),
      "-keyout",
      keyFile,
      ...certArgs("/CN=localhost"),
      "-out",
      certFile,
    ]);
  } else {
    await openssl(
      form === "sec1"
        ? ["ecparam", "-genkey", "-name", kind === "P-256" ? "prime256v1" : "secp384r1"]
          .concat(["-out", keyFile])
        : ["genrsa", "-traditional", "-out", keyFile, "2048"],
    );
    await openssl(["req", "-x509", "-new", "-key", keyFile, ...certArgs("/CN=localhost")]
      .concat(["-out", certFile]));
  }
  return {
    certPem: await Deno.readTextFile(certFile),
    keyPem: await Deno.readTextFile(keyFile),
    certFile,
    keyFile,
  };
}

async function makeChain(kind: TestKeyKind, id: string): Promise<TestChain> {
  const dir = await tempDir();
  const caKey = `${dir}/${id}-ca-key.pem`;
  const caFile = `${dir}/${id}-ca.pem`;
  const keyFile = `${dir}/${id}-key.pem`;
  const csr = `${dir}/${id}.csr`;
  const leafFile = `${dir}/${id}-leaf.pem`;
  const certFile = `${dir}/${id}-cert.pem`;
  const ext = `${dir}/${id}.ext`;
  await openssl([
    "req",
    "-x509",
    ...newKeyArgs(kind),
    "-keyout",
    caKey,
    "-subj",
    "/CN=Test CA",
    "-days",
    "2",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign",
    "-out",
    caFile,
  ]);
  await openssl(["req", "-new", ...newKeyArgs(kind), "-keyout", keyFile, "-subj", "/CN=localhost"]
    .concat(["-out", csr]));
  await Deno.writeTextFile(ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  await openssl([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    caFile,
    "-CAkey",
    caKey,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    ext,
    "-out",
    leafFile,
  ]);
  const leafPem = await Deno.readTextFile(leafFile);
  const caPem = await Deno.readTextFile(caFile);
  await Deno.writeTextFile(certFile, leafPem + caPem);
  return {
    certPem: leafPem + caPem,
    keyPem: await Deno.readTextFile(keyFile),
    certFile,
    keyFile,
    caPem,
    caFile,
    leafPem,
  };
}

function newKeyArgs(kind: TestKeyKind): string[] {
  switch (kind) {
    case "P-256":
    case "P-384":
      return ["-newkey", "ec", "-pkeyopt", `ec_paramgen_curve:${kind}`, "-nodes"];
    case "Ed25519":
      return ["-newkey", "ed25519", "-nodes"];
    case "RSA":
      return ["-newkey", "rsa:2048", "-nodes"];
  }
}

function certArgs(subject: string): string[] {
  return [
    "-subj",
    subject,
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-days",
    "2",
  ];
}

/**
 * Runs `openssl <args>` (the binary from `findOpenssl`), throwing with its output on failure.
 *
 * @param args Arguments after the binary name.
 * @param stdin Optional standard input.
 * @returns Standard output as text and bytes.
 *
 * @example
 * ```ts
 * import { openssl } from "./_tls_certs.ts";
 * const r = await openssl(["version"]);
 * console.log(r.stdout.startsWith("OpenSSL")); // true
 * ```
 */
export async function openssl(
  args: string[],
  stdin?: string | Uint8Array,
): Promise<{ stdout: string; stdoutBytes: Uint8Array }> {
  binPromise ??= findOpenssl().then((o) => {
    if (o.bin === null) throw new Error(`openssl is needed for the test certificates: ${o.reason}`);
    return o.bin;
  });
  const bin = await binPromise;
  const r = await runCommand(bin, args, { stdin, timeoutMs: TIMEOUT_MS });
  if (r.code !== 0) {
    throw new Error(`openssl ${args.join(" ")}: exit ${r.code}\n${r.stderr}${r.stdout}`);
  }
  return r;
}

/**
 * The process's temporary directory for test certificates (made on first use, removed when
 * the process unloads).
 *
 * @returns Its path.
 *
 * @example
 * ```ts
 * import { tempDir } from "./_tls_certs.ts";
 * const dir = await tempDir();
 * await Deno.writeTextFile(`${dir}/note.txt`, "scratch");
 * ```
 */
export function tempDir(): Promise<string> {
  dirPromise ??= Deno.makeTempDir({ prefix: "session_tickets_tls_certs_" }).then((dir) => {
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // Already gone.
      }
    });
    return dir;
  });
  return dirPromise;
}

const credentialCache = new Map<TestKeyKind, Promise<ServerCredentials>>();

/**
 * The test certificate of `kind` as `ServerCredentials`, made once per process.
 *
 * @example
 * ```ts ignore
 * const credentials = await serverCredentials("P-256");
 * ```
 */
export function serverCredentials(kind: TestKeyKind = "P-256"): Promise<ServerCredentials> {
  let p = credentialCache.get(kind);
  if (!p) {
    p = testCredentials(kind).then(({ certPem, keyPem }) =>
      ServerCredentials.fromPem(certPem, keyPem)
    );
    credentialCache.set(kind, p);
  }
  return p;
}
