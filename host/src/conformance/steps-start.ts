/**
 * The steps of starting a plugin, as the host takes them: spawn with `--port` and read the
 * port line (docs/protocol.md §2), poll Metadata for the name, check version and qntx_version,
 * check ConfigSchema and the config against it, Initialize with the host's real services.
 */
import { status } from "@grpc/grpc-js";
import { PluginCallError, QntxError, type ConfigSchemaResponse, type InitializeRequest, type InitializeResponse } from "@qntx/protocol";
import { pino } from "pino";
import semver from "semver";
import { validateConfig } from "../plugin/plugin-config.js";
import { PortAllocator } from "../plugin/ports.js";
import { PluginProcess } from "../plugin/process.js";
import { checkQntxVersion } from "../plugin/version.js";
import { HOST_VERSION } from "../version.js";
import { CheckCalls, exitedDuring, failedWith, seconds } from "./calls.js";
import type { CheckRun } from "./context.js";
import { startCheckServices } from "./services.js";
import { describeInit, schemaProblems, initProblems } from "./validate.js";

const OFFERED_ELSEWHERE = ["scheduleEndpoint", "fileServiceEndpoint", "llmEndpoint", "embeddingEndpoint", "vectorSearchEndpoint", "groundEndpoint", "searchEndpoint", "fetchEndpoint"] as const;

/** Spawn with `--port N` and the `QNTX_PLUGIN_PORT=` line within the port-line budget. */
export async function stepPortLine(run: CheckRun): Promise<void> {
  const title = "spawn --port and port line";
  if (run.target.kind === "address") {
    run.client = new CheckCalls(run.target.address, undefined);
    return run.rec.skip("port-line", title, `not spawned: dialling ${run.target.address} (the spawn, port line and exit steps need a binary)`);
  }
  const { options } = run;
  const port = await new PortAllocator(options.basePort).allocate();
  run.requestedPort = port;
  const started = Date.now();
  try {
    const spawned = await PluginProcess.spawn({
      name: options.name ?? "plugin", command: run.target.command, port, args: options.args, cwd: options.cwd,
      // The SDK and the Python example exit when this process dies: no orphan if the check is killed.
      env: { QNTX_HOST_PID: String(process.pid) },
      portLineTimeoutMs: options.portLineTimeoutMs, logger: pino({ level: "silent" }),
      // The pid is known at once (the process object only after the port line): an interrupt
      // in between must still be able to stop the group.
      output: { started: (pid) => (run.pid = pid), line: () => undefined, exited: () => undefined },
    });
    run.proc = spawned.process;
    run.client = new CheckCalls(`127.0.0.1:${spawned.port}`, spawned.process);
    if (spawned.announced) {
      const where = spawned.port === port ? "" : ` (it was given ${port})`;
      return run.rec.pass("port-line", title, `QNTX_PLUGIN_PORT=${spawned.port} after ${seconds(Date.now() - started)}${where}`);
    }
    run.latePort = spawned.latePort;
    run.rec.fail("port-line", title, `no QNTX_PLUGIN_PORT= line within ${seconds(options.portLineTimeoutMs)}: QNTX would assume port ${port}; continuing with ${port}`,
      "print QNTX_PLUGIN_PORT=<port> on stdout (and flush it) as soon as the gRPC server listens");
  } catch (error) {
    run.gone = "the plugin did not start";
    const hint = error instanceof QntxError ? error.hint : undefined;
    run.rec.fail("port-line", title, error instanceof Error ? error.message : String(error), hint);
  }
}

/** Metadata answers (polled like the host's readiness wait) with a name, the expected one with `--name`. */
export async function stepMetadata(run: CheckRun): Promise<void> {
  const title = "Metadata";
  if (run.skippedAsGone("metadata", title)) return;
  const client = run.client!;
  let late: number | undefined;
  void run.latePort?.then((p) => (late = p));
  const budget = run.options.readyTimeoutMs;
  const giveUp = Date.now() + budget;
  let last: Error | undefined;
  while (Date.now() < giveUp) {
    if (late !== undefined && !client.address.endsWith(`:${late}`)) client.redial(`127.0.0.1:${late}`);
    try {
      run.metadata = await client.call("Metadata", Math.max(50, Math.min(1000, giveUp - Date.now())), (plugin, options) => plugin.metadata(options));
      break;
    } catch (error) {
      last = error as Error;
      if (exitedDuring(error) || failedWith(error, status.UNIMPLEMENTED)) {
        run.gone ??= "no Metadata";
        return run.failCall("metadata", title, last, "serve protocol.DomainPluginService with every method of proto/domain.proto");
      }
      // Refused or not answering yet: the host keeps polling until its budget is spent.
      await new Promise((resolve) => setTimeout(resolve, Math.min(100, Math.max(0, giveUp - Date.now()))));
    }
  }
  const metadata = run.metadata;
  if (!metadata) {
    run.gone = `no answer to Metadata at ${client.address}`;
    const code = last instanceof PluginCallError ? last.code : undefined;
    const why = code === status.DEADLINE_EXCEEDED ? "it accepts connections but never answers"
      : code === status.UNAVAILABLE && /ECONNREFUSED/.test(last!.message) ? "connection refused: nothing listens there"
      : last?.message ?? "no attempt";
    const hint = run.target.kind === "address"
      ? `check that the plugin runs and serves protocol.DomainPluginService at ${client.address}`
      : "serve protocol.DomainPluginService on 127.0.0.1 at the port of the port line; the host polls Metadata for 5 s after it";
    return run.rec.fail("metadata", title, `no answer in ${seconds(budget)} at ${client.address} (${why})`, hint);
  }
  const wanted = run.options.name;
  if (!metadata.name) {
    run.rec.fail("metadata", title, "Metadata answered an empty name", "answer MetadataResponse.name: it is the plugin's name in /api/<name> and in am.plugins.toml");
  } else if (wanted !== undefined && metadata.name !== wanted) {
    run.rec.fail("metadata", title, `the plugin says its name is "${metadata.name}", but "${wanted}" was expected`,
      `the host refuses it under [plugins.${wanted}]: rename the table to [plugins.${metadata.name}], or change the name the plugin reports`);
  } else {
    const where = run.requestedPort !== undefined && !client.address.endsWith(`:${run.requestedPort}`) && late !== undefined ? ` at ${client.address} (from a late port line)` : "";
    run.rec.pass("metadata", title, `name "${metadata.name}"${wanted ? " (as expected)" : ""}${where}${metadata.description ? `: ${metadata.description}` : ""}`);
  }
}

