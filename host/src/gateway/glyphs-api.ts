/**
 * `GET /api/plugins/glyphs`: the glyphs (canvas panels) of every running plugin, in the shape
 * QNTX's UI reads (server/plugin_handlers.go, HandlePluginGlyphs): a bare JSON array of
 * `{plugin, symbol, title, label, content_url, css_url?, module_url?, default_width?,
 * default_height?}`, plugins in name order, each plugin's glyphs in its own order. Paths a
 * plugin gives are relative to its mount point and come back as URLs under `/api/<plugin>`;
 * empty URLs and zero sizes are left out, as Go's `omitempty` does.
 *
 * Unlike QNTX, which asks plugins one after the other with no deadline, every plugin is asked
 * at once under a short deadline: one hung plugin must not hold the UI's page load. A plugin
 * that answers UNIMPLEMENTED (built before glyphs) or fails contributes nothing; the list is
 * never a 500 because of one plugin.
 */
import { status } from "@grpc/grpc-js";
import type { FastifyInstance } from "fastify";
import type { GlyphDef } from "@qntx/protocol";
import { PluginCallError } from "../plugin/domain-plugin.js";
import type { Registry } from "../plugin/registry.js";
import { sendCode } from "./http-errors.js";

/** Longest a plugin may take to list its glyphs before it is left out of the answer. */
export const GLYPHS_CALL_MS = 2_000;

/** One glyph as `GET /api/plugins/glyphs` lists it (QNTX's `PluginGlyphDef`). */
export interface PluginGlyphView {
  plugin: string;
  symbol: string;
  title: string;
  label: string;
  content_url: string;
  css_url?: string;
  module_url?: string;
  default_width?: number;
  default_height?: number;
}

/** What the glyphs route needs. */
export interface GlyphRouteOptions {
  readonly registry: Registry;
  /** The gateway's request deadline; the glyph calls take the shorter of it and {@link GLYPHS_CALL_MS}. */
  readonly requestTimeoutMs?: number;
}

/** QNTX's URL for a plugin path: `/api/<plugin>` + the path exactly as given (Go's Sprintf). */
function pluginUrl(plugin: string, path: string): string {
  return `/api/${plugin}${path}`;
}

/** A GlyphDef as the route lists it. */
export function glyphView(plugin: string, def: GlyphDef): PluginGlyphView {
  const view: PluginGlyphView = { plugin, symbol: def.symbol, title: def.title, label: def.label, content_url: pluginUrl(plugin, def.contentPath) };
  if (def.cssPath) view.css_url = pluginUrl(plugin, def.cssPath);
  if (def.modulePath) view.module_url = pluginUrl(plugin, def.modulePath);
  if (def.defaultWidth) view.default_width = def.defaultWidth;
  if (def.defaultHeight) view.default_height = def.defaultHeight;
  return view;
}

/** Registers `GET /api/plugins/glyphs` (other methods: 405, as QNTX's requireMethod answers). */
export function registerGlyphRoutes(app: FastifyInstance, options: GlyphRouteOptions): void {
  const { registry } = options;
  const callMs = Math.min(options.requestTimeoutMs ?? GLYPHS_CALL_MS, GLYPHS_CALL_MS);

  app.get("/api/plugins/glyphs", async (): Promise<PluginGlyphView[]> => {
    const deadline = Date.now() + callMs;
    const perPlugin = await Promise.all(
      registry.list().map(async ({ name }): Promise<PluginGlyphView[]> => {
        const plugin = registry.runningPlugin(name);
        if (!plugin?.registerGlyphs) return [];
        try {
          const { glyphs } = await plugin.registerGlyphs({ deadline });
          return glyphs.map((def) => glyphView(name, def));
        } catch (error) {
          // UNIMPLEMENTED is a plugin without glyphs; anything else is a fault worth seeing.
          if (!(error instanceof PluginCallError && error.code === status.UNIMPLEMENTED)) {
            app.log.warn({ plugin: name, err: error instanceof Error ? error.message : String(error) }, "plugin did not list its glyphs; left out of /api/plugins/glyphs");
          }
          return [];
        }
      }),
    );
    return perPlugin.flat();
  });

  app.route({
    method: ["POST", "PUT", "PATCH", "DELETE"],
    url: "/api/plugins/glyphs",
    handler: async (_request, reply) => sendCode(reply.header("allow", "GET, HEAD"), "METHOD_NOT_ALLOWED", "Method not allowed", "GET /api/plugins/glyphs lists the glyphs"),
  });
}
