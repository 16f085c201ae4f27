#!/usr/bin/env node
/**
 * `qntx-ts-runner` (bin of @qntx/sdk): runs a QNTX-format TypeScript plugin, or an SDK
 * plugin written in TypeScript, under plain Node 20. See run.ts for the flags and exit codes.
 */
import { runQntxRunner } from "./run.js";

await runQntxRunner();
