/**
 * Serves the dashboard (the `@qntx/dashboard` package, built into static files by `pnpm
 * build`) at `/`: index.html, one script and one stylesheet, each also stored gzipped and
 * brotli-compressed, which @fastify/static picks by the browser's Accept-Encoding. Nothing is
 * fetched from anywhere else at run time. Only the files the build made are routes (no
 * wildcard), so `/api/…` and `/ws/…` stay the API's.
 */
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { sendCode } from "./http-errors.js";

/** The dashboard's built files, or undefined when the package is not built. */
export function dashboardDir(): string | undefined {
  try {
    const dir = join(dirname(createRequire(import.meta.url).resolve("@qntx/dashboard/package.json")), "dist");
    return existsSync(join(dir, "index.html")) ? dir : undefined;
  } catch {
    return undefined;
  }
}

/** Registers the dashboard's files at `/` (or, when it is not built, a `/` that says so). */
export function registerDashboardFiles(app: FastifyInstance, dir: string | undefined = dashboardDir()): void {
  if (!dir) {
    app.get("/", async (_request, reply) => sendCode(reply, "ROUTE_NOT_FOUND", "the dashboard is not built", "run pnpm build (it bundles dashboard/ into dashboard/dist)"));
    return;
  }
  const headers = (res: { setHeader(name: string, value: string): unknown }): void => {
    res.setHeader("x-content-type-options", "nosniff");
    // Everything the page loads comes from this host; nothing may frame it.
    res.setHeader("content-security-policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  };
  void app.register(async (scope) => {
    await scope.register(fastifyStatic, {
      root: dir,
      wildcard: false,
      preCompressed: true,
      // `/` is the route below: @fastify/static's own index route answers 404 to a browser that
      // accepts compressed files (it looks for `/.gz`).
      index: false,
      // The page is small and changes with the host: always revalidated (ETag), never stale.
      cacheControl: true,
      maxAge: 0,
      setHeaders: headers,
    });
    scope.get("/", (_request, reply) => reply.sendFile("index.html"));
  });
}
