/** `qntx server`: runs the host in the foreground until SIGINT/SIGTERM. */
import type { Command } from "commander";
import { loadConfig } from "../config/index.js";
import { createLogger } from "../logger.js";
import { startHost } from "../server.js";
import type { GlobalOptions } from "./common.js";
import { runAction } from "./common.js";

/** Adds `server` to `program`. */
export function addServerCommand(program: Command): void {
  program
    .command("server")
    .description("run the plugin host: HTTP gateway, plugins from am.plugins.toml, control API")
    .option("--listen <host:port>", "HTTP listen address (config: [host] listen; default 127.0.0.1:8770)")
    .option("--log-level <level>", "trace, debug, info, warn or error (default info, or $QNTX_LOG_LEVEL)")
    .action(runAction(async (options: { listen?: string; logLevel?: string }, command: Command) => {
      const globals = command.optsWithGlobals<GlobalOptions>();
      const config = loadConfig({ configPath: globals.config, overrides: { listen: options.listen, dataDir: globals.dataDir } });
      const logger = createLogger({ level: options.logLevel });
      // Not errors: what the config file holds that this host does not use (QNTX's am.toml sections).
      for (const note of config.notes) logger.info(note);
      if (!/^(127\.|localhost|\[?::1\]?)/.test(config.host.listen)) {
        logger.warn(`listening on ${config.host.listen}, beyond loopback: anyone who can reach it can call plugins; control actions still need the admin token`);
      }
      // A reload reads the file this host started from, with the same flags.
      const host = await startHost(config, logger, { loadConfig: () => loadConfig({ configPath: config.file, overrides: { listen: options.listen, dataDir: globals.dataDir } }) });
      const stop = (signal: string): void => {
        logger.info({ signal }, "stopping");
        host.close().then(() => process.exit(0), (error: unknown) => {
          logger.error({ err: error }, "error while stopping");
          process.exit(1);
        });
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
      // SIGHUP reloads the config, as daemons do; an error is logged and changes nothing.
      process.on("SIGHUP", () => void host.reload("SIGHUP").catch(() => undefined));
      await host.ready;
    }));
}
