/**
 * The `hello` example plugin: routes with params, query, JSON bodies, multi-value headers,
 * a slow route for deadline tests, config with a default, a health report, and a CLI
 * command (`qntx hello greet <name> [--shout]`).
 * `main.ts` serves it; tests can import it and call `startPlugin` instead.
 */
import { definePlugin, HttpError, json, type PluginRequest } from "@qntx/sdk";

const startedAt = Date.now();
/** Set from config by `initialize`; the default covers a host that never initializes us. */
let greeting = "Hello";

/** The longest `/slow` wait accepted, so a typo cannot park a request for hours. */
const MAX_SLOW_MS = 60_000;

function greet(name: string): { message: string } {
  return { message: `${greeting}, ${name}!` };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The plugin definition, validated and with its routes compiled. */
export const plugin = definePlugin({
  metadata: {
    name: "hello",
    version: "0.1.0",
    qntxVersion: ">=0.1.0",
    description: "Example plugin: greetings, echo, cookies and a slow route",
    author: "qntx",
    license: "MIT",
  },

  configSchema: {
    greeting: { type: "string", description: "Word used to greet", default: "Hello" },
  },

  initialize(ctx) {
    // configSchema's default fills the key when the host sends none.
    greeting = ctx.config.greeting || "Hello";
    ctx.log.info("hello plugin ready", { greeting });
  },

  routes: {
    "GET /hello": {
      description: "Greets ?name= (default: world)",
      handler: (req: PluginRequest) => greet(req.query.get("name") || "world"),
    },
    "GET /hello/:name": {
      description: "Greets the name in the path",
      handler: (req: PluginRequest) => greet(req.params.name!),
    },
    "POST /echo": {
      description: "Echoes the JSON body and its content type",
      handler: (req: PluginRequest) => ({
        echo: req.json(),
        headers: { "content-type": req.header("content-type") ?? "" },
      }),
    },
    "GET /cookies": {
      description: "Sets two cookies (multi-value Set-Cookie)",
      handler: () => json({ cookies: ["a", "b"] }, { headers: { "set-cookie": ["a=1; Path=/", "b=2; Path=/"] } }),
    },
    "GET /slow": {
      description: "Answers after ?ms= milliseconds",
      handler: async (req: PluginRequest) => {
        const ms = Number(req.query.get("ms") ?? "0");
        if (!Number.isInteger(ms) || ms < 0 || ms > MAX_SLOW_MS) {
          throw new HttpError(400, `ms must be an integer from 0 to ${MAX_SLOW_MS}`);
        }
        await sleep(ms);
        return { waitedMs: ms };
      },
    },
  },

  commands: {
    greet: {
      description: "Greets someone on the command line",
      usage: "<name…> [--shout]",
      flags: {
        shout: { description: "upper-case the greeting", short: "s" },
      },
      run(args, flags) {
        if (args.length === 0) return { stderr: "greet: give a name, e.g. `qntx hello greet Ada`\n", exitCode: 2 };
        const line = greet(args.join(" ")).message;
        return `${flags.shout ? line.toUpperCase() : line}\n`;
      },
    },
  },

  health: () => ({
    healthy: true,
    message: "ok",
    details: { uptime_seconds: Math.floor((Date.now() - startedAt) / 1000), greeting },
  }),
});
