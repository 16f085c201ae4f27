/**
 * Plugin CLI commands over the control API (what `qntx <plugin> <command>` calls):
 *   GET  /api/plugins/commands                   every running plugin's commands (open, like routes)
 *   GET  /api/plugins/<name>/commands            one plugin's commands
 *   POST /api/plugins/<name>/commands/<command>  run one (admin token: a command can do anything)
 * The run's body is JSON `{args, flags, stdin (base64), env, cwd, timeoutMs}`; the answer is
 * `{plugin, command, exitCode, stdout, stderr}` with both streams base64, so bytes survive.
 */
import { status } from "@grpc/grpc-js";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { QntxError, errorBody, type CommandInfo } from "@qntx/protocol";
import { allCommands, pluginCommands } from "../plugin/commands.js";
import { PluginCallError, type DomainPlugin } from "../plugin/domain-plugin.js";
import type { Registry } from "../plugin/registry.js";
import { RETRY_AFTER_SECONDS, notRunningBody } from "../plugin/state.js";
import { requireAdmin } from "./admin-auth.js";
import { sendCode, sendError } from "./http-errors.js";

/** What the command routes need. */
export interface CommandsApiOptions {
  readonly registry: Registry;
  readonly adminToken: string;
  readonly adminTokenFile: string;
  /** Default deadline of a command run (the host's request_timeout_ms). */
  readonly requestTimeoutMs: number;
}

/** Longest deadline a caller may ask for (setTimeout's limit, ~24.8 days). */
const MAX_TIMEOUT_MS = 2_147_483_647;

type Params = { Params: { name: string; command?: string } };

/** Registers the command routes. */
export function registerCommandRoutes(app: FastifyInstance, options: CommandsApiOptions): void {
  const { registry } = options;

  app.get("/api/plugins/commands", async () => allCommands(registry));

  app.get("/api/plugins/:name/commands", async (request: FastifyRequest<Params>, reply) => {
    const plugin = runningOrRefused(request.params.name, registry, reply);
    if (!plugin) return reply;
    try {
      return { plugin: request.params.name, commands: await pluginCommands(plugin, undefined, abortOnClose(reply)) };
    } catch (error) {
      return sendError(reply, listFailure(request.params.name, error));
    }
  });

  app.post("/api/plugins/:name/commands/:command", async (request: FastifyRequest<Params & { Body: unknown }>, reply) => {
    if (!requireAdmin(request, reply, options.adminToken, options.adminTokenFile)) return reply;
    const name = request.params.name;
    const commandName = request.params.command!;
    let body: RunBody;
    try {
      body = parseRunBody(request.body, options.requestTimeoutMs);
    } catch (error) {
      return sendError(reply, error);
    }
    const plugin = runningOrRefused(name, registry, reply);
    if (!plugin) return reply;
    const signal = abortOnClose(reply);
    let commands: CommandInfo[];
    try {
      commands = await pluginCommands(plugin, undefined, signal);
    } catch (error) {
      return sendError(reply, listFailure(name, error));
    }
    if (!commands.some((c) => c.name === commandName)) {
      const known = commands.map((c) => c.name);
      const hint = known.length > 0 ? `its commands: ${known.join(", ")} (\`qntx ${name} --help\`)` : `plugin ${name} contributes no commands`;
      return sendCode(reply, "COMMAND_NOT_FOUND", `plugin ${name} has no command "${commandName}"`, hint, { commands: known });
    }
    if (!plugin.executeCommand) return sendError(reply, new QntxError("PLUGIN_NOT_FOUND", `plugin ${name} lists commands but cannot run them`));
    try {
      const result = await plugin.executeCommand(
        { command: commandName, args: body.args, flags: body.flags, stdin: body.stdin, env: body.env, cwd: body.cwd },
        { deadline: Date.now() + body.timeoutMs, signal },
      );
      return {
        plugin: name,
        command: commandName,
        exitCode: result.exitCode,
        stdout: Buffer.from(result.stdout).toString("base64"),
        stderr: Buffer.from(result.stderr).toString("base64"),
      };
    } catch (error) {
      if (reply.raw.destroyed) return reply;
      return sendRunFailure(reply, name, commandName, body.timeoutMs, error);
    }
  });
}

