/**
 * The few settings of QNTX's am.toml that mean exactly what one of our `[host]` keys means, so a
 * QNTX user's file keeps working unchanged:
 *
 * | am.toml                                          | `[host]`            |
 * |--------------------------------------------------|---------------------|
 * | `[server] bind_address`, `port`                  | `listen`            |
 * | `[server] allowed_origins`                       | `allowed_origins`   |
 * | `[pulse] workers`                                | `pulse_concurrency` |
 * | `[plugin.websocket.keepalive] ping_interval_secs`| `ws_ping_interval_ms` (× 1000) |
 * | `[plugin.websocket.keepalive] pong_timeout_secs` | `ws_pong_timeout_ms` (× 1000)  |
 * | `[pulse] daily_budget_usd`, `weekly_budget_usd`, `monthly_budget_usd` | the same `[pulse]` keys (read by `services-schema.ts`) |
 *
 * A `[host]` table in the same file wins over them (it is this host's own word). Everything
 * else in those sections has no counterpart here and is ignored.
 */
import { DEFAULT_LISTEN } from "@qntx/protocol";
import { addressProblem, isTable, MAX_DURATION_MS, type Checker, type RawTable } from "./checker.js";
import type { MutableHostSettings } from "./host-schema.js";
import { checkStringList } from "./values.js";

/** What this host reads of each QNTX section it maps, for the note about ignored sections. */
export const QNTX_MAPPED_KEYS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  server: ["port", "bind_address", "allowed_origins"],
  pulse: ["workers", "daily_budget_usd", "weekly_budget_usd", "monthly_budget_usd", "over_budget"],
});

/** Host settings taken from QNTX's `[server]`, `[pulse]` and `[plugin.websocket.keepalive]`. */
export function qntxHostSettings(raw: RawTable, check: Checker): Partial<MutableHostSettings> {
  const out: Partial<MutableHostSettings> = {};
  const server = raw.server;
  if (isTable(server)) {
    if (server.port !== undefined || server.bind_address !== undefined) {
      const port = server.port === undefined ? Number(DEFAULT_LISTEN.split(":").pop()) : check.positiveInteger(["server", "port"], server.port, "port");
      const bind = server.bind_address === undefined ? "127.0.0.1" : check.string(["server", "bind_address"], server.bind_address);
      if (port !== undefined && bind !== undefined) {
        const listen = bind.includes(":") && !bind.startsWith("[") ? `[${bind}]:${port}` : `${bind}:${port}`;
        const bad = addressProblem(listen, false);
        if (bad) check.report(["server", "bind_address"], `gives the listen address ${JSON.stringify(listen)}, which is not host:port`, "write an IP address or a host name");
        else out.listen = listen;
      }
    }
    if (server.allowed_origins !== undefined) {
      out.allowedOrigins = checkStringList(["server", "allowed_origins"], server.allowed_origins, check, 'write it like allowed_origins = ["https://qntx.example.com"]');
    }
  }
  const pulse = raw.pulse;
  if (isTable(pulse) && pulse.workers !== undefined) {
    const workers = check.positiveInteger(["pulse", "workers"], pulse.workers, "size");
    if (workers !== undefined) out.pulseConcurrency = workers;
  }
  const plugin = raw.plugin;
  const websocket = isTable(plugin) ? plugin.websocket : undefined;
  const keepalive = isTable(websocket) ? websocket.keepalive : undefined;
  if (isTable(keepalive)) {
    const ping = seconds(["plugin", "websocket", "keepalive", "ping_interval_secs"], keepalive.ping_interval_secs, check);
    if (ping !== undefined) out.wsPingIntervalMs = ping;
    const pong = seconds(["plugin", "websocket", "keepalive", "pong_timeout_secs"], keepalive.pong_timeout_secs, check);
    if (pong !== undefined) out.wsPongTimeoutMs = pong;
  }
  return out;
}

/** A positive whole number of seconds as milliseconds, or undefined (reported when invalid). */
function seconds(path: readonly string[], value: unknown, check: Checker): number | undefined {
  if (value === undefined) return undefined;
  const secs = check.positiveInteger(path, value, "size");
  if (secs === undefined) return undefined;
  if (secs * 1000 > MAX_DURATION_MS) {
    check.report(path, `must be at most ${Math.floor(MAX_DURATION_MS / 1000)} seconds (got ${secs})`);
    return undefined;
  }
  return secs * 1000;
}
