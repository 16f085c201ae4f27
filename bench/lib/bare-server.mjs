/**
 * The bare baseline servers' common part: grpc-js with the protocol's generated
 * DomainPluginService definition and no SDK. Every method answers the simplest valid reply;
 * `methods` replaces the ones a baseline measures. Binds 127.0.0.1 on any port, prints
 * QNTX_PLUGIN_PORT=<port> like a plugin, and exits on SIGTERM.
 */
import * as grpc from "@grpc/grpc-js";
import { DomainPluginServiceService, grpcOptions } from "@qntx/protocol";

/** Serves the bare service named `name`, with `methods` overriding the defaults. */
export function serveBare(name, methods = {}) {
  const unimplemented = (_call, callback) => callback({ code: grpc.status.UNIMPLEMENTED, details: `${name}: not implemented` });
  const server = new grpc.Server(grpcOptions());
  server.addService(DomainPluginServiceService, {
    metadata: (_call, callback) => callback(null, { name, version: "0.1.0", qntxVersion: "", description: "", author: "", license: "" }),
    initialize: (_call, callback) => callback(null, { handlerNames: [], schedules: [], watchers: [], httpRoutes: [] }),
    shutdown: (_call, callback) => callback(null, {}),
    handleHttp: unimplemented,
    handleWebSocket: (call) => call.end(),
    health: (_call, callback) => callback(null, { healthy: true, message: "", details: {} }),
    configSchema: (_call, callback) => callback(null, { fields: {} }),
    registerGlyphs: (_call, callback) => callback(null, { glyphs: [] }),
    executeJob: (_call, callback) => callback(null, { success: true, error: "", result: Buffer.alloc(0), progressCurrent: 0, progressTotal: 0, costActual: 0, logEntries: [], pluginVersion: "0.1.0" }),
    parseAxQuery: unimplemented,
    ...methods,
  });
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    process.stdout.write(`QNTX_PLUGIN_PORT=${port}\n`);
  });
  process.on("SIGTERM", () => {
    server.forceShutdown();
    process.exit(0);
  });
  return server;
}
