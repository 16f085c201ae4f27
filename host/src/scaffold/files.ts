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
export const SCAFFOLD_LANGUAGES = ["ts", "python"] as const;

/** One of {@link SCAFFOLD_LANGUAGES}. */
export type ScaffoldLanguage = (typeof SCAFFOLD_LANGUAGES)[number];

/** A string for a TypeScript or Python source literal (both accept JSON's escapes for these names). */
export function quoted(value: string): string {
  return JSON.stringify(value);
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
