/**
 * prom-client's metric classes, loaded one file each. Why not `import "prom-client"`: its index
 * loads its default process metrics, and one of them requires `@opentelemetry/api`; the host
 * promises that no OpenTelemetry code loads unless `[host] otlp_endpoint` is set
 * (docs/tracing.md). The host makes its own process series, so the defaults are not needed.
 * The types are prom-client's own (a type import loads nothing).
 */
import { createRequire } from "node:module";
import type * as Prom from "prom-client";

const require = createRequire(import.meta.url);

/** A registry: the set of series `/metrics` prints. */
export const Registry = require("prom-client/lib/registry") as typeof Prom.Registry;
/** A value that only goes up (`…_total`). */
export const Counter = require("prom-client/lib/counter") as typeof Prom.Counter;
/** A value that goes up and down. */
export const Gauge = require("prom-client/lib/gauge") as typeof Prom.Gauge;
/** Observations counted into buckets (`…_seconds`). */
export const Histogram = require("prom-client/lib/histogram") as typeof Prom.Histogram;

export type { Prom };
