/** Host configs for the cases: a temp data dir, loopback ports, and plugin tables. */
import { join } from "node:path";
import { FIXTURES, HostProcess, REPO_DIR, randomBasePort, tempDir } from "./procs.mjs";

export const HELLO_PLUGIN = join(REPO_DIR, "examples", "hello", "dist", "main.js");
export const BENCH_PLUGIN = join(FIXTURES, "sdk-plugin.mjs");

/** TOML of a host with `plugins` ([{name, binary, env}]) and extra [host] settings. */
export function hostToml(dataDir, plugins, settings = {}) {
  const lines = [
    "[host]",
    'listen = "127.0.0.1:0"',
    `data_dir = ${JSON.stringify(dataDir)}`,
    'grpc_listen = "127.0.0.1:0"',
    `plugin_base_port = ${randomBasePort()}`,
    ...Object.entries(settings).map(([k, v]) => `${k} = ${JSON.stringify(v)}`),
    "",
  ];
  for (let p of plugins) {
    lines.push(`[plugins.${p.name}]`, `binary = ${JSON.stringify(p.binary)}`);
    const profile = process.env.BENCH_PROFILE;
    if (profile) p = { ...p, env: { ...p.env, BENCH_PLUGIN_PROFILE: profile } };
    if (p.env) lines.push(`env = { ${Object.entries(p.env).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ")} }`);
    lines.push("");
  }
  return lines.join("\n");
}

/**
 * Starts a host process with `plugins`, waits until every one is running, and returns
 * { host, ready, cleanup }. `options.dataDir`: use (and keep) this data dir instead of a temp one. Throws (after cleaning up) when a plugin fails to start.
 */
export async function startHostWith(label, plugins, settings = {}, options = {}) {
  const { dir, cleanup: removeDir } = options.dataDir ? { dir: options.dataDir, cleanup: () => {} } : tempDir(label);
  let host;
  try {
    host = await HostProcess.start({ toml: hostToml(dir, plugins, settings), dataDir: dir, label });
    const ready = await host.ready();
    const notRunning = ready.plugins.filter((p) => p.state !== "running");
    if (notRunning.length) throw new Error(`plugins not running: ${notRunning.map((p) => `${p.name} ${p.state} ${p.error ?? ""}`).join("; ")}`);
    return {
      host, ready, dir,
      cleanup: async () => {
        await host.close();
        removeDir();
      },
    };
  } catch (error) {
    const tail = host ? `\nhost log tail:\n${host.logTail()}` : "";
    await host?.close();
    removeDir();
    throw new Error(`${error.message}${tail}`);
  }
}
