/**
 * What QNTX TypeScript plugins took from Bun, under the runner (real `qntx-ts-runner`
 * processes, plugin folders written to a temp dir): `import.meta.dir`, `.file` and `.path` in
 * the plugin module and its relative imports, whichever format tsx gives them, and top-level
 * await in a `plugin.ts` whose package.json has no `"type": "module"`. Stack traces still
 * point at the TypeScript line.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { HTTPResponse, InitializeRequest, InitializeResponse } from "@qntx/protocol";
import { shiftMappings } from "../src/qntx-runner/mapped-code.js";
import { http, init, killRunners, serveFixture, startRunner, waitForStderr, type Served } from "./fixtures/qntx-runner.js";
import { bodyJson, call } from "./helpers.js";

let scratch: string;

/** Writes `files` (path relative to the plugin folder → content) as plugin folder `name`. */
function pluginFolder(name: string, files: Record<string, string>): string {
  const folder = join(scratch, name);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    writeFileSync(join(folder, path), content);
  }
  return folder;
}

/** Serves `folder` with the runner and initializes it. */
async function serve(folder: string): Promise<Served> {
  const p = await serveFixture(folder);
  await call<InitializeRequest, InitializeResponse>(p.client, p.client.initialize, init());
  return p;
}

const json = (res: HTTPResponse): any => {
  expect(res.statusCode).toBe(200);
  return bodyJson(res);
};

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "qntx-bun-"));
});

afterAll(() => {
  killRunners();
  rmSync(scratch, { recursive: true, force: true });
});

/**
 * canvas-renderer's way (qntx-plugins/canvas-renderer/plugin.ts in QNTX): at request time,
 * walk up from `import.meta.dir` to the folder holding go.mod and read CSS from there.
 */
const CANVAS_LIKE = `import { existsSync, readFileSync } from "fs";
import { dirname, join } from "path";
import { where } from "./lib/where";

function findRoot(): string | null {
  let dir = import.meta.dir;
  while (dir !== dirname(dir)) {
    if (existsSync(join(dir, "go.mod"))) return dir;
    dir = dirname(dir);
  }
  return null;
}

export default {
  name: "canvas-like",
  version: "1.0.0",
  registerHTTP(mux: any) {
    mux.handle("POST", "/render", async (req: any, res: any) => {
      const root = findRoot();
      if (!root) return res.status(500).json({ error: "QNTX root not found" });
      res.json({ root, css: readFileSync(join(root, "web/css/core.css"), "utf-8"), meta: { dir: import.meta.dir, file: import.meta.file, path: import.meta.path }, lib: where() });
    });
    mux.handle("GET", "/boom", () => {
      throw new Error("thrown on line 24");
    });
  },
};
`;
const WHERE = `export function where(): { dir: string; file: string; path: string } {
  return { dir: import.meta.dir, file: import.meta.file, path: import.meta.path };
}
`;

/** A QNTX checkout holding the plugin folder, as canvas-renderer lives in qntx-plugins/. */
function canvasLike(name: string, packageJson: Record<string, unknown>): { root: string; folder: string } {
  const root = join(scratch, name);
  mkdirSync(join(root, "web/css"), { recursive: true });
  writeFileSync(join(root, "go.mod"), "module github.com/teranos/QNTX\n");
  writeFileSync(join(root, "web/css/core.css"), `.canvas-workspace { color: ${name}; }`);
  const folder = pluginFolder(join(name, "qntx-plugins/canvas-like"), {
    "package.json": JSON.stringify({ name: "canvas-like", "qntx-plugin": true, ...packageJson }),
    "plugin.ts": CANVAS_LIKE,
    "lib/where.ts": WHERE,
  });
  return { root, folder };
}

