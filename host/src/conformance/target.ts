/**
 * What `qntx plugin check <target>` points at: a plugin to spawn (a binary, a script, or
 * whatever else the host's binary resolution turns into a command) or a plugin already
 * running at `host:port`, which is dialled as the host dials `address = …` plugins.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { QntxError } from "@qntx/protocol";
import { resolveBinary, type ResolvedCommand } from "../plugin/resolve-binary.js";

/** A resolved target. */
export type CheckTarget =
  | { readonly kind: "spawned"; readonly command: ResolvedCommand }
  | { readonly kind: "address"; readonly address: string };

/** `host:port`, `[v6]:port`: what InitializeRequest endpoints and `address = …` look like. */
const ADDRESS = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/**
 * Resolves `target`: an existing path is always a plugin to spawn; otherwise `host:port` is an
 * address; otherwise it goes through the host's binary lookup (working folder, then
 * `<data_dir>/plugins`, then PATH for a bare name).
 * @throws QntxError BINARY_NOT_FOUND (with every path searched) or INVALID_ARGUMENT.
 */
export async function resolveTarget(target: string, where: { cwd: string; dataDir: string }): Promise<CheckTarget> {
  if (target.trim() === "") {
    throw new QntxError("INVALID_ARGUMENT", "no plugin given", { hint: "qntx plugin check <binary | folder | host:port>" });
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(target);
  if (scheme) {
    throw new QntxError("INVALID_ARGUMENT", `"${target}" has a scheme (${scheme[1]}://), but plugin addresses are host:port`, {
      hint: `qntx plugin check ${target.slice(scheme[0].length).replace(/\/.*$/, "")}`,
    });
  }
  if (!existsSync(resolve(where.cwd, target))) {
    const address = ADDRESS.exec(target);
    if (address) {
      const port = Number(address[1]);
      if (port < 1 || port > 65535) throw new QntxError("INVALID_ARGUMENT", `port ${port} of ${target} is out of range`, { hint: "use a port from 1 to 65535" });
      return { kind: "address", address: target };
    }
  }
  try {
    return { kind: "spawned", command: await resolveBinary(target, { baseDir: where.cwd, dataDir: where.dataDir }) };
  } catch (error) {
    // resolveBinary's hint speaks of am.plugins.toml; here the path came from the command line.
    if (error instanceof QntxError && error.code === "BINARY_NOT_FOUND" && !error.message.includes("not executable")) {
      throw new QntxError("BINARY_NOT_FOUND", error.message, {
        hint: "give the plugin's executable, a .js/.mjs script, a plugin folder, or host:port of a running plugin (relative paths start at the current folder, then <data_dir>/plugins)",
        cause: error,
      });
    }
    throw error;
  }
}

/** How the target is shown in the report: the command line, or the address. */
export function describeTarget(target: CheckTarget): string {
  return target.kind === "address" ? target.address : [target.command.command, ...target.command.args].join(" ");
}