/** `version` is semver. */
export async function stepVersion(run: CheckRun): Promise<void> {
  const title = "version is semver";
  if (run.skippedAsGone("version", title)) return;
  const version = run.metadata!.version;
  if (semver.valid(version) && !version.startsWith("v")) return run.rec.pass("version", title, version);
  run.rec.fail("version", title, version ? `"${version}" is not a semver version` : "Metadata answered an empty version",
    "answer MAJOR.MINOR.PATCH, such as 1.0.0: other plugins' depends_on ranges are matched against it");
}

/** `qntx_version` is a valid range that this host's version satisfies. */
export async function stepQntxVersion(run: CheckRun): Promise<void> {
  const title = "qntx_version accepts this host";
  if (run.skippedAsGone("qntx-version", title)) return;
  const range = run.metadata!.qntxVersion;
  try {
    checkQntxVersion(run.name, range, HOST_VERSION);
    run.rec.pass("qntx-version", title, range.trim() ? `"${range}" accepts qntx ${HOST_VERSION}` : `empty: accepts any host (qntx ${HOST_VERSION})`);
  } catch (error) {
    run.rec.fail("qntx-version", title, (error as Error).message, error instanceof QntxError ? error.hint : undefined);
  }
}

/** ConfigSchema answers a well-formed schema, and the given config satisfies it (defaults filled). */
export async function stepConfigSchema(run: CheckRun): Promise<void> {
  const title = "ConfigSchema";
  if (run.skippedAsGone("config-schema", title)) return;
  let schema: ConfigSchemaResponse;
  try {
    schema = await run.client!.call("ConfigSchema", run.options.callTimeoutMs, (plugin, options) => plugin.configSchema(options));
  } catch (error) {
    if (failedWith(error, status.UNIMPLEMENTED)) return run.rec.skip("config-schema", title, "UNIMPLEMENTED: no schema, the host sends config unchecked");
    return run.failCall("config-schema", title, error, "answer ConfigSchemaResponse (no fields when the plugin takes no config)");
  }
  const problems = schemaProblems(schema);
  if (problems.length) return run.rec.fail("config-schema", title, `malformed schema: ${problems.join("; ")}`, 'types are "string", "number", "boolean" or "array"; defaults must pass their own field\'s rules');
  const { config, errors } = validateConfig(run.config, schema);
  const keys = Object.keys(schema.fields);
  if (errors.length) {
    return run.rec.fail("config-schema", title, `the config does not satisfy the schema: ${errors.join("; ")}`,
      "pass values with --config key=value (the host refuses to start a plugin whose config fails its schema)");
  }
  run.config = config;
  run.rec.pass("config-schema", title, keys.length ? `${keys.length} field${keys.length === 1 ? "" : "s"} (${keys.sort().join(", ")}); config valid` : "no fields");
}

/** Initialize with the host's real ATS and queue services and the config; a sane answer. */
export async function stepInitialize(run: CheckRun): Promise<void> {
  const title = "Initialize";
  if (run.skippedAsGone("initialize", title) || run.skippedAsLive("initialize", title)) return;
  run.services ??= await startCheckServices();
  const services = run.services;
  const request: InitializeRequest = {
    atsStoreEndpoint: services.address, queueEndpoint: services.address, authToken: services.tokenFor(run.name), config: run.config,
    ...Object.fromEntries(OFFERED_ELSEWHERE.map((key) => [key, ""])) as Record<(typeof OFFERED_ELSEWHERE)[number], string>,
  };
  let init: InitializeResponse;
  try {
    init = await run.client!.call("Initialize", run.options.callTimeoutMs, (plugin, options) => plugin.initialize(request, options));
  } catch (error) {
    return run.failCall("initialize", title, error, "Initialize must answer InitializeResponse once the plugin can serve; errors in it stop the plugin from loading");
  }
  run.init = init;
  await services.registerHandlers(run.name, init.handlerNames).catch(() => undefined);
  const problems = initProblems(init);
  const note = run.target.kind === "address" ? "; note: the plugin at this address now uses the check's temporary services: restart it from its host" : "";
  if (problems.length) return run.rec.fail("initialize", title, `${describeInit(init)}; but ${problems.join("; ")}${note}`, "fix the InitializeResponse: the host registers these as announced");
  run.rec.pass("initialize", title, `${describeInit(init)}${note}`);
}
