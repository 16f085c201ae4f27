/**
 * The files of a scaffold and how they reach the disk. Templates are string builders in
 * TypeScript (not files read at run time), so the built CLI needs nothing beside its own
 * JavaScript to generate a plugin.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** One file of a scaffold, its path relative to the plugin's folder. */
export interface ScaffoldFile {
  readonly path: string;
  readonly content: string;
  /** 0o755 for scripts the host runs; default 0o644. */
  readonly mode?: number;
}

/** The languages `qntx plugin new --lang` knows. */
export const SCAFFOLD_LANGUAGES = ["ts", "python", "go"] as const;

/** One of {@link SCAFFOLD_LANGUAGES}. */
export type ScaffoldLanguage = (typeof SCAFFOLD_LANGUAGES)[number];

/** A string for a TypeScript, Python or Go source literal (all accept JSON's escapes for these names). */
export function quoted(value: string): string {
  return JSON.stringify(value);
}

/** The lines every scaffold's README.md shows the plugin's table with (under its "Run" heading). */
export function tableSection(input: { readonly name: string; readonly binary: string; readonly configFile: string }): string {
  const { name, binary, configFile } = input;
  return `\`${configFile}\` has the table that loads it:

\`\`\`toml
[plugins.${name}]
binary = ${quoted(binary)}
config = { greeting = "Hello" }
\`\`\`
`;
}

/** The "Check it" section every scaffold's README.md shares: the same command, whatever the language. */
export function checkSection(input: { readonly name: string; readonly binary: string; readonly configFile: string }): string {
  const { name, binary, configFile } = input;
  return `## Check it

From the folder of \`${configFile}\`, with no host running:

\`\`\`sh
qntx plugin check ${binary} --name ${name} --run-jobs
\`\`\`

It takes the plugin through every step a host takes (port line, Metadata, ConfigSchema,
Initialize with real attestation and queue services on a temporary database, Health, the
route by both path forms, an unknown path, the job with payload \`{}\`, Shutdown and exit) and
prints one PASS/FAIL/SKIP line per step; it exits 1 when a step fails.
`;
}

/** Writes `files` under `folder`, creating subfolders, replacing files of the same path. */
export function writeScaffoldFiles(folder: string, files: readonly ScaffoldFile[]): void {
  for (const file of files) {
    const target = join(folder, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.content, { mode: file.mode ?? 0o644 });
    // writeFileSync's mode applies to new files only: an overwritten script keeps its old mode.
    chmodSync(target, file.mode ?? 0o644);
  }
}
