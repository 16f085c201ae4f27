/**
 * `qntx plugin check <binary | folder | host:port>`: runs the conformance steps against one
 * plugin, with no running host needed, and prints a PASS/FAIL/SKIP line per step (or JSON
 * with --json). Exit code 0 when nothing failed, 1 otherwise, so CI can gate a release on it.
 */
import { InvalidArgumentError, type Command } from "commander";
import { DEFAULT_PLUGIN_BASE_PORT, METADATA_READY_TIMEOUT_MS, PORT_LINE_TIMEOUT_MS, QntxError } from "@qntx/protocol";
import { DEFAULT_HOST_SETTINGS } from "../config/schema.js";
import { defaultDataDir } from "../config/paths.js";
import { loadConfig } from "../config/index.js";
import type { PluginGrants } from "../config/types.js";
import { describeGrants } from "../services/grants.js";
import { colourWanted } from "../colour.js";
import { runAction, type GlobalOptions } from "./common.js";

/** Options of `plugin check` as commander parses them (durations in seconds). */
interface CheckFlags {
  name?: string;
  /** `-c` values (commander gives `--config` ones to the program; see rawConfigValues). */
  config: string[];
  runJobs?: boolean;
  reinitialize?: boolean;
  json?: boolean;
  timeout: number;
  jobTimeout: number;
  portLineTimeout: number;
  readyTimeout: number;
  stopTimeout: number;
  basePort: number;
}

/** Adds `check <target>` to the `plugin` command group. */
export function addPluginCheckCommand(pluginGroup: Command): void {
  pluginGroup
    .command("check <target> [args...]")
    .description("check that a plugin (binary, script, folder, or host:port) follows the plugin protocol; prints PASS/FAIL/SKIP per step")
    .option("--name <name>", "the name the plugin must report (as in [plugins.<name>])")
    // The program's global --config (the host's config file) takes `--config` wherever it
    // appears, so the action also reads `--config key=value` from the raw arguments.
    .option("-c, --config <key=value>", "config value sent in Initialize (repeatable; JSON text for arrays)", collect, [])
    .option("--run-jobs", "run each announced job handler once with payload {} (off by default: jobs may have side effects)")
    .option("--reinitialize", "host:port targets: also send Initialize (with temporary services) and run HTTP, jobs and WebSocket steps; the live plugin then needs a restart")
    .option("--json", "print the results as JSON")
    .option("--timeout <seconds>", "deadline of each call", positiveSeconds, 5)
    .option("--job-timeout <seconds>", "deadline of each job run with --run-jobs", positiveSeconds, 30)
    .option("--port-line-timeout <seconds>", "wait for QNTX_PLUGIN_PORT= (QNTX waits 2 s)", positiveSeconds, PORT_LINE_TIMEOUT_MS / 1000)
    .option("--ready-timeout <seconds>", "poll Metadata this long (QNTX: 5 s)", positiveSeconds, METADATA_READY_TIMEOUT_MS / 1000)
    .option("--stop-timeout <seconds>", "time the process has to exit after Shutdown", positiveSeconds, DEFAULT_HOST_SETTINGS.shutdownTimeoutMs / 1000)
    .option("--base-port <port>", "first port probed for --port", portNumber, DEFAULT_PLUGIN_BASE_PORT)
    .addHelpText("after", `
Steps: spawn with --port and the port line, Metadata (name, semver version, qntx_version
range this host satisfies), ConfigSchema and the config, Initialize with real ATS/queue
services on a temporary database, Health, RegisterGlyphs, every GET route without
parameters by the stripped and the full path, an unknown path (404), ExecuteJob of an
unknown handler (success:false), announced handlers (with --run-jobs), HandleWebSocket
PING/PONG, Commands, Shutdown and exit. A host:port target skips spawn, port line,
Shutdown and exit, and by default every call that changes a live plugin's state:
Initialize and the HTTP, job and WebSocket steps that need it (SKIP lines say so);
--reinitialize runs them, re-initializing it with the check's temporary services.

Examples:
  qntx plugin check examples/hello/dist/main.js --name hello
  qntx plugin check ./plugins/notes --config greeting=Hi --json
  qntx plugin check 127.0.0.1:9000
  qntx plugin check 127.0.0.1:9000 --reinitialize
  qntx plugin check ./my-plugin -- --verbose     arguments after -- go to the plugin, after --port N`)
    .action(runAction(async (target: string, args: string[], flags: CheckFlags, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const config = parseConfig([...flags.config, ...rawConfigValues(command)]);
      // The conformance runner loads when `plugin check` runs, not with every CLI start
      // (`qntx server` would otherwise keep it in memory for nothing).
      const [{ runCheck }, { formatReport }] = await Promise.all([import("../conformance/run.js"), import("../conformance/report.js")]);
      const report = await runCheck({
        target, args, name: flags.name, config, runJobs: flags.runJobs ?? false, reinitialize: flags.reinitialize ?? false,
        callTimeoutMs: flags.timeout * 1000, jobTimeoutMs: flags.jobTimeout * 1000,
        portLineTimeoutMs: flags.portLineTimeout * 1000, readyTimeoutMs: flags.readyTimeout * 1000,
        stopTimeoutMs: flags.stopTimeout * 1000, basePort: flags.basePort,
        dataDir: globals.dataDir ?? defaultDataDir(), cwd: process.cwd(),
      });
      const granted = report.plugin ? configuredGrants(report.plugin.name, globals.dataDir) : undefined;
      console.log(flags.json ? JSON.stringify({ ...report, ...(granted ? { grants: granted.grants ?? null } : {}) }, null, 2) : formatReport(report, colourWanted(process.stdout.isTTY)));
      if (granted && !flags.json) console.log(`grants of ${report.plugin!.name} in ${granted.file}: ${describeGrants(granted.grants)}`);
      if (!report.ok) process.exitCode = 1;
    }));
}

/**
 * What the host's config (found the usual way from here) grants the plugin, when it lists it;
 * undefined when there is no config or no entry (a config that does not load is not the
 * check's business: the host reports it).
 */
function configuredGrants(name: string, dataDir: string | undefined): { file: string; grants: PluginGrants | undefined } | undefined {
  try {
    const config = loadConfig({ overrides: { dataDir } });
    const entry = config.plugins.find((p) => p.name === name);
    return entry && config.file ? { file: config.file, grants: entry.grants } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `--config` values given after `check`: commander hands them to the program's global
 * `--config <file>` option, so they are read back from the raw arguments here.
 */
function rawConfigValues(command: Command): string[] {
  let root: Command = command;
  while (root.parent) root = root.parent;
  // rawArgs (what parse() got) is set by commander but missing from its typings.
  const args = (root as unknown as { rawArgs?: string[] }).rawArgs ?? process.argv;
  const at = args.indexOf("check", args.indexOf("plugin") + 1);
  const values: string[] = [];
  for (let i = at + 1; at > 0 && i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") break;
    if (arg === "--config" && i + 1 < args.length) values.push(args[++i]!);
    else if (arg.startsWith("--config=")) values.push(arg.slice("--config=".length));
  }
  return values;
}

/** `key=value` list → object; a bad entry is a clear error. */
function parseConfig(entries: readonly string[]): Record<string, string> {
  const config: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf("=");
    if (eq <= 0) throw new QntxError("INVALID_ARGUMENT", `--config ${entry}: expected key=value`, { hint: "for example --config greeting=Hi (JSON text for arrays: --config 'tags=[\"a\",\"b\"]')" });
    config[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return config;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("expected a number of seconds above 0, such as 5 or 0.5");
  return n;
}

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError("expected a port from 1 to 65535");
  return n;
}
