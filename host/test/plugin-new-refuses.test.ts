/**
 * `qntx plugin new` refusing, writing nothing (bad name, reserved name, unknown language,
 * existing folder, existing table, a file the table cannot join: exit 1 with a clear error),
 * and keeping the config file's bytes when it appends (CRLF, spacing, comments, non-ASCII).
 */
import { describe, expect, it } from "@jest/globals";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../src/config/index.js";
import { pluginNew, tempDir } from "./helpers/plugin-new.js";

/** A folder with a config file holding `text`; returns both paths. */
function project(text: string | Buffer = "[host]\nlisten = \"127.0.0.1:0\"\n"): { dir: string; configFile: string; before: Buffer } {
  const dir = tempDir();
  const configFile = join(dir, "am.plugins.toml");
  writeFileSync(configFile, text);
  return { dir, configFile, before: readFileSync(configFile) };
}

describe("qntx plugin new refuses, writing nothing", () => {
  it("a name with characters the host does not accept", async () => {
    const p = project();
    const res = await pluginNew(["my plugin"], p.dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('error: "my plugin" is not a valid plugin name: use only letters, digits, "_" and "-"');
    expect(res.stderr).toContain('hint: the name becomes the URL segment /api/<name> and the table [plugins.<name>]; for example "my-plugin"');
    expect(readdirSync(p.dir)).toEqual(["am.plugins.toml"]);
    expect(readFileSync(p.configFile).equals(p.before)).toBe(true);
  });

  it("a reserved name, in any case", async () => {
    const p = project();
    for (const name of ["pulse", "Plugins"]) {
      const res = await pluginNew([name], p.dir);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`"${name}" is a reserved name: it is one of the host's own routes`);
      expect(res.stderr).toContain(`hint: pick another name, for example "${name}-plugin"`);
    }
    expect(readdirSync(p.dir)).toEqual(["am.plugins.toml"]);
    expect(readFileSync(p.configFile).equals(p.before)).toBe(true);
  });

  it("an unknown language", async () => {
    const p = project();
    const res = await pluginNew(["x", "--lang", "rust"], p.dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("argument 'rust' is invalid. Allowed choices are ts, python, go.");
    expect(readdirSync(p.dir)).toEqual(["am.plugins.toml"]);
  });

  it("an existing, non-empty folder unless --force (which overwrites the scaffold's files and keeps the others)", async () => {
    const p = project();
    const folder = join(p.dir, "plugins", "notes");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "plugin.ts"), "// mine\n");
    writeFileSync(join(folder, "keep.txt"), "keep\n");
    const res = await pluginNew(["notes"], p.dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`error: the folder ${folder} already exists (2 entries); nothing was written`);
    expect(res.stderr).toContain("--force");
    expect(readFileSync(join(folder, "plugin.ts"), "utf8")).toBe("// mine\n");
    expect(readFileSync(p.configFile).equals(p.before)).toBe(true);

    const forced = await pluginNew(["notes", "--force"], p.dir);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(folder, "plugin.ts"), "utf8")).toContain('name: "notes"');
    expect(readFileSync(join(folder, "keep.txt"), "utf8")).toBe("keep\n");
    expect(readFileSync(p.configFile, "utf8")).toContain('[plugins.notes]\nbinary = "plugins/notes/plugin.ts"\n');
  });

  it("a name whose table exists already, in any TOML form, naming the file and line (even with --force)", async () => {
    const forms = [
      ['# keep\n[host]\nlisten = "127.0.0.1:0"\n\n[plugins.notes]\nbinary = "./mine"\n', 5],
      ['# keep\n[plugins]\nnotes = { address = "127.0.0.1:9000" }\n', 3],
      ['# keep\nplugins.notes.builtin = "clock"\n[host]\nlisten = "127.0.0.1:0"\n', 2],
    ] as const;
    for (const [form, line] of forms) {
      const p = project(form);
      const res = await pluginNew(["notes", "--force"], p.dir);
      expect(res.code).toBe(1);
      expect(res.stderr).toContain(`error: ${p.configFile}:${line} already has a table for plugin "notes"; it was left untouched`);
      expect(res.stderr).toContain("hint: pick another name, or remove [plugins.notes]");
      expect(readFileSync(p.configFile).equals(p.before)).toBe(true);
      expect(existsSync(join(p.dir, "plugins"))).toBe(false);
    }
  });

  it("a config file that is not valid TOML, naming its line", async () => {
    const p = project('[host]\nlisten = "127.0.0.1:0"\nbroken = \n');
    const res = await pluginNew(["notes"], p.dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`error: ${p.configFile}:3:`);
    expect(res.stderr).toContain("is not valid TOML");
    expect(readFileSync(p.configFile).equals(p.before)).toBe(true);
    expect(existsSync(join(p.dir, "plugins"))).toBe(false);
  });

  it("a config whose plugins table is inline (a [plugins.<name>] header cannot extend it), showing the table to add by hand", async () => {
    const p = project('plugins = { other = { address = "127.0.0.1:9000" } }\n');
    const res = await pluginNew(["notes"], p.dir);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("would not be valid TOML with [plugins.notes] appended");
    expect(res.stderr).toContain("hint: add this table by hand:\n# notes: generated by");
    expect(res.stderr).toContain('\n[plugins.notes]\nbinary = "plugins/notes/plugin.ts"\nconfig = { greeting = "Hello" }\n');
    expect(readFileSync(p.configFile).equals(p.before)).toBe(true);
    expect(existsSync(join(p.dir, "plugins"))).toBe(false);
  });
});

describe("qntx plugin new keeps the config file's bytes", () => {
  it("creates the config file (and its folder) when missing, with the table only", async () => {
    const dir = tempDir();
    const res = await pluginNew(["notes", "--config", "deploy/am.plugins.toml", "--dir", "ext"], dir);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("Created deploy/am.plugins.toml:");
    const text = readFileSync(join(dir, "deploy", "am.plugins.toml"), "utf8");
    expect(text).toBe('# notes: generated by `qntx plugin new notes --lang ts` (../ext/notes)\n[plugins.notes]\nbinary = "../ext/notes/plugin.ts"\nconfig = { greeting = "Hello" }\n');
    // The host resolves that binary against the config file's folder: it is the generated file.
    const config = loadConfig({ configPath: join(dir, "deploy", "am.plugins.toml"), env: { HOME: dir } });
    expect(config.plugins[0]!.source).toMatchObject({ kind: "binary", binary: "../ext/notes/plugin.ts" });
    expect(existsSync(join(dir, "ext", "notes", "plugin.ts"))).toBe(true);
  });

  it("keeps CRLF line endings, odd spacing, comments and non-ASCII bytes, and appends with CRLF", async () => {
    const original = Buffer.from('# caf\u00e9 \u2603\r\n[host]\r\nlisten   =   "127.0.0.1:0"    # spaced\r\n\r\n\r\n', "utf8");
    const p = project(original);
    const res = await pluginNew(["notes", "--lang", "python"], p.dir);
    expect(res.code).toBe(0);
    const after = readFileSync(p.configFile);
    expect(after.subarray(0, original.length).equals(original)).toBe(true);
    const added = after.subarray(original.length).toString("utf8");
    expect(added).toBe('\r\n# notes: generated by `qntx plugin new notes --lang python` (plugins/notes)\r\n[plugins.notes]\r\nbinary = "plugins/notes/run.sh"\r\nconfig = { greeting = "Hello" }\r\n');
  });
});
