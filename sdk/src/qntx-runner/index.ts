/**
 * `@qntx/sdk/qntx-runner`: runs QNTX-format TypeScript plugins (a folder with
 * `"qntx-plugin": true` in package.json and a `plugin.ts` default-exporting a plain object)
 * and SDK plugins written in TypeScript, under Node 20 with tsx instead of Bun.
 *
 * The executable is the `qntx-ts-runner` bin (`@qntx/sdk/qntx-runner/cli` resolves to its
 * file): `qntx-ts-runner --plugin-path <folder|file> --grpc-port N` (or `--port N`).
 */
export { adaptQntxModule, type AdaptedQntxModule } from "./adapter.js";
export { QntxModuleError } from "./errors.js";
export { createQntxResponse, qntxHeaders, toQntxRequest, toRouteHandler } from "./http.js";
export { toQntxInitRequest } from "./init-request.js";
export { executeFunctionOf, toJobHandler } from "./jobs.js";
export { classifyExports, loadPlugin, type LoadedPlugin } from "./loader.js";
export { locateQntxPlugin, MODULE_EXTENSIONS, QNTX_ENTRY_FILE, type LocatedPlugin } from "./locate.js";
export { createRecordingMux, type RecordedRoute } from "./mux.js";
export { parsePluginPath, runQntxRunner, RUNNER_NAME } from "./run.js";
export { startAdapted } from "./start-adapted.js";
export type {
  QntxExecuteJob,
  QntxHandler,
  QntxHeader,
  QntxHeaders,
  QntxInitRequest,
  QntxJob,
  QntxJobAnswer,
  QntxModule,
  QntxMux,
  QntxRequest,
  QntxResponse,
} from "./types.js";
