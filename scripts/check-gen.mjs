#!/usr/bin/env node
// Fails when the committed generated code in packages/protocol/src/gen differs from what
// `buf generate` makes from proto/ now: regenerates into a temporary folder and compares.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const committed = join(root, "packages/protocol/src/gen");
const out = mkdtempSync(join(tmpdir(), "qntx-gen-"));

/** Every file under dir, as paths relative to dir. */
function listFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) files.push(...listFiles(full).map((f) => join(entry, f)));
    else files.push(entry);
  }
  return files.sort();
}

try {
  execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "-o", out], { cwd: root, stdio: "inherit" });
  const fresh = join(out, "packages/protocol/src/gen");
  const want = listFiles(fresh);
  const have = listFiles(committed);
  const stale = [];
  for (const f of new Set([...want, ...have])) {
    const a = want.includes(f) ? readFileSync(join(fresh, f), "utf8") : null;
    const b = have.includes(f) ? readFileSync(join(committed, f), "utf8") : null;
    if (a !== b) stale.push(relative(root, join(committed, f)));
  }
  if (stale.length > 0) {
    console.error(`Generated code is stale (${stale.join(", ")}).\nRun \`pnpm gen\` and commit the result.`);
    process.exit(1);
  }
  console.log("Generated code is up to date with proto/.");
} finally {
  rmSync(out, { recursive: true, force: true });
}
