/**
 * `qntx plugin …`: list the plugins of the running host, start, stop or restart one, and
 * print (or follow) one's output.
 */
import { colourWanted } from "../colour.js";
import { InvalidArgumentError, type Command } from "commander";
import type { LogEntry } from "../logs/plugin-logs.js";
import type { PluginInfo } from "../plugin/registry.js";
import type { ReloadSummary } from "../plugin/reload.js";
import { ControlClient } from "./client.js";
import { clientLocation, runAction } from "./common.js";
import { addPluginCheckCommand } from "./plugin-check-command.js";
import { addPluginNewCommand } from "./plugin-new-command.js";
import { renderTable } from "./table.js";

/** Adds the `plugin` command group to `program`. */
export function addPluginCommands(program: Command): void {
  const plugin = program.command("plugin").description("inspect and control the plugins of the running host");
  addPluginNewCommand(plugin);
  addPluginCheckCommand(plugin);

  plugin
    .command("list")
    .description("list plugins with their state, version, health, pid, address and provider roles")
    .option("--json", "print JSON instead of a table")
    .action(runAction(async (options: { json?: boolean }, command: Command) => {
      const client = ControlClient.locate(clientLocation(command));
      const { plugins } = await client.get<{ plugins: PluginInfo[] }>("/api/plugins");
      if (options.json) {
        console.log(JSON.stringify(plugins, null, 2));
        return;
      }
      if (plugins.length === 0) {
        console.log("No plugins configured. Add a [plugins.<name>] table to am.plugins.toml.");
        return;
      }
      console.log(renderTable(
        ["NAME", "STATE", "VERSION", "HEALTH", "KIND", "PID", "ADDRESS", "ROUTES", "ROLES"],
        plugins.map((p) => [
          p.name, p.state, p.version ?? "-", p.health ? (p.health.healthy ? "healthy" : "unhealthy") : "-", p.kind,
          p.pid ? String(p.pid) : "-", p.address ?? "-", String(p.routes.length), p.roles?.length ? p.roles.join(",") : "-",
        ]),
      ));
      for (const p of plugins.filter((x) => x.state === "failed" && x.error)) {
        console.log(`\n${p.name}: ${p.error}${p.hint ? `\n  hint: ${p.hint}` : ""}`);
      }
    }));

  const descriptions = {
    start: "start one plugin of the running host (and the plugins it depends on)",
    stop: "stop one plugin (refused while others depend on it, unless --force)",
    restart: "stop and start one plugin: it re-initializes and re-registers its routes and handlers",
    pause: "pause one plugin: its HTTP answers 503 and its jobs wait until resumed",
    resume: "resume a paused plugin",
  } as const;
  for (const action of ["start", "stop", "restart", "pause", "resume"] as const) {
    const sub = plugin.command(`${action} <name>`).description(descriptions[action]);
    if (action === "stop") sub.option("--force", "stop it even though other plugins depend on it");
    sub
      .action(runAction(async (name: string, options: { force?: boolean }, command: Command) => {
        const client = ControlClient.locate(clientLocation(command));
        const query = options.force ? "?force=1" : "";
        const { plugin: info } = await client.post<{ plugin: PluginInfo }>(`/api/plugins/${encodeURIComponent(name)}/${action}${query}`);
        console.log(`${info.name}: ${info.state}${info.pid ? ` (pid ${info.pid})` : ""}${info.address ? ` at ${info.address}` : ""}`);
      }));
  }

  plugin
    .command("reload")
    .description("read the config again: start added plugins, stop removed ones, restart changed ones (as SIGHUP or editing the file does)")
    .action(runAction(async (_options: unknown, command: Command) => {
      const client = ControlClient.locate(clientLocation(command));
      const { reload } = await client.post<{ reload: ReloadSummary }>("/api/plugins/reload");
      console.log(formatReload(reload));
      if (reload.failed.length) process.exitCode = 1;
    }));

  plugin
    .command("logs <name>")
    .description("print the last lines a plugin printed (stdout and stderr, kept across restarts); --follow keeps printing new ones until Ctrl-C")
    .option("-f, --follow", "keep printing new lines as the plugin prints them")
    .option("-n, --lines <n>", "how many of the last lines to print first", wholeNumber, 100)
    .action(runAction(async (name: string, options: { follow?: boolean; lines: number }, command: Command) => {
      const client = ControlClient.locate(clientLocation(command));
      const colour = colourWanted(process.stdout.isTTY);
      const query = `lines=${options.lines}${options.follow ? "&follow=1" : ""}`;
      await client.events(`/api/plugins/${encodeURIComponent(name)}/logs?${query}`, (event, data) => {
        if (event === "end") return true;
        if (event === "line") process.stdout.write(`${formatLogEntry(data as LogEntry, colour)}\n`);
        return false;
      });
    }));
}

/** One line per kind of change of a reload, then each failure and the [host] keys that wait. */
export function formatReload(r: ReloadSummary): string {
  const list = (names: readonly string[]): string => (names.length ? names.join(", ") : "-");
  const lines = [`added: ${list(r.added)}`, `removed: ${list(r.removed)}`, `restarted: ${list(r.restarted)}`, `unchanged: ${list(r.unchanged)}`];
  for (const f of r.failed) lines.push(`${f.name} failed: ${f.error}`);
  if (r.needsRestart.length) lines.push(`[host] ${r.needsRestart.join(", ")} changed: restart the host to apply`);
  return lines.join("\n");
}

/** `<time> <stream> <line>`; with colour, stderr lines red and the host's own markers dim. */
export function formatLogEntry(entry: LogEntry, colour = false): string {
  const text = `${new Date(entry.time).toISOString()} ${entry.stream} ${entry.line}`;
  if (!colour) return text;
  if (entry.stream === "stderr") return `\x1b[31m${text}\x1b[0m`;
  if (entry.stream === "qntx") return `\x1b[2m${text}\x1b[0m`;
  return text;
}

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError("expected a whole number, such as 100");
  return Number(value);
}
