/**
 * The name a new plugin may take. The rules are the host's own (`PLUGIN_NAME_PATTERN`,
 * `RESERVED_PLUGIN_NAMES` in config/schema.ts): a scaffold whose table the host would refuse
 * to load is worse than no scaffold.
 */
import { QntxError } from "@qntx/protocol";
import { PLUGIN_NAME_PATTERN, RESERVED_PLUGIN_NAMES } from "../config/index.js";

/** Longest name accepted: it becomes a folder, a log file name and a URL segment. */
export const MAX_PLUGIN_NAME_LENGTH = 64;

/**
 * Throws a QntxError `INVALID_ARGUMENT` (with a hint) when `name` is not a name the host
 * accepts for a `[plugins.<name>]` table.
 */
export function assertPluginName(name: string): void {
  if (name === "") {
    throw new QntxError("INVALID_ARGUMENT", "the plugin name is empty", { hint: "qntx plugin new <name>, for example qntx plugin new notes" });
  }
  if (!PLUGIN_NAME_PATTERN.test(name)) {
    const suggestion = name.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "");
    throw new QntxError("INVALID_ARGUMENT", `"${name}" is not a valid plugin name: use only letters, digits, "_" and "-"`, {
      hint: `the name becomes the URL segment /api/<name> and the table [plugins.<name>]${suggestion ? `; for example "${suggestion}"` : ""}`,
    });
  }
  if (name.length > MAX_PLUGIN_NAME_LENGTH) {
    throw new QntxError("INVALID_ARGUMENT", `the plugin name is ${name.length} characters long; at most ${MAX_PLUGIN_NAME_LENGTH} are allowed`, {
      hint: "pick a shorter name",
    });
  }
  if (RESERVED_PLUGIN_NAMES.includes(name.toLowerCase())) {
    throw new QntxError("INVALID_ARGUMENT", `"${name}" is a reserved name: it is one of the host's own routes (${RESERVED_PLUGIN_NAMES.join(", ")})`, {
      hint: `pick another name, for example "${name}-plugin"`,
    });
  }
}
