/**
 * A `qntx server` as its own process (for tests that kill hosts with SIGKILL): its config,
 * data dir and URL, started and waited for through its host.json.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { CLI, hostTable, http, until } from "../harness.js";

/** A host process. */
export interface ServerProcess {
  readonly url: string;
  readonly dir: string;
  readonly dataDir: string;
  /** The process (a thenable: keep it in this object, `await` would wait for its end). */
  readonly process: ResultPromise;
}

/**
 * Starts `qntx server` with `[host]` settings `host` (plus the test defaults) and the plugin
 * tables `plugins`, and waits until its plugins run.
 */
export async function startServerProcess(host: Record<string, string | number | boolean>, plugins = ""): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), "qntx-host-proc-"));
  const configFile = join(dir, "am.plugins.toml");
  writeFileSync(configFile, `${await hostTable(dir, host)}\n${plugins}`);
  const child = execa(process.execPath, [CLI, "server", "--config", configFile], { reject: false, buffer: false, env: { QNTX_LOG_LEVEL: "warn" } });
  child.stdout!.resume();
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const hostFile = join(dir, "data", "host.json");
  const url = await until(() => {
    if (child.exitCode !== null) throw new Error(`qntx server exited: ${stderr}`);
    return existsSync(hostFile) ? (JSON.parse(readFileSync(hostFile, "utf8")) as { url: string }).url : undefined;
  }, "host.json", 30_000);
  await until(async () => {
    const { plugins: list } = (await http(`${url}/api/plugins`)).json() as { plugins: { state: string }[] };
    return list.every((p) => p.state === "running") ? true : undefined;
  }, "plugins running", 30_000);
  return { url, dir, dataDir: join(dir, "data"), process: child };
}
