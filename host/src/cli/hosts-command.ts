/** `qntx hosts`: the hosts sharing the installation's database, through the running host's `GET /api/hosts`. */
import type { Command } from "commander";
import type { HostView } from "../hosts/directory.js";
import { ControlClient } from "./client.js";
import { clientLocation, runAction } from "./common.js";
import { renderTable } from "./table.js";

/** Adds `hosts` to `program`. */
export function addHostsCommand(program: Command): void {
  program
    .command("hosts")
    .description("list the hosts sharing this installation's database: id, address, version, plugins, last seen, up or gone")
    .option("--json", "print JSON")
    .action(runAction(async (options: { json?: boolean }, command: Command) => {
      const { hosts } = await ControlClient.locate(clientLocation(command)).get<{ hosts: HostView[] }>("/api/hosts");
      if (options.json) return void console.log(JSON.stringify(hosts, null, 2));
      console.log(renderTable(["ID", "STATE", "ADDRESS", "VERSION", "LAST SEEN", "PLUGINS"], hosts.map((h) => [
        h.id, h.state, h.address, h.version, h.lastSeen, h.plugins.join(",") || "-",
      ])));
    }));
}
