#!/usr/bin/env node
/**
 * `qntx`: the command line of the plugin host.
 *   qntx server                         run the host
 *   qntx plugin list|start|stop|restart act on the running host
 *   qntx pulse enqueue|list|get|cancel|retry
 *   qntx as / qntx ax                   write / query attestations
 *   qntx handler create|list            dynamic handlers (ADR-004)
 *   qntx file put|list                  files plugins read with FileService
 *   qntx dashboard                      a one-time login link to the web dashboard
 *   qntx hosts                          the hosts sharing the database, up or gone
 *   qntx db status|migrate|copy         the database: schema versions, migrations, SQLite → PostgreSQL
 *   qntx <plugin> <command> [args]      a command a running plugin contributes (cli/plugin-dispatch.ts)
 */
import { Command } from "commander";
import { addDashboardCommand } from "./cli/dashboard-command.js";
import { addDataCommands } from "./cli/data-commands.js";
import { addDbCommands } from "./cli/db-commands.js";
import { addFileCommands } from "./cli/file-commands.js";
import { addHostsCommand } from "./cli/hosts-command.js";
import { addPluginCommands } from "./cli/plugin-commands.js";
import { addPulseCommands } from "./cli/pulse-commands.js";
import { handlePluginWords } from "./cli/plugin-dispatch.js";
import { addServerCommand } from "./cli/server-command.js";
import { HOST_VERSION } from "./version.js";

const program = new Command("qntx")
  .description("qntx: an out-of-process gRPC plugin host, wire-compatible with QNTX")
  .version(HOST_VERSION)
  .option("--config <file>", "config file, am.plugins.toml or QNTX's am.toml (default ./am.plugins.toml, then am.toml in . or above, then ~/.qntx/am.plugins.toml, then ~/.qntx/am.toml)")
  .option("--data-dir <dir>", "data dir (config: [host] data_dir; default $QNTX_HOME or ~/.qntx)")
  .option("--host <url>", "URL of a running host for client commands (default: from <data-dir>/host.json, or $QNTX_HOST)")
  .showHelpAfterError()
  .enablePositionalOptions(false);

addServerCommand(program);
addPluginCommands(program);
addPulseCommands(program);
addDataCommands(program);
addFileCommands(program);
addDashboardCommand(program);
addDbCommands(program);
addHostsCommand(program);

// A first word that is not one of the commands above names a plugin whose command to run.
if (!(await handlePluginWords(program, process.argv))) await program.parseAsync(process.argv);
