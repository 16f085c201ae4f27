/** Ephemeral ports for tests, so test files can run in parallel without clashing. */
import { createServer } from "node:net";

/**
 * A port that was free a moment ago: listens on 127.0.0.1:0, reads the port, closes.
 * Another process may take it before the caller binds it; tests that spawn plugins are
 * safe anyway because plugins probe upward from the port they are given.
 */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}
