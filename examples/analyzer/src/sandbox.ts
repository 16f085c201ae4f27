/**
 * Runs operator-stored handler code (ADR-004) with `node:vm`.
 *
 * NOT A SECURITY BOUNDARY. `node:vm` separates globals, not privileges: code that means harm
 * may find a way into the plugin's process (and so the host's services with the plugin's token),
 * exhaust memory, or block the event loop up to the timeout. Only store handler code you
 * would run as the plugin yourself. What the sandbox does give: a fresh context per run with
 * nothing in it but `payload`, `log` and the standard built-ins (`JSON`, `Math`, …) — no
 * `require`, `process`, timers or I/O; no `eval`/`new Function` in it; a time limit that also
 * covers what runs after an `await`; results and errors converted to plain JSON.
 */
import vm from "node:vm";
import type { JobContext, JobHandler } from "@qntx/sdk";

/** Options of {@link compileUserHandler}. */
export interface SandboxOptions {
  /** Longest a run may take, awaited work included. */
  timeoutMs: number;
}

/** Most `log(...)` lines kept per run. */
const MAX_LINES = 200;

type AsyncFunctionConstructor = new (...argsAndBody: string[]) => (...args: unknown[]) => Promise<unknown>;
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor as AsyncFunctionConstructor;

// The wrapper around the stored body. It runs entirely inside the context: payload is parsed
// there from JSON text (so no object of the plugin's realm is reachable from it), and the
// outcome is handed back as JSON text.
const PREFIX = `(() => {
  "use strict";
  const input = globalThis.__input;
  delete globalThis.__input;
  const lines = [];
  const out = { text: undefined };
  const show = (value) => typeof value === "string" ? value : (() => { try { return JSON.stringify(value); } catch { return String(value); } })();
  const log = (...args) => { if (lines.length < ${MAX_LINES}) lines.push(args.map(show).join(" ")); };
  const payload = input === "" ? undefined : JSON.parse(input);
  globalThis.payload = payload;
  globalThis.log = log;
  const finish = (ok, value, error) => {
    let json;
    if (ok && value !== undefined) {
      try { json = JSON.stringify(value); } catch (e) { ok = false; error = "the result is not JSON: " + (e && e.message ? e.message : String(e)); }
    }
    out.text = JSON.stringify({ ok, json, error, lines });
  };
  const handler = async function (payload, ctx) {
`;
const SUFFIX = `
  };
  handler(payload, Object.freeze({ log })).then(
    (value) => finish(true, value, ""),
    (e) => finish(false, undefined, e instanceof Error ? e.message : String(e)),
  );
  return out;
})()`;
const PREFIX_LINES = PREFIX.split("\n").length - 1;

interface Outcome {
  ok: boolean;
  json?: string;
  error: string;
  lines: string[];
}

/**
 * Compiles `code` — the body of an `async function (payload, ctx)` — once, and returns a job
 * handler that runs it in a fresh context per job. `ctx` inside is `{ log }`; the value the
 * body returns (JSON) is the job's result; a throw fails the job with its message.
 * Throws a SyntaxError naming the handler when `code` does not parse.
 */
export function compileUserHandler(name: string, code: string, options: SandboxOptions): JobHandler {
  // Parsed alone as a function body first: a body like `}); evil(); (() => {` must not be
  // able to close the wrapper. The function is never called.
  try {
    new AsyncFunction("payload", "ctx", code);
  } catch (err) {
    throw new SyntaxError(`handler ${name}: ${(err as Error).message}`);
  }
  let script: vm.Script;
  try {
    script = new vm.Script(PREFIX + code + SUFFIX, { filename: `handler:${name}`, lineOffset: -PREFIX_LINES });
  } catch (err) {
    // Sloppy-mode-only syntax (`with`, octal literals): the wrapper is strict.
    throw new SyntaxError(`handler ${name} (strict mode): ${(err as Error).message}`);
  }

  return (payload: unknown, ctx: JobContext) => {
    if (Buffer.isBuffer(payload)) throw new Error(`handler ${name} takes a JSON payload`);
    const context = vm.createContext(
      { __input: payload === undefined ? "" : JSON.stringify(payload) },
      // afterEvaluate: the promise jobs of the body run inside runInContext, under its timeout.
      { name: `handler:${name}`, codeGeneration: { strings: false, wasm: false }, microtaskMode: "afterEvaluate" },
    );
    let out: { text?: unknown };
    try {
      out = script.runInContext(context, { timeout: options.timeoutMs }) as { text?: unknown };
    } catch (err) {
      if ((err as { code?: string }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT") throw new Error(`handler ${name} timed out after ${options.timeoutMs} ms`);
      throw new Error(`handler ${name} failed: ${(err as Error)?.message ?? String(err)}`);
    }
    const text = out.text;
    // Nothing outside the context can resolve what the body awaits: unsettled now is never.
    if (typeof text !== "string") throw new Error(`handler ${name} did not finish: it awaits something that never settles (there are no timers or I/O in the sandbox)`);
    const outcome = JSON.parse(text) as Outcome;
    for (const line of outcome.lines) ctx.log.info(line, { stage: "user-code" });
    if (!outcome.ok) throw new Error(outcome.error || `handler ${name} failed without a message`);
    return outcome.json === undefined ? undefined : (JSON.parse(outcome.json) as unknown);
  };
}
