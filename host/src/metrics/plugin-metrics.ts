/**
 * The per-plugin series: up and state (read from the registry at scrape time), restarts (from
 * `plugin:state` events), HTTP requests through the gateway, WebSocket sessions, gRPC calls
 * to the plugin (from the one DomainPluginService client), and the spawned process's resident
 * memory and CPU (from /proc at scrape time; absent where there is no /proc).
 *
 * Label values stay bounded: plugin names come from the config, methods and states from fixed
 * sets, HTTP statuses are numbers 200–599; never a path or an id.
 */
import type { PluginCallObserver } from "@qntx/protocol";
import { processUsage } from "../plugin/process-table.js";
import type { Registry } from "../plugin/registry.js";
import { PLUGIN_STATES } from "../plugin/state.js";
import { Counter, Gauge, Histogram, type Prom } from "./prom.js";

/** What the gateway reports: each proxied request, each WebSocket session. */
export interface GatewayObserver {
  /** A request to a configured plugin was answered with `status` after `seconds`. */
  httpRequest(plugin: string, method: string, status: number, seconds: number): void;
  /** A WebSocket session to `plugin` opened; call the result when it ends. */
  webSocketOpened(plugin: string): () => void;
}

/** Request latencies from a millisecond to ten seconds (a proxied call's usual span). */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The per-plugin series of one host; see the file comment. */
export class PluginMetrics {
  private readonly httpDuration: Prom.Histogram<"plugin" | "method" | "status">;
  private readonly grpcCalls: Prom.Counter<"plugin" | "method" | "code">;
  private readonly grpcDuration: Prom.Histogram<"plugin" | "method">;
  private readonly wsOpen: Prom.Gauge<"plugin">;
  private readonly wsTotal: Prom.Counter<"plugin">;
  private readonly restarts: Prom.Counter<"plugin">;
  /**
   * Children of the HTTP histogram by label values: prom-client hashes a label object on every
   * observation; a child found by one string key is cheaper on the proxy's hot path.
   */
  private readonly httpChildren = new Map<string, Prom.Histogram.Internal<"plugin" | "method" | "status">>();

  constructor(registers: Prom.Registry[], private readonly plugins: Registry) {
    const list = (): ReturnType<Registry["list"]> => this.plugins.list();
    new Gauge({
      name: "qntx_plugin_up", help: "1 when the plugin is running (serving HTTP, WebSocket and jobs), else 0.", labelNames: ["plugin"], registers,
      collect() {
        this.reset();
        for (const p of list()) this.set({ plugin: p.name }, p.state === "running" ? 1 : 0);
      },
    });
    new Gauge({
      name: "qntx_plugin_state", help: "1 for the plugin's current lifecycle state, 0 for the others.", labelNames: ["plugin", "state"], registers,
      collect() {
        this.reset();
        for (const p of list()) for (const state of PLUGIN_STATES) this.set({ plugin: p.name, state }, p.state === state ? 1 : 0);
      },
    });
    new Gauge({
      name: "qntx_plugin_resident_memory_bytes", help: "Resident memory of the plugin process the host spawned.", labelNames: ["plugin"], registers,
      collect() {
        this.reset();
        for (const p of list()) {
          const usage = p.kind === "spawned" && p.pid ? processUsage(p.pid) : undefined;
          if (usage) this.set({ plugin: p.name }, usage.residentBytes);
        }
      },
    });
    new Counter({
      name: "qntx_plugin_cpu_seconds_total", help: "User and system CPU time of the plugin process the host spawned (restarts from 0 with a new process).", labelNames: ["plugin"], registers,
      collect() {
        this.reset();
        for (const p of list()) {
          const usage = p.kind === "spawned" && p.pid ? processUsage(p.pid) : undefined;
          if (usage) this.inc({ plugin: p.name }, usage.cpuSeconds);
        }
      },
    });
    this.restarts = new Counter({ name: "qntx_plugin_restarts_total", help: "Times the plugin went to restarting: a crash, or a person's restart.", labelNames: ["plugin"], registers });
    this.httpDuration = new Histogram({
      name: "qntx_plugin_http_request_duration_seconds", help: "Requests proxied to the plugin's HTTP routes, by method and answered status; _count is the number of requests.",
      labelNames: ["plugin", "method", "status"], buckets: REQUEST_BUCKETS, registers,
    });
    this.grpcCalls = new Counter({ name: "qntx_plugin_grpc_calls_total", help: "Unary DomainPluginService calls the host made to the plugin, by method and gRPC status code name.", labelNames: ["plugin", "method", "code"], registers });
    this.grpcDuration = new Histogram({ name: "qntx_plugin_grpc_call_duration_seconds", help: "How long the host's unary calls to the plugin took, by method.", labelNames: ["plugin", "method"], buckets: REQUEST_BUCKETS, registers });
    this.wsOpen = new Gauge({ name: "qntx_plugin_websocket_sessions", help: "WebSocket sessions open to the plugin now.", labelNames: ["plugin"], registers });
    this.wsTotal = new Counter({ name: "qntx_plugin_websocket_sessions_total", help: "WebSocket sessions opened to the plugin.", labelNames: ["plugin"], registers });
  }

  /** Counts a move to `restarting` (listens to the registry's `plugin:state`). */
  stateChanged(plugin: string, state: string): void {
    if (state === "restarting") this.restarts.inc({ plugin });
  }

  /** What the gateway reports to. */
  readonly gateway: GatewayObserver = {
    httpRequest: (plugin, method, status, seconds) => {
      const key = `${plugin} ${method} ${status}`;
      let child = this.httpChildren.get(key);
      if (!child) this.httpChildren.set(key, (child = this.httpDuration.labels(plugin, method, String(status))));
      child.observe(seconds);
    },
    webSocketOpened: (plugin) => {
      this.wsOpen.inc({ plugin });
      this.wsTotal.inc({ plugin });
      let open = true;
      return () => {
        if (open) this.wsOpen.dec({ plugin });
        open = false;
      };
    },
  };

  /** The observer of the gRPC client of plugin `plugin`. */
  callObserver(plugin: string): PluginCallObserver {
    return (method, code, seconds) => {
      this.grpcCalls.inc({ plugin, method, code: GRPC_CODE_NAMES[code] ?? String(code) });
      this.grpcDuration.observe({ plugin, method }, seconds);
    };
  }
}

/** gRPC status codes by number, as grpcurl and other exporters name them. */
const GRPC_CODE_NAMES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];
