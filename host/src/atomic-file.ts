/**
 * Whole-file writes that a reader in another process never sees half done: the CLI reads
 * `host.json` and `admin.token` while a host may be writing them, and a plugin's config file is
 * read at its next start.
 */
import { chmodSync, closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";

/** Options of {@link writeFileAtomicSync}. */
export interface AtomicWriteOptions {
  /** The new file's exact mode (set with chmod, so the umask cannot narrow it). */
  readonly mode?: number;
  /** fsync before the rename, so that after a crash the file holds the old or the new content, never an empty one. */
  readonly durable?: boolean;
}

/**
 * Writes `data` to `file` by way of a temp file beside it and a rename over the old one, so a
 * concurrent reader sees the old content or the new, never a part of either. On an error
 * (a full disk, a directory in the way) the old file is left as it was and the temp file removed.
 */
export function writeFileAtomicSync(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const temp = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(temp, "w", options.mode ?? 0o666);
    try {
      if (typeof data === "string") writeSync(fd, data);
      else writeSync(fd, data);
      if (options.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (options.mode !== undefined) chmodSync(temp, options.mode);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}
