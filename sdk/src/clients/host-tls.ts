/**
 * How a plugin reaches a host whose services require mutual TLS (`[host] grpc_tls`). The
 * endpoints of `InitializeRequest` stay `host:port` (QNTX's wire), so TLS cannot come from
 * there: a plugin that runs away from the host's machine is given its client certificate in
 * its own environment:
 *
 * - `QNTX_HOST_TLS_CA`: PEM CA file the host's services certificate must chain to;
 * - `QNTX_HOST_TLS_CERT`, `QNTX_HOST_TLS_KEY`: the plugin's client certificate and key, signed
 *   by the CA in the host's `grpc_tls.ca`;
 * - `QNTX_HOST_TLS_SERVER_NAME` (optional): the name the host's certificate carries, when the
 *   endpoint's host is not in it.
 *
 * Without them the clients are plaintext, as against any QNTX host. Spawned plugins are given
 * a loopback plaintext endpoint by a host with `grpc_tls` and need none of this.
 */
import { readFileSync } from "node:fs";
import { credentials, type ChannelCredentials, type ChannelOptions } from "@grpc/grpc-js";

/** Names of the environment variables read by {@link hostChannelFromEnv}. */
export const HOST_TLS_ENV = {
  ca: "QNTX_HOST_TLS_CA",
  cert: "QNTX_HOST_TLS_CERT",
  key: "QNTX_HOST_TLS_KEY",
  serverName: "QNTX_HOST_TLS_SERVER_NAME",
} as const;

/** Credentials (and the name override) of channels to the host's services. */
export interface HostChannel {
  readonly credentials: ChannelCredentials;
  readonly options: ChannelOptions;
}

/**
 * The host channel the environment describes: plaintext when no `QNTX_HOST_TLS_*` is set,
 * else mutual TLS. Throws an Error naming the variable when one is missing or unreadable.
 */
export function hostChannelFromEnv(env: NodeJS.ProcessEnv = process.env): HostChannel {
  const ca = env[HOST_TLS_ENV.ca] || undefined;
  const cert = env[HOST_TLS_ENV.cert] || undefined;
  const key = env[HOST_TLS_ENV.key] || undefined;
  if (ca === undefined && cert === undefined && key === undefined) return { credentials: credentials.createInsecure(), options: {} };
  const missing = (["ca", "cert", "key"] as const).filter((k) => ({ ca, cert, key })[k] === undefined).map((k) => HOST_TLS_ENV[k]);
  if (missing.length) throw new Error(`mutual TLS to the host needs ${missing.join(" and ")} too (set: ${(["ca", "cert", "key"] as const).filter((k) => ({ ca, cert, key })[k] !== undefined).map((k) => HOST_TLS_ENV[k]).join(", ")})`);
  const serverName = env[HOST_TLS_ENV.serverName] || undefined;
  return {
    credentials: credentials.createSsl(read(HOST_TLS_ENV.ca, ca!), read(HOST_TLS_ENV.key, key!), read(HOST_TLS_ENV.cert, cert!)),
    options: serverName ? { "grpc.ssl_target_name_override": serverName, "grpc.default_authority": serverName } : {},
  };
}

function read(name: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`${name}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
