/**
 * Waits until a freshly started plugin answers `Metadata` with the configured name
 * (docs/protocol.md §2: poll for up to 5 s). Connection refusals are retried; a different name
 * fails at once, naming both; the budget running out fails with NOT_READY.
 */
import { QntxError, grpcStatusName } from "@qntx/protocol";
import { PluginCallError, type DomainPlugin } from "./domain-plugin.js";

/**
 * Polls `plugin.metadata` until it answers `name`, or throws. `aborted` stops the wait early.
 * `classify` reads a failed call's message for a TLS error (plugin-channel.ts): one it
 * recognizes ends the wait at once with that error (`final` false), and on the last try
 * (`final` true) it may replace NOT_READY with a more precise one.
 */
export async function waitForMetadata(
  plugin: DomainPlugin,
  name: string,
  where: string,
  budgetMs: number,
  aborted?: Promise<never>,
  classify?: (message: string, final: boolean) => QntxError | undefined,
): Promise<void> {
  const giveUpAt = Date.now() + budgetMs;
  let lastError = "no answer";
  while (Date.now() < giveUpAt) {
    const attemptDeadline = Math.min(giveUpAt, Date.now() + 1000);
    try {
      const call = plugin.metadata({ deadline: attemptDeadline });
      const metadata = aborted ? await Promise.race([call, aborted]) : await call;
      if (metadata.name === name) return;
      throw new QntxError("WRONG_NAME", `the plugin at ${where} reports its name as "${metadata.name}", but it is configured as "${name}"`, {
        hint: `rename the [plugins.${name}] table to [plugins.${metadata.name}], or point it at the right binary/address`,
      });
    } catch (error) {
      if (!(error instanceof PluginCallError)) throw error;
      const tls = classify?.(error.message, false);
      if (tls) throw tls;
      lastError = `${grpcStatusName(error.code)}: ${error.message}`;
      const pause = Math.min(100, giveUpAt - Date.now());
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
  const tls = classify?.(lastError, true);
  if (tls) throw tls;
  throw new QntxError("NOT_READY", `plugin ${name} did not answer Metadata at ${where} within ${budgetMs} ms (${lastError})`, {
    hint: "check that the plugin serves protocol.DomainPluginService on the port it announces",
  });
}
