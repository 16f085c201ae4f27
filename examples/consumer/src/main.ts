/**
 * Process entry of the `consumer` plugin: `node dist/main.js --port N`.
 * It prints `QNTX_PLUGIN_PORT=<port>` once listening and serves until the host stops it.
 */
import { serve } from "@qntx/sdk";
import { plugin } from "./plugin.js";

await serve(plugin);
