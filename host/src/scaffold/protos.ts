/**
 * The `.proto` files a scaffolded plugin in another language needs. They are copied into the
 * plugin's folder, so the folder builds on its own, anywhere, from the contract it was
 * generated against. The source of truth is the repository's `proto/` folder, found from
 * this module's location (host/src/scaffold or host/dist/scaffold: the same depth).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { QntxError } from "@qntx/protocol";

/** Every proto of the contract: the plugin's own service and the host's two services. */
export const PLUGIN_PROTO_FILES: readonly string[] = Object.freeze(["domain.proto", "atsstore.proto", "queue.proto"]);

/**
 * Folders searched, in order: a `proto/` shipped inside the host package (a packed host),
 * then the repository's `proto/` beside `host/`.
 */
function candidateFolders(): string[] {
  return [fileURLToPath(new URL("../../proto/", import.meta.url)), fileURLToPath(new URL("../../../proto/", import.meta.url))];
}

/** The text of each file of {@link PLUGIN_PROTO_FILES}, by file name. Throws when they cannot be found. */
export function readPluginProtos(): Map<string, string> {
  const folders = candidateFolders();
  const folder = folders.find((dir) => PLUGIN_PROTO_FILES.every((file) => existsSync(join(dir, file))));
  if (folder === undefined) {
    throw new QntxError("INVALID_ARGUMENT", `the protocol's .proto files were not found (searched: ${folders.join(", ")})`, {
      hint: "run qntx from a checkout of the repository (its proto/ folder), or use --lang ts",
    });
  }
  return new Map(PLUGIN_PROTO_FILES.map((file) => [file, readFileSync(join(folder, file), "utf8")]));
}
