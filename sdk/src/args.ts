/**
 * Command-line flags a plugin process accepts, as hosts pass them:
 * QNTX's Go host runs `<binary> --port N`, its TypeScript runtime uses `--grpc-port N`,
 * and `--address host:port` picks the interface too. Unknown arguments are left alone:
 * hosts may append their own.
 */

/** What the flags asked for; a missing field means "not given". */
export interface PluginArgs {
  host?: string;
  port?: number;
}

function parsePort(flag: string, value: string | undefined): number {
  if (value === undefined || !/^\d{1,5}$/.test(value) || Number(value) > 65535) {
    throw new Error(`${flag}: expected a port number from 0 to 65535, got ${value === undefined ? "nothing" : `"${value}"`}`);
  }
  return Number(value);
}

function parseAddress(value: string | undefined): { host: string; port: number } {
  // `[::1]:38700`, `127.0.0.1:38700` or `localhost:38700`; the port is after the last colon.
  const match = value === undefined ? null : /^(\[[^\]]+\]|[^:]+|[^[\]]*:[^[\]]*):(\d{1,5})$/.exec(value);
  if (!match) {
    throw new Error(`--address: expected host:port (e.g. 127.0.0.1:38700), got ${value === undefined ? "nothing" : `"${value}"`}`);
  }
  return { host: match[1]!.replace(/^\[|\]$/g, ""), port: parsePort("--address", match[2]) };
}

/**
 * Reads `--port N`, `--grpc-port N` (alias) and `--address host:port`, each also as
 * `--flag=value`. An explicit `--port`/`--grpc-port` wins over the port of `--address`,
 * whatever the order. Throws an Error naming the flag when a value is malformed.
 */
export function parsePluginArgs(argv: readonly string[]): PluginArgs {
  let host: string | undefined;
  let addressPort: number | undefined;
  let port: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    if (flag !== "--port" && flag !== "--grpc-port" && flag !== "--address") continue;
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (flag === "--address") {
      const address = parseAddress(value);
      host = address.host;
      addressPort = address.port;
    } else {
      port = parsePort(flag, value);
    }
  }
  const result: PluginArgs = {};
  if (host !== undefined) result.host = host;
  const chosen = port ?? addressPort;
  if (chosen !== undefined) result.port = chosen;
  return result;
}
