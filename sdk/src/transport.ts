/**
 * How a served plugin listens: plaintext TCP (the default, what QNTX hosts expect), TLS, and
 * unix sockets. The host asks for automatic mutual TLS and sockets through the environment
 * (@qntx/protocol transport.ts); a plugin run by hand elsewhere (dialed by a host at its
 * `address`) is given its TLS files the same way:
 *
 * - `QNTX_TLS_CERT`, `QNTX_TLS_KEY`: PEM files of the plugin's server certificate and key.
 * - `QNTX_TLS_CLIENT_CA`: PEM CA file; when set, callers must present a client certificate it
 *   signed (mutual TLS). A TLS plugin without it accepts any caller that completes TLS.
 * - `QNTX_PLUGIN_CLIENT_CERT` (set by a host with `auto_mtls`): see {@link transportFromEnv}.
 * - `QNTX_PLUGIN_SOCKET` (set by a host for `transport = "unix"`): listen on that path.
 */
import { readFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { ServerCredentials } from "@grpc/grpc-js";
import { CLIENT_CERT_ENV, SOCKET_ENV, makeSelfSignedCertificate } from "@qntx/protocol";

/** TLS a plugin serves with, PEM text or buffers. */
export interface ServerTls {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** When given, callers must present a client certificate this CA (or self-signed certificate) vouches for. */
  readonly clientCa?: string | Buffer;
}

/** What the environment asks of a served plugin. */
export interface TransportChoice {
  /** Serve TLS with this, else plaintext. */
  readonly tls?: ServerTls;
  /** DER of the auto-mTLS certificate to announce before the port line (auto-mTLS only). */
  readonly announceCert?: Buffer;
  /** Listen on this unix socket instead of a TCP port. */
  readonly socket?: string;
}

/** Names of the environment variables of a TLS plugin run by hand. */
export const TLS_ENV = { cert: "QNTX_TLS_CERT", key: "QNTX_TLS_KEY", clientCa: "QNTX_TLS_CLIENT_CA" } as const;

/**
 * Reads the transport the environment asks for. With `QNTX_PLUGIN_CLIENT_CERT` (auto-mTLS) it
 * makes a one-time self-signed certificate and requires exactly the host's certificate from
 * callers; that wins over `QNTX_TLS_*`. Throws an Error naming the variable when a file cannot
 * be read or a value is not a certificate.
 */
export async function transportFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<TransportChoice> {
  const socket = env[SOCKET_ENV] || undefined;
  if (socket !== undefined && !socket.startsWith("/")) throw new Error(`${SOCKET_ENV} must be an absolute path (got "${socket}")`);
  const hostCert = env[CLIENT_CERT_ENV];
  if (hostCert) {
    try {
      new X509Certificate(hostCert);
    } catch (err) {
      throw new Error(`${CLIENT_CERT_ENV} is not a PEM certificate: ${(err as Error).message}`);
    }
    const own = await makeSelfSignedCertificate({ commonName: "qntx-plugin" });
    return { tls: { cert: own.cert, key: own.key, clientCa: hostCert }, announceCert: Buffer.from(new X509Certificate(own.cert).raw), ...(socket ? { socket } : {}) };
  }
  const certFile = env[TLS_ENV.cert] || undefined;
  const keyFile = env[TLS_ENV.key] || undefined;
  const caFile = env[TLS_ENV.clientCa] || undefined;
  if (certFile === undefined && keyFile === undefined) {
    if (caFile !== undefined) throw new Error(`${TLS_ENV.clientCa} is set but ${TLS_ENV.cert} and ${TLS_ENV.key} are not: a plugin needs its own certificate to serve TLS`);
    return socket ? { socket } : {};
  }
  if (certFile === undefined || keyFile === undefined) throw new Error(`set both ${TLS_ENV.cert} and ${TLS_ENV.key} (only ${certFile ? TLS_ENV.cert : TLS_ENV.key} is set)`);
  const tls: ServerTls = {
    cert: readPem(TLS_ENV.cert, certFile),
    key: readPem(TLS_ENV.key, keyFile),
    ...(caFile ? { clientCa: readPem(TLS_ENV.clientCa, caFile) } : {}),
  };
  return { tls, ...(socket ? { socket } : {}) };
}

/** grpc-js server credentials for `tls` (plaintext when undefined). */
export function serverCredentials(tls: ServerTls | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const clientCa = tls.clientCa === undefined ? null : Buffer.from(tls.clientCa);
  return ServerCredentials.createSsl(clientCa, [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], clientCa !== null);
}

function readPem(name: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${name}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
