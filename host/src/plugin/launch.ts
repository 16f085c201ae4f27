/**
 * Launching one run of a plugin, whatever its kind: instantiate a built-in, dial an address,
 * or spawn a binary (own process group, `--port` from a probed free port, port line, a boot
 * slot, auto-mTLS or a unix socket, the late-port-line fallback) — and wait until it answers
 * Metadata with its name. What is checked after that (config, version, Initialize) is the
 * instance's.
 */
import type { Logger } from "pino";
import { QntxError, type PluginCallObserver } from "@qntx/protocol";
import type { HostConfig, PluginEntry } from "../config/types.js";
import { createBuiltin } from "../builtin/index.js";
import type { DomainPlugin } from "./domain-plugin.js";
import { ExternalDomainProxy, type ProxyChannelOptions } from "./external-proxy.js";
import { inProcess } from "./in-process.js";
import { BootSlots } from "./boot-slots.js";
import type { PortAllocator } from "./ports.js";
import { PluginProcess, describeExit, type PluginOutputSink } from "./process.js";
import { resolvePluginBinary } from "./resolve-binary.js";
import { waitForMetadata } from "./wait-ready.js";
import { checkPinnedFile } from "./binary-pin.js";
import { dialedChannel } from "./plugin-channel.js";
import type { SpawnTransports } from "./spawn-transport.js";
import { delay, type ProcessSlot } from "./process-slot.js";

/** A launched plugin, answering Metadata. */
export interface Launched {
  readonly plugin: DomainPlugin;
  readonly pid?: number;
  readonly address?: string;
  /** Rejects with the reason when the spawned process exits (never settles for the others). */
  readonly aborted: Promise<never>;
}

/**
 * Launches runs of plugins. `onSpawned` is called with each new process as soon as it exists,
 * so its owner sees an exit at any point after.
 */
export type Launch = (entry: PluginEntry, slot: ProcessSlot, log: Logger, onSpawned: (proc: PluginProcess) => void) => Promise<Launched>;

/** What {@link Launcher} needs. */
export interface LauncherDeps {
  readonly config: HostConfig;
  readonly ports: PortAllocator;
  readonly transports: SpawnTransports;
  /** Where spawned plugins' output goes (ring, log file). */
  readonly logs?: { forPlugin(name: string): PluginOutputSink } | undefined;
  /** The observer of each plugin's gRPC client (the host's metrics). */
  readonly callObserver?: ((plugin: string) => PluginCallObserver) | undefined;
}

/** Launches spawned, dialed and built-in plugins; see the file comment. */
export class Launcher {
  /** Spawned plugins booting at once (port allocation → port line). */
  private readonly boots = new BootSlots();

  constructor(private readonly deps: LauncherDeps) {}

