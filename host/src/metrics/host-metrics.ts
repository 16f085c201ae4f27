/**
 * The host's Prometheus metrics (`GET /metrics`, text format): one registry per host, so two
 * hosts in one process (tests, embedders) never mix their series. The series are listed in
 * docs/metrics.md; a test checks the list and the registry agree.
 *
 * How values arrive: events, not counters sprinkled through the code. The registry's
 * `plugin:state` and Pulse's typed events are listened to; the gateway and the one
 * DomainPluginService client report through the observers handed to them; states, queue
 * depths and process usage are read when Prometheus scrapes.
 */
import type { FastifyInstance } from "fastify";
import type { AttestationStore } from "@qntx/ats";
import type { PluginCallObserver } from "@qntx/protocol";
import type { Pulse } from "@qntx/pulse";
import type { PluginStateChange } from "../plugin/plugin-info.js";
import type { Registry as PluginRegistry } from "../plugin/registry.js";
import { PluginMetrics, type GatewayObserver } from "./plugin-metrics.js";
import { Registry, type Prom } from "./prom.js";
import { PulseMetrics } from "./pulse-metrics.js";

export type { GatewayObserver } from "./plugin-metrics.js";

/** What the metrics read and listen to. */
export interface MetricsSources {
  readonly plugins: PluginRegistry;
  readonly pulse: Pulse;
}

/** See the file comment. */
export class HostMetrics {
  /** The series `/metrics` prints. */
  readonly registry: Prom.Registry = new Registry();
  private readonly pluginSeries: PluginMetrics;
  private readonly pulseSeries: PulseMetrics;

  constructor(private readonly sources: MetricsSources) {
    this.pluginSeries = new PluginMetrics([this.registry], sources.plugins);
    this.pulseSeries = new PulseMetrics([this.registry], sources.pulse);
  }

  /** What the gateway reports each proxied request and WebSocket session to. */
  get gateway(): GatewayObserver {
    return this.pluginSeries.gateway;
  }

  /** The observer of plugin `name`'s gRPC client (calls by method and code). */
  callObserver(name: string): PluginCallObserver {
    return this.pluginSeries.callObserver(name);
  }

  /** `store` with its queries counted (hand this one to the services and the gateway). */
  countQueries<S extends AttestationStore>(store: S): S {
    return this.pulseSeries.countQueries(store);
  }

  /** Starts listening to plugin and Pulse events and `store`'s writes; returns the detach. */
  attach(store: AttestationStore): () => void {
    const onState = ({ name, state }: PluginStateChange): void => this.pluginSeries.stateChanged(name, state);
    this.sources.plugins.on("plugin:state", onState);
    const detachPulse = this.pulseSeries.attach(this.sources.pulse, store);
    return () => {
      this.sources.plugins.off("plugin:state", onState);
      detachPulse();
    };
  }

  /** Serves `GET /metrics` (read access as the host's other reads: open on loopback, the admin token elsewhere). */
  register(app: FastifyInstance): void {
    app.get("/metrics", async (_request, reply) => {
      const text = await this.registry.metrics();
      return reply.header("content-type", this.registry.contentType).send(text);
    });
  }
}
