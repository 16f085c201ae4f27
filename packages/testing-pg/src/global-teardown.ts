/** Jest `globalTeardown`: stops the server the global setup started, after the last project's tests. */
import { URL_VAR } from "./env.js";
import { state } from "./global-setup.js";

/** Stops the server once every project that set it up has finished. */
export default async function globalTeardown(): Promise<void> {
  state.users = Math.max(0, state.users - 1);
  if (state.users > 0 || state.server === undefined) return;
  const server = state.server;
  state.server = undefined;
  delete process.env[URL_VAR];
  await server.stop();
}