/**
 * The plugin when it is running; otherwise answers 404 (naming the host's plugins) or the
 * usual 503. The 404 names come from the registry, not from asking each plugin for its
 * commands: a typo must not cost an RPC per plugin, nor wait on one that is stuck.
 */
function runningOrRefused(name: string, registry: Registry, reply: FastifyReply): DomainPlugin | undefined {
  const info = registry.get(name);
  if (!info) {
    const known = registry.list().map((p) => p.name);
    const hint = known.length > 0 ? `plugins: ${known.join(", ")} (\`qntx <plugin> --help\` lists a plugin's commands)` : "this host has no plugins (GET /api/plugins lists them)";
    sendCode(reply, "PLUGIN_NOT_FOUND", `no plugin named "${name}"`, hint, { plugins: known });
    return undefined;
  }
  const plugin = registry.runningPlugin(name);
  if (!plugin) {
    reply.header("retry-after", RETRY_AFTER_SECONDS);
    reply.code(503).send(notRunningBody(name, info.state, info.error));
  }
  return plugin;
}

/** Aborts when the client goes away before the answer (Ctrl-C in the CLI cancels the command). */
function abortOnClose(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once("close", () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

function listFailure(name: string, error: unknown): unknown {
  if (!(error instanceof PluginCallError)) return error;
  return new PluginCallError(error.code, `plugin ${name} did not list its commands: ${error.message}`, { method: error.method, details: error.details, cause: error });
}

/** A run that did not come back: the deadline passed (504), or the plugin failed or went away (502). */
function sendRunFailure(reply: FastifyReply, name: string, command: string, timeoutMs: number, error: unknown): FastifyReply {
  if (!(error instanceof PluginCallError)) return sendError(reply, error);
  if (error.code === status.DEADLINE_EXCEEDED) {
    return sendCode(reply, "PLUGIN_TIMEOUT", `command "${command}" of plugin ${name} did not finish within ${timeoutMs} ms`,
      "the plugin was told to stop it; give it longer with timeoutMs (the CLI: QNTX_COMMAND_TIMEOUT_MS)", { grpc_status: error.grpcStatus });
  }
  const lost = error.code === status.UNAVAILABLE || error.code === status.CANCELLED || error.code === status.INTERNAL;
  // 502 whatever the status (an UNIMPLEMENTED ExecuteCommand after a Commands listing is the plugin's fault too).
  return reply.code(502).send(errorBody("PLUGIN_CALL_FAILED", `command "${command}" of plugin ${name} failed: ${error.message}`,
    lost ? `the plugin may have crashed: \`qntx plugin logs ${name}\` shows its output` : `\`qntx plugin logs ${name}\` shows the plugin's output`,
    { grpc_status: error.grpcStatus }));
}

/** A validated run request. */
interface RunBody {
  args: string[];
  flags: Record<string, string>;
  stdin: Buffer;
  env: Record<string, string>;
  cwd: string;
  timeoutMs: number;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw invalid(`${field} must be an object of name → string`);
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== "string") throw invalid(`${field}.${key} must be a string (a switch is "true")`);
    out[key] = v;
  }
  return out;
}

function invalid(message: string): QntxError {
  return new QntxError("INVALID_ARGUMENT", message, { hint: 'body: {"args": ["…"], "flags": {"name": "value"}, "stdin": "<base64>", "cwd": "…", "timeoutMs": 30000}' });
}

/** Checks the JSON body of a run; every field is optional. */
export function parseRunBody(raw: unknown, defaultTimeoutMs: number): RunBody {
  const body = (raw ?? {}) as Record<string, unknown>;
  if (typeof body !== "object" || Array.isArray(body)) throw invalid("the body must be a JSON object");
  const args = body.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) throw invalid("args must be an array of strings");
  if (body.stdin !== undefined && typeof body.stdin !== "string") throw invalid("stdin must be a base64 string");
  if (body.cwd !== undefined && typeof body.cwd !== "string") throw invalid("cwd must be a string");
  const timeoutMs = body.timeoutMs ?? defaultTimeoutMs;
  if (typeof timeoutMs !== "number" || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw invalid(`timeoutMs must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}`);
  }
  return {
    args: args as string[],
    flags: stringMap(body.flags, "flags"),
    stdin: Buffer.from((body.stdin as string | undefined) ?? "", "base64"),
    env: stringMap(body.env, "env"),
    cwd: (body.cwd as string | undefined) ?? "",
    timeoutMs,
  };
}
