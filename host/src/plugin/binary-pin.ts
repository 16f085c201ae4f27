/**
 * Pinned plugin files (`sha256` in a plugin's table): the file the plugin runs is hashed
 * before every spawn, and a file whose hash differs is never run. What is hashed is the file
 * resolve-binary.ts found: the executable, the `.js`/`.mjs` file run with node, or the
 * `plugin.ts` of a QNTX TypeScript plugin (not the files it imports).
 *
 * The hash is taken just before the spawn; a file replaced between the two is not caught, so
 * the folder holding a pinned binary should be writable only by its owner.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { QntxError } from "@qntx/protocol";

/** SHA-256 of a file, lowercase hex; read as a stream so a large binary does not block the host. */
export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/**
 * Checks `file` against the pinned hash of plugin `name`.
 * @throws QntxError BINARY_MISMATCH with both hashes, or when the file cannot be read
 */
export async function checkPinnedFile(name: string, file: string, pinned: string): Promise<void> {
  let actual: string;
  try {
    actual = await sha256OfFile(file);
  } catch (error) {
    throw new QntxError("BINARY_MISMATCH", `plugin ${name}: cannot hash ${file} to check its pinned sha256: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      hint: "the host must be able to read the file it runs",
    });
  }
  if (actual !== pinned) {
    throw new QntxError("BINARY_MISMATCH", `plugin ${name}: ${file} has sha256 ${actual}, but [plugins.${name}] pins sha256 ${pinned}: not starting it`, {
      hint: `if the file was updated on purpose, put its new hash in sha256 (sha256sum ${file}); otherwise find out who changed it`,
    });
  }
}
