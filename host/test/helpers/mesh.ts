/**
 * The service-mesh fixtures as tests drive them: a provider plugin (fixtures/provider-plugin.mjs)
 * and a caller plugin (fixtures/caller-plugin.mjs) that makes any host-service call a test asks
 * for over HTTP, with the token and endpoints of its own InitializeRequest.
 */
import { fileURLToPath } from "node:url";
import { http } from "../harness.js";

/** The provider fixture. */
export const PROVIDER_PLUGIN = fileURLToPath(new URL("../fixtures/provider-plugin.mjs", import.meta.url));
/** The caller fixture. */
export const CALLER_PLUGIN = fileURLToPath(new URL("../fixtures/caller-plugin.mjs", import.meta.url));

/** TOML table of a provider plugin `name` with the fixture's flags (`roles`, `mode`, `cost`, …). */
export function providerTable(name: string, flags: Record<string, string | number> = {}, extra = ""): string {
  return fixtureTable(PROVIDER_PLUGIN, name, flags, extra);
}

/** TOML table of a caller plugin `name`; `extra` adds keys (grants); `flags` its `--cost`. */
export function callerTable(name: string, extra = "", flags: Record<string, string | number> = {}): string {
  return fixtureTable(CALLER_PLUGIN, name, flags, extra);
}

/** A plugin table spawning `fixture` as `name`, each flag as `--key value`. */
function fixtureTable(fixture: string, name: string, flags: Record<string, string | number>, extra: string): string {
  const args = ["--name", name, ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)])];
  return `[plugins.${name}]\nbinary = ${JSON.stringify(fixture)}\nargs = ${JSON.stringify(args)}\n${extra}\n`;
}

/** What the caller fixture answers for one call. */
export interface CallResult {
  ok: boolean;
  response?: any;
  code?: string;
  details?: string;
  chunks?: Array<{ message: any; atMs: number }>;
}

/** The call `service/method` made by caller plugin `caller` of the host at `url`. */
export async function callService(url: string, caller: string, service: string, method: string, request: object = {}, options: { timeoutMs?: number; token?: string; stream?: boolean } = {}): Promise<CallResult> {
  const res = await http(`${url}/api/${caller}/${options.stream ? "stream" : "call"}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ service, method, request, timeoutMs: options.timeoutMs, token: options.token }),
  });
  if (res.status !== 200) throw new Error(`caller ${caller} answered ${res.status}: ${res.text}`);
  return res.json() as CallResult;
}
