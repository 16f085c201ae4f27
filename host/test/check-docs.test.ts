/**
 * scripts/check-docs.mjs, run as a process: the repository itself passes (no link or citation
 * leads outside it or to a page or section it lacks), and a scratch repository with every
 * kind of broken reference fails with one `file:line:` line per problem and a hint.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { execa } from "execa";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const SCRIPT = join(REPO, "scripts/check-docs.mjs");

/** Runs the check on `root` (the repository when omitted). */
function check(root?: string) {
  return execa(process.execPath, [SCRIPT, ...(root ? ["--root", root] : [])], { reject: false });
}

/** Writes `files` (path → text) into a fresh git repository and returns its folder. */
async function scratchRepo(files: Record<string, string>): Promise<string> {
  const root = makeTempDir("qntx-check-docs-");
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  await execa("git", ["init", "-q"], { cwd: root });
  return root;
}

/** Paths spelt in pieces, so that this file's own strings do not fail the check on the repository. */
const notes = "bench/notes/";
const docs = "docs/";

const PROTOCOL_PAGE = "# Protocol\n\n## 1. Services\n\n### 1.2 ATS\n\n## 2. The process contract\n\n```\n## 9. not a heading\n```\n";

describe("check-docs", () => {
  afterAll(cleanupTempDirs);

  it("passes on this repository", async () => {
    const run = await check();
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
  });

  it("passes on links, anchors and citations that resolve", async () => {
    const root = await scratchRepo({
      "README.md": "See [protocol](docs/protocol.md#2-the-process-contract), [§1.2](docs/protocol.md#12-ats), [x](#readme) and [web](https://example.com).\n\n# README\n",
      "docs/protocol.md": PROTOCOL_PAGE,
      "src/a.ts": "// the process contract (docs/protocol.md §2), ATS (docs/protocol.md §1.2)\n",
      [`${notes}01-x.md`]: "# 1. x\n\nMeasured with `bench/tools/ab.mjs`.\n",
      "bench/tools/ab.mjs": `// ${notes}01-x.md\n`,
    });
    const run = await check(root);
    expect(run.stderr).toBe("");
    expect(run.exitCode).toBe(0);
  });

  it("fails on every reference that leaves the repository or leads nowhere, one line each", async () => {
    const outside = ["..", "shared", ["PROTOCOL", "md"].join(".")].join("/");
    const root = await scratchRepo({
      "README.md": [
        `Wire-compatible with [QNTX](${outside}).`,
        `Read [the guide](${docs}guide.md) and [§2](docs/protocol.md#2-no-such-heading).`,
        "A link inside a code span is not one: `[x](nowhere.md)`.",
        "",
      ].join("\n"),
      "docs/protocol.md": PROTOCOL_PAGE,
      "src/a.ts": `// see ${["DESIGN", "md"].join(".")}\n// ${docs}protocol.md §9 and ${docs}missing.md §1\n// measured with bench/${"tools"}/gone.mjs\n`,
    });
    const run = await check(root);
    expect(run.exitCode).toBe(1);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^README\.md:1: points outside the repository \(\.\.\/shared\); hint: /),
        expect.stringMatching(/^README\.md:1: links outside the repository \(\.\.\/shared\/PROTOCOL\.md\); hint: /),
        expect.stringMatching(/^README\.md:2: links docs\/guide\.md, which does not exist .*; hint: /),
        expect.stringMatching(/^README\.md:2: links docs\/protocol\.md#2-no-such-heading, but docs\/protocol\.md has no heading with that anchor; hint: /),
        expect.stringMatching(/^src\/a\.ts:1: points outside the repository \(DESIGN\.md\); hint: /),
        expect.stringMatching(/^src\/a\.ts:2: cites docs\/protocol\.md §9, which has no heading numbered 9; hint: /),
        expect.stringMatching(/^src\/a\.ts:2: mentions docs\/missing\.md, which does not exist; hint: /),
        expect.stringMatching(/^src\/a\.ts:3: mentions bench\/tools\/gone\.mjs, which does not exist; hint: /),
      ]),
    );
    // The code span's link is not one, and the summary line closes the list.
    expect(lines.filter((l) => l.includes("nowhere.md"))).toEqual([]);
    expect(lines.at(-1)).toBe("check-docs: 8 problems");
  });

  it("says how to call it when --root is missing its folder", async () => {
    const run = await execa(process.execPath, [SCRIPT, "--root"], { reject: false });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/--root needs a folder\nusage: /);
  });
});
