#!/usr/bin/env node
// Fails when committed generated code differs from what proto/ makes now: the TypeScript in
// packages/protocol/src/gen (`buf generate`) and the Go stubs in sdk-go/protocol
// (sdk-go/gen.sh: protoc with Debian's protoc-gen-go and protoc-gen-go-grpc). Each is
// regenerated into a temporary folder and compared. Where the Go generators are missing, the
// Go check says so in one line and is skipped, except under CI=true, where that fails.
import { execFileSync, spawnSync } from "node:child_process";
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

/** Files that differ between the fresh folder and the committed one, as repository paths. */
function staleFiles(fresh, committedDir) {
  const want = listFiles(fresh);
  const have = listFiles(committedDir);
  const stale = [];
  for (const f of new Set([...want, ...have])) {
    const a = want.includes(f) ? readFileSync(join(fresh, f), "utf8") : null;
    const b = have.includes(f) ? readFileSync(join(committedDir, f), "utf8") : null;
    if (a !== b) stale.push(relative(root, join(committedDir, f)));
  }
  return stale;
}

/** Whether CI asked for every check to run (`CI=true`, as .ci/run sets). */
function underCi() {
  const ci = (process.env.CI ?? "").toLowerCase();
  return ci !== "" && ci !== "0" && ci !== "false";
}

let failed = false;
try {
  execFileSync(join(root, "node_modules/.bin/buf"), ["generate", "-o", out], { cwd: root, stdio: "inherit" });
  const stale = staleFiles(join(out, "packages/protocol/src/gen"), committed);
  if (stale.length > 0) {
    console.error(`Generated code is stale (${stale.join(", ")}).\nRun \`pnpm gen\` and commit the result.`);
    failed = true;
  } else {
    console.log("Generated code is up to date with proto/.");
  }

  // sdk-go/gen.sh exits 3 with one line naming the missing tool and the install command.
  const goOut = join(out, "go");
  const go = spawnSync("sh", [join(root, "sdk-go/gen.sh"), goOut], { cwd: root, encoding: "utf8" });
  if (go.status === 3 && !underCi()) {
    console.log(`Skipped the Go stubs check: ${go.stderr.trim().replace(/^sdk-go: /, "")}`);
  } else if (go.status !== 0) {
    console.error(`Could not regenerate the Go stubs (sdk-go/gen.sh exited ${go.status}${underCi() ? "; CI=true needs them" : ""}):\n${go.stderr.trim()}`);
    failed = true;
  } else {
    const staleGo = staleFiles(goOut, join(root, "sdk-go/protocol"));
    if (staleGo.length > 0) {
      console.error(`Generated Go stubs are stale (${staleGo.join(", ")}).\nRun \`pnpm gen:go\` and commit the result.`);
      failed = true;
    } else {
      console.log("Generated Go stubs are up to date with proto/.");
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
if (failed) process.exit(1);
