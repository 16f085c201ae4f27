/**
 * Whether to colour what goes to a terminal: only when the stream is one, and never when
 * `NO_COLOR` is set to anything but the empty string (https://no-color.org). Every place that
 * colours output (the host's pretty log, `qntx plugin logs`, `qntx plugin check`) asks here.
 */

/** Whether output to a stream whose `isTTY` is `isTTY` may carry colour codes. */
export function colourWanted(isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return Boolean(isTTY);
}
