/**
 * The runner process: `qntx-ts-runner --plugin-path <folder-or-file> --grpc-port N` (QNTX's
 * form) or `--port N` (what hosts pass every plugin binary). It loads the module and serves it
 * under the process contract (docs/protocol.md §2): probe from N, print `QNTX_PLUGIN_PORT=<port>`
 * once listening, stop on Shutdown, SIGTERM, SIGINT or the death of its host. A module that
 * cannot be served exits 1 before the port line, after an error and a hint on stderr (bad
 * flags exit 2); the host shows those lines in its startup error.
 */
import { parsePluginArgs } from "../args.js";
import { serve } from "../serve.js";
import { adaptQntxModule, type AdaptedQntxModule } from "./adapter.js";
import { QntxModuleError, messageOf } from "./errors.js";
import { loadPlugin } from "./loader.js";

/** Name the runner prints its errors under. */
export const RUNNER_NAME = "qntx-ts-runner";

const USAGE = `usage: ${RUNNER_NAME} --plugin-path <plugin folder | file.ts> [--grpc-port N | --port N | --address host:port]`;

/** Reads `--plugin-path <p>` (or `--plugin-path=<p>`). */
export function parsePluginPath(argv: readonly string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith("--plugin-path=")) return arg.slice("--plugin-path=".length);
    if (arg === "--plugin-path") {
      const value = argv[i + 1];
      if (value === undefined || value === "" || value.startsWith("--")) throw new Error("--plugin-path needs a value");
      return value;
    }
  }
  throw new Error("--plugin-path is required");
}

/** Prints an error (and its hint) on stderr and exits with `code`. */
function fail(code: number, message: string, hint: string): never {
  process.stderr.write(`${RUNNER_NAME}: error: ${message}\n${RUNNER_NAME}: hint: ${hint}\n`);
  process.exit(code);
}

/**
 * Runs the runner with `argv` (default: this process's arguments). Resolves once the plugin
 * serves (or, for a module that calls `serve()` itself, once it is loaded).
 */
export async function runQntxRunner(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  let pluginPath: string;
  try {
    pluginPath = parsePluginPath(argv);
    // Checked here for the runner's usage line; serve() reads the same flags again below.
    parsePluginArgs(argv);
  } catch (err) {
    fail(2, messageOf(err), USAGE);
  }

  let loaded;
  try {
    loaded = await loadPlugin(pluginPath);
  } catch (err) {
    if (err instanceof QntxModuleError) fail(1, err.message, err.hint);
    fail(1, `cannot load ${pluginPath}: ${messageOf(err)}`, "see the error above");
  }

  if (loaded.kind === "self-served") {
    // A module that serves keeps the event loop busy; one that only installed signal handlers
    // would otherwise exit 0 without a port line, which the host could not explain.
    process.once("beforeExit", () =>
      fail(1, `${loaded.file} installed signal handlers but serves nothing, and has no default export`, "end the file with `export default { name, version, … }` or call the SDK's serve()"),
    );
    return;
  }
  if (loaded.kind === "definition") {
    await serve(loaded.definition, { argv });
    return;
  }
  let adapted: AdaptedQntxModule;
  try {
    adapted = adaptQntxModule(loaded.module, loaded.file);
  } catch (err) {
    if (err instanceof QntxModuleError) fail(1, err.message, err.hint);
    throw err;
  }
  // serve() owns the process contract (signals, port line, parent watch, exit codes); the
  // runner only keeps its own error format for a plugin that cannot start listening.
  await serve(adapted.definition, {
    argv,
    wrapService: adapted.wrapService,
    listeningFields: { runner: RUNNER_NAME },
    onStartError: (err) =>
      fail(1, `could not start plugin ${adapted.definition.metadata.name}: ${err.message}`, "pass a free port, or --port 0 to let the system pick one"),
  });
}
