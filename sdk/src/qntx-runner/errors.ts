/**
 * The runner's one error type: what went wrong, naming the plugin file, and how to fix it.
 * The CLI prints both on stderr before exiting, so the host shows them in its startup error.
 */

/** A load or adaptation failure of a QNTX-format plugin, with a hint for its author. */
export class QntxModuleError extends Error {
  /** How to fix it, one line. */
  readonly hint: string;

  constructor(message: string, hint: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "QntxModuleError";
    this.hint = hint;
  }
}

/** The message of anything thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
