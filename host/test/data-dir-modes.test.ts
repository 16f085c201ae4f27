/**
 * The data dir holds job payloads, attestations, tokens and plugin logs: it is 0700 and every
 * file the host writes there is 0600 — also when an older host left the folder 0755 and the
 * database 0644, and whatever the umask.
 */
import { afterAll, expect, it } from "@jest/globals";
import Database from "better-sqlite3";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { loadConfig } from "../src/config/index.js";
import { startHost } from "../src/server.js";
import { fakePluginTable, hostTable, until } from "./harness.js";

const dir = mkdtempSync(join(tmpdir(), "qntx-modes-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

it("keeps the data dir 0700 and the files in it 0600", async () => {
  const data = join(dir, "data");
  // As an older host left it: an open folder and a world-readable database.
  mkdirSync(data, { mode: 0o755 });
  chmodSync(data, 0o755);
  const old = new Database(join(data, "qntx.db"));
  old.close();
  chmodSync(join(data, "qntx.db"), 0o644);
  const configFile = join(dir, "am.plugins.toml");
  writeFileSync(configFile, `${await hostTable(dir)}\n${fakePluginTable("chatty", "chatty")}`);
  const previous = process.umask(0o022);
  let host;
  try {
    host = await startHost(loadConfig({ configPath: configFile }), pino({ level: "silent" }), { watchConfig: false });
    await host.ready;
    await until(() => (readdirSync(join(data, "logs")).includes("chatty.log") ? true : undefined), "the plugin's log file");
    expect(mode(data)).toBe("700");
    expect(mode(join(data, "logs"))).toBe("700");
    for (const file of ["qntx.db", "qntx.db-wal", "qntx.db-shm", "admin.token", "host.json", "logs/chatty.log"]) {
      expect([file, mode(join(data, file))]).toEqual([file, "600"]);
    }
    const pidFile = readdirSync(data).find((f) => /^plugins-\d+\.pid$/.test(f));
    expect(pidFile).toBeDefined();
    expect(mode(join(data, pidFile!))).toBe("600");
  } finally {
    process.umask(previous);
    await host?.close();
  }
});
