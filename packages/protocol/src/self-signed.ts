/**
 * One-time self-signed certificates for automatic mutual TLS (see transport.ts): the host's
 * client certificate and a spawned plugin's server certificate. EC P-256 keys: generating
 * one is a few milliseconds, where an RSA-2048 key costs 200 ms and more on a busy machine.
 *
 * The `selfsigned` library (X.509 building over Node's WebCrypto) is imported on first use
 * only: it costs about 100 ms to load, which plugins and hosts that do not use auto-mTLS
 * never pay. (It installs the `reflect-metadata` polyfill on `Reflect` when loaded.)
 */

/** A certificate and its private key, both PEM. */
export interface CertificatePair {
  readonly cert: string;
  readonly key: string;
}

/** Options of {@link makeSelfSignedCertificate}. */
export interface SelfSignedOptions {
  /** Subject common name, for people reading the certificate. */
  readonly commonName: string;
  /** DNS names in the subject alternative name extension (default: `localhost`). */
  readonly dnsNames?: readonly string[];
  /** IP addresses in it (default: 127.0.0.1 and ::1). */
  readonly ipAddresses?: readonly string[];
  /** Validity in days from now (default: 3650; it lives as long as one process). */
  readonly days?: number;
}

/**
 * A self-signed certificate usable both as a TLS server and client certificate and as its own
 * trust anchor (CA:TRUE, as go-plugin makes its own), so the other side pins it by trusting
 * exactly it.
 */
export async function makeSelfSignedCertificate(options: SelfSignedOptions): Promise<CertificatePair> {
  const { generate } = (await import("selfsigned")).default;
  const now = Date.now();
  const altNames = [
    ...(options.dnsNames ?? ["localhost"]).map((value) => ({ type: 2 as const, value })),
    ...(options.ipAddresses ?? ["127.0.0.1", "::1"]).map((ip) => ({ type: 7 as const, ip })),
  ];
  const pems = await generate([{ name: "commonName", value: options.commonName }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    // A minute back: the other side's clock is the same machine's, but the second may differ.
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + (options.days ?? 3650) * 86_400_000),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true, critical: true },
      { name: "extKeyUsage", serverAuth: true, clientAuth: true },
      { name: "subjectAltName", altNames },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
