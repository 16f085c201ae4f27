/**
 * Server half of bench/investigations/gateway-overhead.mjs: serves GET /api/hello/hello either through
 * the host's real gateway (`createGateway`, with an in-process plugin answering at once), or
 * through a bare fastify route / node:http handler answering the same bytes after the same
 * microtask. Prints PORT=<port>.
 * Usage: node gateway-front.mjs gateway|fastify|node
 */
import { createRequire } from "node:module";
import { createServer } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_DIR } from "../lib/procs.mjs";

const mode = process.argv[2];
const hostRequire = createRequire(join(REPO_DIR, "host", "package.json"));
const body = Buffer.from(JSON.stringify({ message: "Hello, world!" }));
const response = { statusCode: 200, headers: [{ name: "content-type", values: ["application/json; charset=utf-8"] }], body };

if (mode === "node") {
  const server = createServer((req, res) => {
    Promise.resolve().then(() => {
      res.setHeader("content-type", "application/json; charset=utf-8");
      res.setHeader("content-length", body.length);
      res.writeHead(200).end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => process.stdout.write(`PORT=${server.address().port}\n`));
} else if (mode === "fastify") {
  const app = hostRequire("fastify")({ logger: false });
  app.get("/api/:name/*", async (_request, reply) => {
    const r = await Promise.resolve(response);
    reply.header("content-type", r.headers[0].values[0]);
    return reply.code(200).send(r.body);
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  process.stdout.write(`PORT=${app.server.address().port}\n`);
} else {
  const { createGateway } = await import(join(REPO_DIR, "host", "dist", "gateway", "http-server.js"));
  const dist = (...path) => import(join(REPO_DIR, "host", "dist", ...path));
  const [{ Registry }, { PluginManager }, { parseConfig }, { PluginTokens }] = await Promise.all([
    dist("plugin", "registry.js"), dist("plugin", "manager.js"), dist("config", "index.js"), dist("services", "tokens.js"),
  ]);
  // The plugin in process, started through a manager as a built-in entry would be.
  const plugin = {
    metadata: async () => ({ name: "hello", version: "0.1.0", qntxVersion: "", description: "" }),
    initialize: async () => ({ httpRoutes: [], handlerNames: [], schedules: [], watchers: [] }),
    handleHTTP: async () => response,
    close() {},
  };
  const registry = new Registry();
  const cwd = mkdtempSync(join(tmpdir(), "gateway-front-"));
  process.on("exit", () => rmSync(cwd, { recursive: true, force: true }));
  const config = parseConfig('[plugins.hello]\nbuiltin = "clock"\n', undefined, { cwd, env: {} });
  const endpoints = Object.fromEntries(["atsStoreEndpoint", "queueEndpoint"].map((k) => [k, ""]));
  const manager = new PluginManager(config, registry, { endpoints, tokens: new PluginTokens() }, hostRequire("pino")({ level: "warn" }), {
    launch: async () => ({ plugin, aborted: new Promise(() => undefined) }),
  });
  await manager.start("hello");
  const none = new Proxy({}, { get: () => () => undefined });
  const app = createGateway({
    registry, manager: none, store: none, pulse: none, adminToken: "x", adminTokenFile: "/dev/null", logger: hostRequire("pino")({ level: "warn" }),
    requestTimeoutMs: 30_000, maxBodyBytes: 1 << 20, hostInfo: () => ({}),
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  process.stdout.write(`PORT=${app.server.address().port}\n`);
}
process.on("SIGTERM", () => process.exit(0));
