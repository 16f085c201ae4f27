/**
 * @qntx/sdk/testing: test a plugin with no host running. `startTestPlugin` serves a plugin
 * definition in process (or spawns a plugin file), initializes it against a fake host — a real
 * gRPC server with the attestation store, the job queue and the other host services in memory —
 * and calls its HTTP routes,
 * job handlers, WebSocket and commands the way the qntx host does.
 *
 * @example
 * import { startTestPlugin } from "@qntx/sdk/testing";
 * import { plugin } from "../src/plugin.js";
 *
 * await using p = await startTestPlugin(plugin, { config: { greeting: "Hi" } });
 * const res = await p.http("GET", "/hello", { query: { name: "ada" } });
 * assert.deepEqual(res.json(), { message: "Hi, ada!" });
 * const run = await p.job("index", { repo: "acme/widgets" });
 * await p.host!.waitForAttestation({ predicates: ["indexed"] });
 */
export { startTestPlugin, type TestPluginOptions } from "./start.js";
export type { TestPlugin, ConfigInput, ExtraEndpoints } from "./handle.js";
export { createFakeHost, type FakeHost, type FakeHostOptions, type JobMatch } from "./fake-host.js";
export { matchesFilter, generateAttestationId, type AttestationSeed, type FilterInput } from "./attestation-store.js";
export { JOB_STATUSES, type JobInput } from "./job-store.js";
export { INVALID_TOKEN } from "./fake-services.js";
export { FakeMesh, type FakeChat, type FakeFetchResponse } from "./fake-mesh.js";
export type { HostMethod } from "./call-meter.js";
export { DEFAULT_WAIT_MS, type WaitOptions } from "./waiters.js";
export { TestPluginError, type TestPluginErrorCode } from "./errors.js";
export type { HttpOptions, HeaderInput, TestResponse } from "./http.js";
export type { JobOptions, JobRun, JobLogLine } from "./job.js";
export type { WebSocketOptions, TestWebSocket, TestFrame, WebSocketEnd } from "./websocket.js";
export type { CommandOptions, CommandRun, CommandFlagInput } from "./command.js";
export type { ProcessOptions } from "./process-plugin.js";
