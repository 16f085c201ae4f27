/**
 * `qntx plugin …`: list the plugins of the running host, and start, stop or restart one.
 */
import type { Command } from "commander";
import type { PluginInfo } from "../plugin/registry.js";
import { ControlClient } from "./client.js";
import { clientLocation, runAction } from "./common.js";
import { renderTable } from "./table.js";

/** Adds the `plugin` command group to `program`. */
export function addPluginCommands(program: Command): void {
  const plugin = program.command("plugin").description("inspect and control the plugins of the running host");

  plugin
    .command("list")
    .description("list plugins with their state, version, health, pid and address")
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
        ["NAME", "STATE", "VERSION", "HEALTH", "KIND", "PID", "ADDRESS", "ROUTES"],
        plugins.map((p) => [
          p.name, p.state, p.version ?? "-", p.health ? (p.health.healthy ? "healthy" : "unhealthy") : "-", p.kind,
          p.pid ? String(p.pid) : "-", p.address ?? "-", String(p.routes.length),
        ]),
      ));
      for (const p of plugins.filter((x) => x.state === "failed" && x.error)) console.log(`\n${p.name}: ${p.error}`);
    }));

  for (const action of ["start", "stop", "restart"] as const) {
    plugin
      .command(`${action} <name>`)
      .description(`${action} one plugin of the running host`)
      .action(runAction(async (name: string, _options: unknown, command: Command) => {
        const client = ControlClient.locate(clientLocation(command));
        const { plugin: info } = await client.post<{ plugin: PluginInfo }>(`/api/plugins/${encodeURIComponent(name)}/${action}`);
        console.log(`${info.name}: ${info.state}${info.pid ? ` (pid ${info.pid})` : ""}${info.address ? ` at ${info.address}` : ""}`);
      }));
  }
}
