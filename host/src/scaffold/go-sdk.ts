/**
 * The Go SDK a scaffolded Go plugin builds against, copied into the plugin's folder
 * (`sdk-go/`), so the folder builds on its own, anywhere, from the SDK it was generated with
 * — as the Python scaffold copies the protos. The source is the repository's `sdk-go/`, found
 * from this module's location (host/src/scaffold or host/dist/scaffold: the same depth).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { QntxError } from "@qntx/protocol";

/** Files of the SDK folder besides its Go sources: the module file and the toolchain script the plugin's build.sh sources. */
const SDK_SUPPORT_FILES: readonly string[] = ["go.mod", "toolchain.sh", "debian-packages"];

/**
 * Folders searched, in order: an `sdk-go/` shipped inside the host package (a packed host),
 * then the repository's `sdk-go/` beside `host/`.
 */
function candidateFolders(): string[] {
  return [fileURLToPath(new URL("../../sdk-go/", import.meta.url)), fileURLToPath(new URL("../../../sdk-go/", import.meta.url))];
}

/** Go sources of `dir` and below (tests, generated GOPATH links and dot-folders left out), relative to `root`. */
function goSources(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith(".")) continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...goSources(root, full));
    else if (entry.endsWith(".go") && !entry.endsWith("_test.go")) out.push(relative(root, full).split(sep).join("/"));
  }
  return out;
}

/** The Debian packages that build a Go plugin, as one line (the SDK's debian-packages). */
export function goAptPackages(): string {
  return readFileSync(join(findSdk(), "debian-packages"), "utf8").trim();
}

function findSdk(): string {
  const folders = candidateFolders();
  const folder = folders.find((dir) => SDK_SUPPORT_FILES.every((file) => existsSync(join(dir, file))));
  if (folder === undefined) {
    throw new QntxError("INVALID_ARGUMENT", `the Go SDK was not found (searched: ${folders.join(", ")})`, {
      hint: "run qntx from a checkout of the repository (its sdk-go/ folder), or use --lang ts",
    });
  }
  return folder;
}

/**
 * The SDK's files for a plugin's `sdk-go/` folder: path (relative to `sdk-go/`), content and
 * mode. Throws a QntxError with a hint when the SDK cannot be found.
 */
export function readGoSdk(): Array<{ path: string; content: string; mode?: number }> {
  const folder = findSdk();
  const files = [...SDK_SUPPORT_FILES, ...goSources(folder, folder)];
  return files.map((path) => ({ path, content: readFileSync(join(folder, path), "utf8"), ...(path.endsWith(".sh") ? { mode: 0o755 } : {}) }));
}
