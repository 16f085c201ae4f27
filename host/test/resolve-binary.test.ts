/** Which candidate `binary` resolves to: plugin folders and files before plain folders. */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveBinary } from "../src/plugin/resolve-binary.js";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "qntx-resolve-"));
  // A source folder named like the plugin next to the config, and the real binary on PATH.
  mkdirSync(join(dir, "config", "notes"), { recursive: true });
  mkdirSync(join(dir, "data"));
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "bin", "notes"), "#!/bin/sh\nexit 0\n");
  chmodSync(join(dir, "bin", "notes"), 0o755);
  // A marked plugin folder in the data dir's plugins folder.
  mkdirSync(join(dir, "data", "plugins", "marked"), { recursive: true });
  writeFileSync(join(dir, "data", "plugins", "marked", "package.json"), JSON.stringify({ name: "marked", "qntx-plugin": true }));
  writeFileSync(join(dir, "data", "plugins", "marked", "plugin.ts"), "export default { name: 'marked', version: '0.1.0' };\n");
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const where = () => ({ baseDir: join(dir, "config"), dataDir: join(dir, "data"), pathEnv: join(dir, "bin") });

describe("resolveBinary", () => {
  it("does not stop at a same-named folder that is not a plugin folder", async () => {
    expect((await resolveBinary("notes", where())).command).toBe(join(dir, "bin", "notes"));
  });

  it("runs a folder marked \"qntx-plugin\": true through the SDK's runner", async () => {
    const resolved = await resolveBinary("marked", where());
    expect(resolved.command).toBe(process.execPath);
    expect(resolved.args).toContain("--plugin-path");
    expect(resolved.path).toBe(join(dir, "data", "plugins", "marked", "plugin.ts"));
  });

  it("explains an unmarked folder when nothing else matches", async () => {
    mkdirSync(join(dir, "config", "lonely"));
    await expect(resolveBinary("lonely", where())).rejects.toThrow(/lonely is a folder without a package.json, so it is not a QNTX plugin folder/);
  });
});
