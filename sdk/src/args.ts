/**
 * Command-line flags a plugin process accepts, as hosts pass them:
 * QNTX's Go host runs `<binary> --port N`, its TypeScript runtime uses `--grpc-port N`,
 * and `--address host:port` picks the interface too. Parsed by `node:util` `parseArgs`,
 * non-strict: unknown arguments are left alone, since hosts may append their own.
 */
import { parseArgs } from "node:util";

/** What the flags asked for; a missing field means "not given". */
export interface PluginArgs {
  host?: string;
  port?: number;
}

const OPTIONS = { port: { type: "string" }, "grpc-port": { type: "string" }, address: { type: "string" } } as const;

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
  const { tokens } = parseArgs({ args: [...argv], options: OPTIONS, strict: false, allowPositionals: true, tokens: true });
  let host: string | undefined;
  let addressPort: number | undefined;
  let port: number | undefined;
  for (const token of tokens) {
    if (token.kind !== "option" || !(token.name in OPTIONS)) continue;
    // A value-taking flag given as a switch (`--port` last) has no value: an error, as a port is required.
    const value = typeof token.value === "string" ? token.value : undefined;
    if (token.name === "address") {
      const address = parseAddress(value);
      host = address.host;
      addressPort = address.port;
    } else {
      port = parsePort(token.rawName, value);
    }
  }
  const result: PluginArgs = {};
  if (host !== undefined) result.host = host;
  const chosen = port ?? addressPort;
  if (chosen !== undefined) result.port = chosen;
  return result;
}
