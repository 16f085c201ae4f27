/**
 * Which candidate `binary` resolves to: plugin folders and files before plain folders; and the
 * search by name of a plugin enabled in am.toml (QNTX's discovery), against real files.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QntxError } from "@qntx/protocol";
import { qntxBinaryNames, type BinarySource } from "../src/config/index.js";
import { resolveBinary, resolvePluginBinary } from "../src/plugin/resolve-binary.js";

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

/** A binary source found by name (am.toml's `[plugin] enabled`), searched in `paths`. */
function byName(name: string, paths: string[], repo?: string): BinarySource {
  return { kind: "binary", binary: name, search: { paths, names: qntxBinaryNames(name), repo }, autoStart: true, args: [], env: {}, cwd: undefined };
}

/** Writes an executable (or, with mode 0o644, a plain) file, creating its folder. */
function file(path: string, mode = 0o755): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, "#!/bin/sh\nexit 0\n");
  chmodSync(path, mode);
  return path;
}

describe("resolvePluginBinary: a plugin enabled by name, searched as QNTX does", () => {
  it("tries each folder in order, and in each the names qntx-<name>-plugin, qntx-<name>, <name>", async () => {
    const first = join(dir, "search-order", "first");
    const second = join(dir, "search-order", "second");
    file(join(second, "qntx-tool-plugin"));
    file(join(first, "tool"));
    expect((await resolvePluginBinary(byName("tool", [first, second]), where())).command).toBe(join(first, "tool"));
    file(join(first, "qntx-tool"));
    expect((await resolvePluginBinary(byName("tool", [first, second]), where())).command).toBe(join(first, "qntx-tool"));
  });

  it("skips a file that is not executable, and says so when nothing else fits", async () => {
    const folder = join(dir, "not-exec");
    file(join(folder, "qntx-quiet-plugin"), 0o644);
    const error = await resolvePluginBinary(byName("quiet", [folder]), where()).then(() => undefined, (e: unknown) => e as QntxError);
    expect(error?.code).toBe("BINARY_NOT_FOUND");
    expect(error?.message).toContain(`skipped: ${join(folder, "qntx-quiet-plugin")} is not executable`);
    file(join(folder, "quiet"));
    expect((await resolvePluginBinary(byName("quiet", [folder]), where())).command).toBe(join(folder, "quiet"));
  });

  it("runs a QNTX TypeScript plugin folder through the SDK's runner", async () => {
    const folder = join(dir, "ts-search", "qntx-tsp");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "package.json"), JSON.stringify({ name: "tsp", "qntx-plugin": true }));
    writeFileSync(join(folder, "plugin.ts"), "export default { name: 'tsp', version: '0.1.0' };\n");
    const resolved = await resolvePluginBinary(byName("tsp", [join(dir, "ts-search")]), where());
    expect(resolved.command).toBe(process.execPath);
    expect(resolved.args).toContain("--plugin-path");
    expect(resolved.path).toBe(join(folder, "plugin.ts"));
  });

  it("finds a native plugin shipped as a folder with the binary inside, and passes over other folders", async () => {
    const root = join(dir, "trees");
    mkdirSync(join(root, "qntx-tree-plugin", "lib"), { recursive: true }); // a folder without the binary: skipped
    file(join(root, "qntx-tree", "qntx-tree-plugin"));
    expect((await resolvePluginBinary(byName("tree", [root]), where())).command).toBe(join(root, "qntx-tree", "qntx-tree-plugin"));
  });

  it("names every folder and file name searched, with where to install, when the plugin is nowhere", async () => {
    const a = join(dir, "nowhere", "a");
    const b = join(dir, "nowhere", "b");
    const error = await resolvePluginBinary(byName("ghost", [a, b]), where()).then(() => undefined, (e: unknown) => e as QntxError);
    expect(error).toBeInstanceOf(QntxError);
    expect(error!.code).toBe("BINARY_NOT_FOUND");
    expect(error!.message).toBe(`plugin "ghost" not found: searched ${a}, ${b} for qntx-ghost-plugin, qntx-ghost, ghost`);
    expect(error!.hint).toBe(`install the binary as ${join(a, "qntx-ghost-plugin")} (chmod +x), or add the folder that has it to [plugin] paths in am.toml`);
  });

  it("says a repository URL is not fetched here, naming the plugin it derives", async () => {
    const folder = join(dir, "repo-search");
    const error = await resolvePluginBinary(byName("loom", [folder], "https://github.com/teranos/QNTX/tree/main/qntx-plugins/loom"), where()).then(
      () => undefined,
      (e: unknown) => e as QntxError,
    );
    expect(error!.code).toBe("BINARY_NOT_FOUND");
    expect(error!.message).toContain('plugin "loom" is enabled by repository URL https://github.com/teranos/QNTX/tree/main/qntx-plugins/loom, which this host does not fetch');
    expect(error!.hint).toContain(`install the binary (to one of the search paths)`);
    expect(error!.hint).toContain(join(folder, "qntx-loom-plugin"));
  });

  it("searches when called, so a binary installed after a failed start is found", async () => {
    const folder = join(dir, "later");
    await expect(resolvePluginBinary(byName("late", [folder]), where())).rejects.toThrow(/plugin "late" not found/);
    file(join(folder, "qntx-late-plugin"));
    expect((await resolvePluginBinary(byName("late", [folder]), where())).command).toBe(join(folder, "qntx-late-plugin"));
  });

  it("resolves a binary source written as a path exactly as before", async () => {
    const source: BinarySource = { ...byName("notes", []), search: undefined };
    expect((await resolvePluginBinary(source, where())).command).toBe(join(dir, "bin", "notes"));
  });
});