  /** Spawns, dials or instantiates the plugin and waits until it answers with its name. */
  readonly launch: Launch = async (entry, slot, log, onSpawned) => {
    const never = new Promise<never>(() => undefined);
    const source = entry.source;
    const { readyTimeoutMs } = this.deps.config.host;
    const observer = this.deps.callObserver?.(entry.name);
    const proxyTo = (target: string, channel: ProxyChannelOptions = {}): ExternalDomainProxy => new ExternalDomainProxy(target, observer ? { ...channel, observer } : channel);
    if (source.kind === "builtin") {
      const plugin = createBuiltin(source.builtin);
      if (!plugin) {
        throw new QntxError("PLUGIN_NOT_FOUND", `no built-in plugin named "${source.builtin}"`, { hint: "see host/src/builtin for the built-in catalogue" });
      }
      return { plugin: inProcess(plugin), aborted: never };
    }
    if (source.kind === "address") {
      const channel = dialedChannel(entry.name, source);
      const proxy = await ready(proxyTo(channel.target, channel), (p) =>
        waitForMetadata(p, entry.name, source.address, readyTimeoutMs, undefined, channel.classify));
      return { plugin: proxy, address: source.address, aborted: never };
    }
    const { config } = this.deps;
    const command = await resolvePluginBinary(source, { baseDir: config.baseDir, dataDir: config.host.dataDir });
    if (source.sha256 !== undefined) await checkPinnedFile(entry.name, command.path, source.sha256);
    const transport = await this.deps.transports.prepare(entry.name, source);
    slot.socket = transport.socket;
    // A boot slot from port allocation to the port line: see boot-slots.ts.
    const { process: proc, port: actual, announced, latePort } = await this.boots.run(async () => {
      const port = await this.deps.ports.allocate();
      slot.port = port;
      return PluginProcess.spawn({
        // QNTX_HOST_PID lets the SDK's serve() exit when this host dies (parent-death watch).
        name: entry.name, command, port, args: source.args, env: { ...source.env, ...transport.env, QNTX_HOST_PID: String(process.pid) }, cwd: source.cwd ?? config.baseDir,
        portLineTimeoutMs: config.host.portLineTimeoutMs, logger: log, output: this.deps.logs?.forPlugin(entry.name),
      });
    });
    slot.attach(proc);
    onSpawned(proc);
    const address = `127.0.0.1:${actual}`;
    // Once spawned, an exit while starting aborts the start with the reason; an exit later is a crash.
    const aborted = proc.exited.then((exit) => {
      const when = announced ? "exited while starting, before answering Metadata" : "exited before announcing its port";
      throw new QntxError("EXITED_BEFORE_PORT", `plugin ${entry.name} ${when} (${describeExit(exit)})${proc.tail()}`, { hint: proc.hint });
    });
    aborted.catch(() => undefined);
    /** The port of a port line that comes within the readiness timeout, else undefined. */
    const portLine = (): Promise<number | undefined> => Promise.race([latePort, delay(readyTimeoutMs).then(() => undefined), aborted]);
    if (transport.needsAnnouncement) {
      // No "assume the port": what to dial (socket, certificate) is only known from the plugin's lines.
      const port = announced ? actual : await portLine();
      if (port === undefined) {
        throw new QntxError("PORT_TIMEOUT", `plugin ${entry.name} announced neither its port nor its socket within ${config.host.portLineTimeoutMs + readyTimeoutMs} ms`, { hint: proc.hint ?? "check the plugin's log: qntx plugin logs " + entry.name });
      }
      const channel = transport.channel(port, proc.announced);
      const proxy = await ready(proxyTo(channel.target, channel), (p) =>
        waitForMetadata(p, entry.name, channel.target, readyTimeoutMs, aborted, channel.classify));
      return { plugin: proxy, pid: proc.pid, address: channel.target, aborted };
    }
    // No port line in time: we poll the port passed, but a port line that comes meanwhile ends
    // the poll at once. It means the plugin listens now, and the poll's channel, refused until
    // then, would only reconnect after grpc-js's backoff (1 s and growing: measured 1.5 s lost
    // per plugin when twenty started together).
    const lateLine = announced ? undefined : latePort.then((port): never => {
      throw new LatePortLine(port);
    });
    lateLine?.catch(() => undefined);
    try {
      const proxy = await ready(proxyTo(address), (p) =>
        waitForMetadata(p, entry.name, address, readyTimeoutMs, lateLine ? Promise.race([aborted, lateLine]) : aborted));
      return { plugin: proxy, pid: proc.pid, address, aborted };
    } catch (error) {
      if (announced) throw error;
      let late: number | undefined;
      if (error instanceof LatePortLine) {
        late = error.port;
      } else {
        // We assumed the port passed (no port line in time) and found nothing, or someone else,
        // there. A port line that shows up after all is the truth: try there once.
        late = await portLine();
        if (late === undefined || late === actual) throw error;
      }
      const lateAddress = `127.0.0.1:${late}`;
      if (late !== actual) log.warn({ assumed: actual, announced: late }, "the port line came late; using the port it announced");
      const proxy = await ready(proxyTo(lateAddress), (p) => waitForMetadata(p, entry.name, lateAddress, readyTimeoutMs, aborted));
      return { plugin: proxy, pid: proc.pid, address: lateAddress, aborted };
    }
  };
}

/** Waits until `proxy` answers (`wait`); a proxy that never does is closed before the error goes on. */
async function ready(proxy: ExternalDomainProxy, wait: (proxy: ExternalDomainProxy) => Promise<unknown>): Promise<ExternalDomainProxy> {
  try {
    await wait(proxy);
    return proxy;
  } catch (error) {
    proxy.close();
    throw error;
  }
}

/** The port line came while Metadata was polled on the assumed port (see launch). */
class LatePortLine extends Error {
  constructor(readonly port: number) {
    super(`the plugin announced port ${port}`);
  }
}
