/**
 * `qntx plugin new <name> [--lang ts|python|go] [--dir <parent>] [--config <file>] [--force]`:
 * scaffolds a working plugin folder and appends its table to am.plugins.toml. It works on
 * files only: no running host is needed.
 */
import { Option, type Command } from "commander";
import { relative } from "node:path";
import { CONFIG_FILE_NAME } from "../config/index.js";
// Only the option's choices load with the CLI: the templates (scaffold/index.js) load when
// `plugin new` runs, so `qntx server` does not keep them in memory.
import { SCAFFOLD_LANGUAGES, type ScaffoldLanguage } from "../scaffold/files.js";
import { runAction, type GlobalOptions } from "./common.js";

/** Options of `plugin new`. */
interface NewOptions {
  lang: ScaffoldLanguage;
  dir: string;
  force?: boolean;
}

/** Adds `new <name>` to the `plugin` command group. */
export function addPluginNewCommand(pluginGroup: Command): void {
  pluginGroup
    .command("new <name>")
    .description("scaffold a working plugin folder (<dir>/<name>) and append its [plugins.<name>] table to am.plugins.toml")
    .addOption(new Option("--lang <lang>", "language of the plugin").choices(SCAFFOLD_LANGUAGES).default("ts"))
    .option("--dir <parent>", "folder the plugin's folder is created in", "plugins")
    // The program's global --config means the same file; commander hands the value to
    // whichever level parses it first, so the action reads both.
    .option("--config <file>", `config file the table is appended to, created when missing (default ./${CONFIG_FILE_NAME})`)
    .option("--force", "write over an existing plugin folder (the scaffold's files only; others are kept)")
    .addHelpText("after", `
Examples:
  qntx plugin new notes                      plugins/notes/plugin.ts (TypeScript, @qntx/sdk)
  qntx plugin new scorer --lang python       plugins/scorer/run.sh + plugin.py (Debian python3-grpcio)
  qntx plugin new fetcher --lang go          plugins/fetcher/run.sh + plugin.go (Go SDK, Debian golang-go)
  qntx plugin new notes --dir ext --config deploy/am.plugins.toml

The name must be letters, digits, "_" or "-" and not one of the host's own route names.
An existing [plugins.<name>] table is never replaced; the rest of the config file is kept byte for byte.`)
    .action(runAction(async (name: string, options: NewOptions, command: Command) => {
      const configFile = command.optsWithGlobals<GlobalOptions>().config ?? CONFIG_FILE_NAME;
      const { PYTHON_APT_PACKAGES, goAptPackages, scaffoldPlugin } = await import("../scaffold/index.js");
      const result = scaffoldPlugin({ name, lang: options.lang, parentDir: options.dir, configFile, force: options.force ?? false });
      const shown = (path: string): string => relative(process.cwd(), path) || ".";
      const folder = shown(result.folder);
      // The Go scaffold's copy of the SDK is one line, not forty file names.
      const sdkFiles = result.files.filter((f) => f.startsWith("sdk-go/")).length;
      const listed = result.files.filter((f) => !f.startsWith("sdk-go/"));
      if (sdkFiles > 0) listed.push(`sdk-go/ (${sdkFiles} files: a copy of the Go SDK)`);
      console.log(`Created ${folder}/ (${options.lang}): ${listed.join(", ")}`);
      console.log(`${result.configCreated ? "Created" : "Appended to"} ${shown(result.configFile)}:`);
      console.log(result.appended.replace(/^(\r?\n)+/, "").replace(/\r/g, "").trimEnd().replace(/^/gm, "  "));
      console.log("\nNext:");
      if (options.lang === "python") console.log(`  apt-get install -y ${PYTHON_APT_PACKAGES}   # if not installed yet`);
      if (options.lang === "go") {
        console.log(`  apt-get install -y ${goAptPackages()}   # if not installed yet`);
        console.log(`  sh ${folder}/build.sh   # the first build takes about 20 s; run.sh rebuilds after edits`);
      }
      console.log(`  qntx server --config ${shown(result.configFile)}`);
      console.log(`  curl 'http://127.0.0.1:8770/api/${name}/hello?name=you'`);
      console.log(`  qntx pulse enqueue ${name}/count --payload '{"text": "one two"}' --wait`);
      console.log(`See ${folder}/README.md.`);
    }));
}

