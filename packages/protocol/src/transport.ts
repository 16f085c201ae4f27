/**
 * The process contract's additions for transports (docs/writing-plugins.md, "Transports"):
 * automatic mutual TLS for spawned plugins (as HashiCorp go-plugin's AutoMTLS) and unix
 * sockets. Both are opt-in by the host through the environment, so a plugin that knows
 * neither (every QNTX plugin) sees only unknown variables, and a host that knows neither (QNTX)
 * never asks and so never sees the extra lines.
 *
 * - Auto-mTLS: the host sets {@link CLIENT_CERT_ENV} to its one-time self-signed client
 *   certificate (PEM). The plugin makes its own self-signed server certificate, serves TLS that
 *   requires exactly that client certificate, and prints {@link CERT_LINE_PREFIX}`<base64 DER>`
 *   BEFORE its port line. The host pins that certificate for the plugin's channel.
 * - Unix socket: the host sets {@link SOCKET_ENV} to a path. The plugin listens there (mode
 *   0600) and prints {@link SOCKET_LINE_PREFIX}`<path>` instead of its port line.
 */

/** Environment variable: the host's client certificate (PEM); its presence asks for auto-mTLS. */
export const CLIENT_CERT_ENV = "QNTX_PLUGIN_CLIENT_CERT";

/** Environment variable: the unix socket path the host asks the plugin to listen on. */
export const SOCKET_ENV = "QNTX_PLUGIN_SOCKET";

/** Prefix of the stdout line carrying the plugin's server certificate (base64 DER), before the port line. */
export const CERT_LINE_PREFIX = "QNTX_PLUGIN_CERT=";

/** Prefix of the stdout line a plugin listening on a unix socket prints instead of its port line. */
export const SOCKET_LINE_PREFIX = "QNTX_PLUGIN_SOCKET=";

/** Formats the certificate line from a DER certificate. */
export function formatCertLine(der: Uint8Array): string {
  return `${CERT_LINE_PREFIX}${Buffer.from(der).toString("base64")}`;
}

/**
 * Reads the DER certificate of a certificate line, or undefined when the line is not one.
 * Padding is optional (go-plugin writes base64 without it).
 */
export function parseCertLine(line: string): Buffer | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith(CERT_LINE_PREFIX)) return undefined;
  const text = trimmed.slice(CERT_LINE_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined;
  const der = Buffer.from(text, "base64");
  return der.length > 0 ? der : undefined;
}

/** Formats the socket line. */
export function formatSocketLine(path: string): string {
  return `${SOCKET_LINE_PREFIX}${path}`;
}

/** Reads the path of a socket line (absolute paths only), or undefined when the line is not one. */
export function parseSocketLine(line: string): string | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith(SOCKET_LINE_PREFIX)) return undefined;
  const path = trimmed.slice(SOCKET_LINE_PREFIX.length);
  return path.startsWith("/") ? path : undefined;
}

/** A grpc-js target for a unix socket path: `unix:///abs/path`. */
export function unixTarget(path: string): string {
  return `unix://${path}`;
}