describe("import.meta.dir, .file and .path (Bun's)", () => {
  for (const [kind, packageJson] of [
    ["an ES module folder (\"type\": \"module\", as canvas-renderer's)", { type: "module" }],
    ["a folder without \"type\" (tsx compiles it to CommonJS)", {}],
  ] as const) {
    it(`are there at request time in the plugin and its relative import, in ${kind}`, async () => {
      const { root, folder } = canvasLike(`canvas-${Object.keys(packageJson).length}`, packageJson);
      const p = await serve(folder);
      const out = json(await http(p.client, "POST", "/render", JSON.stringify({ canvas_id: "c1", glyphs: [] })));
      expect(out.root).toBe(root);
      expect(out.css).toContain(".canvas-workspace");
      expect(out.meta).toEqual({ dir: folder, file: "plugin.ts", path: join(folder, "plugin.ts") });
      expect(out.lib).toEqual({ dir: join(folder, "lib"), file: "where.ts", path: join(folder, "lib/where.ts") });
    });

    it(`leave stack traces pointing at the TypeScript line, in ${kind}`, async () => {
      const { folder } = canvasLike(`boom-${Object.keys(packageJson).length}`, packageJson);
      const p = await serve(folder);
      const res = await http(p.client, "GET", "/boom");
      expect(res.statusCode).toBe(500);
      await waitForStderr(p.runner, "thrown on line 24");
      expect(p.runner.stderr()).toContain(`${join(folder, "plugin.ts")}:24:13`);
    });
  }
});

describe("top-level await in a folder without \"type\": \"module\"", () => {
  it("loads a plugin.ts that awaits at the top level, with its relative imports (one awaiting too)", async () => {
    const folder = pluginFolder("tla", {
      "package.json": JSON.stringify({ name: "tla", "qntx-plugin": true }),
      "plugin.ts": `import { where } from "./lib/where";
import { later } from "./lib/later";
const greeting: string = await Promise.resolve("hello");
export default {
  name: "tla",
  version: "1.0.0",
  registerHTTP(mux: any) {
    mux.handle("GET", "/greet", (_req: any, res: any) => res.json({ greeting, later, lib: where(), file: import.meta.file }));
  },
};
`,
      "lib/where.ts": WHERE,
      "lib/later.ts": `export const later: number = await new Promise((resolve) => setTimeout(() => resolve(42), 10));\n`,
    });
    const p = await serve(folder);
    expect(json(await http(p.client, "GET", "/greet"))).toEqual({
      greeting: "hello",
      later: 42,
      lib: { dir: join(folder, "lib"), file: "where.ts", path: join(folder, "lib/where.ts") },
      file: "plugin.ts",
    });
  });

  it("refuses with a hint when a CommonJS file imports one that awaits at the top level", async () => {
    const folder = pluginFolder("tla-deep", {
      "package.json": JSON.stringify({ name: "tla-deep", "qntx-plugin": true }),
      "plugin.ts": `import { later } from "./lib/later";\nexport default { name: "tla-deep", version: "1.0.0", later };\n`,
      "lib/later.ts": `export const later = await Promise.resolve(1);\n`,
    });
    const runner = startRunner(["--plugin-path", folder, "--grpc-port", "0"]);
    expect(await runner.exit).toEqual({ code: 1, signal: null });
    expect(runner.stderr()).toContain("Top-level await");
    expect(runner.stderr()).toContain(`qntx-ts-runner: hint: add "type": "module" to ${join(folder, "package.json")}`);
  });
});

describe("shiftMappings", () => {
  it("moves the first segment at or after the column and leaves other lines alone", () => {
    // Line 0: segments at columns 0 (A), 4 (I) and 10 (M, 4+6); line 1: one at column 2 (E).
    expect(shiftMappings("AAAA,IAAI,MAAM;EAAE", 0, 3, 5)).toBe("AAAA,SAAI,MAAM;EAAE");
    expect(shiftMappings("AAAA,IAAI,MAAM;EAAE", 0, 0, 1)).toBe("CAAA,IAAI,MAAM;EAAE");
    expect(shiftMappings("AAAA,IAAI,MAAM;EAAE", 1, 0, 16)).toBe("AAAA,IAAI,MAAM;kBAAE");
    // Past the last segment nothing is mapped there: nothing moves.
    expect(shiftMappings("AAAA,IAAI", 0, 50, 3)).toBe("AAAA,IAAI");
  });
});
