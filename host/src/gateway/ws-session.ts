/**
 * One browser WebSocket bridged to one plugin session (`HandleWebSocket`), as QNTX does it
 * (docs/protocol.md §4), with the gaps closed: browser frames are forwarded whatever their type,
 * only DATA goes back; the host answers the plugin's PINGs and sends its own, and a plugin
 * that misses a PONG is disconnected; frames are size-checked both ways; every way either
 * side can end closes the other with a code that says why:
 *
 * | event                                   | browser gets        | plugin gets            |
 * |-----------------------------------------|---------------------|------------------------|
 * | browser closes                          | —                   | CLOSE, end of stream   |
 * | browser socket destroyed                | —                   | CLOSE, then cancel     |
 * | browser frame not JSON / wrong shape    | 1003 + reason       | CLOSE, end of stream   |
 * | browser frame > max (ws `maxPayload`)   | 1009                | CLOSE, end of stream   |
 * | plugin CLOSE                            | 1000 (or its code)  | end of stream          |
 * | plugin ERROR                            | 1011 + its message  | cancel                 |
 * | plugin DATA > max                       | 1009 + reason       | CLOSE, end of stream   |
 * | plugin ends the stream OK / with error  | 1000 / 1011 + why   | —                      |
 * | no PONG within the timeout              | 1011 + reason       | cancel                 |
 * | plugin leaves `running`, host stops     | 1011 or 1001        | cancel                 |
 */
import { WebSocketMessage_Type } from "@qntx/protocol";
import type { Logger } from "pino";
import { WebSocket, type RawData } from "ws";
import type { DomainPlugin, PluginCallError, WebSocketChannel, WebSocketFrame } from "../plugin/domain-plugin.js";
import { frame, nowNs } from "@qntx/protocol";
import { browserJson, closeReason, isSendableCloseCode, parseBrowserFrame } from "./ws-frames.js";

/** Timing and size limits of a session. */
export interface SessionSettings {
  /** How often the host PINGs the plugin (and the browser, at the WebSocket level). */
  readonly pingIntervalMs: number;
  /** A plugin that has not answered a PING within this is disconnected. */
  readonly pongTimeoutMs: number;
  /** Largest frame either way. */
  readonly maxFrameBytes: number;
}

/** How the plugin side is wound down. */
type PluginStop = "close" | "end" | "cancel";

/** Close codes used here (RFC 6455 §7.4.1). */
const NORMAL = 1000;
const UNSUPPORTED_DATA = 1003;
const TOO_BIG = 1009;
const INTERNAL_ERROR = 1011;

/** A bridge between one browser socket and one plugin session. */
export class WebSocketSession {
  private readonly controller = new AbortController();
  private channel: WebSocketChannel | undefined;
  /** The plugin's side is over: it ended, or we cancelled it. */
  private pluginDone = false;
  /** We asked the plugin side to stop (CLOSE / end / cancel). */
  private pluginStopping = false;
  /** We started closing the browser socket (or it closed). */
  private browserClosing = false;
  private browserClosed = false;
  private browserAlive = true;
  private browserPaused = false;
  private done = false;
  private pluginPaused = false;
  private pingTimer: NodeJS.Timeout | undefined;
  private pongTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  /** Bytes queued to the browser above which the plugin's stream is paused. */
  private readonly highWater: number;

  constructor(
    private readonly ws: WebSocket,
    readonly pluginName: string,
    private readonly connectHeaders: Readonly<Record<string, string>>,
    private readonly settings: SessionSettings,
    private readonly logger: Logger,
    private readonly onDone: (session: WebSocketSession) => void,
  ) {
    this.highWater = Math.max(1024 * 1024, 4 * settings.maxFrameBytes);
  }

  /** Wires the browser socket and opens the plugin session (CONNECT). */
  start(plugin: DomainPlugin): void {
    this.ws.on("message", (data: RawData) => this.fromBrowser(data));
    this.ws.on("close", (code: number) => this.onBrowserClosed(code));
    // `ws` closes the socket itself after an error (1009 for a frame over maxPayload, 1002 for
    // a protocol error); the close event follows.
    this.ws.on("error", (error: Error) => this.logger.debug({ plugin: this.pluginName, err: error.message }, "browser WebSocket error"));
    this.ws.on("pong", () => {
      this.browserAlive = true;
    });
    try {
      this.channel = plugin.handleWebSocket!({
        headers: this.connectHeaders,
        signal: this.controller.signal,
        onFrame: (received) => this.fromPlugin(received),
        onEnd: (error) => this.onPluginEnd(error),
        onDrain: () => this.onPluginDrain(),
      });
    } catch (error) {
      this.pluginDone = true;
      this.closeBrowser(INTERNAL_ERROR, `plugin ${this.pluginName} refused the session: ${(error as Error).message}`);
      return;
    }
    this.pingTimer = setInterval(() => this.tick(), this.settings.pingIntervalMs);
    this.logger.debug({ plugin: this.pluginName, path: this.connectHeaders.path }, "WebSocket session opened");
  }

  /** Ends the session from the host's side (plugin stopped, host shutting down). */
  shutdown(code: number, reason: string): void {
    this.closeBrowser(code, reason);
    this.stopPlugin("cancel");
  }

  private fromBrowser(raw: RawData): void {
    if (this.browserClosing || this.pluginStopping || this.pluginDone) return;
    const buffer = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
    const parsed = parseBrowserFrame(buffer);
    if (!parsed.ok) {
      this.logger.debug({ plugin: this.pluginName, reason: parsed.reason }, "garbage WebSocket frame from the browser");
      this.closeBrowser(UNSUPPORTED_DATA, parsed.reason);
      this.stopPlugin("close");
      return;
    }
    if (!this.channel!.send(parsed.frame) && !this.browserPaused) {
      // The plugin is not keeping up: stop reading the browser until the stream drains.
      this.browserPaused = true;
      this.ws.pause();
    }
  }

  private fromPlugin(received: WebSocketFrame): void {
    if (this.browserClosing) return;
    switch (received.type) {
      case WebSocketMessage_Type.DATA:
        return this.dataToBrowser(received);
      case WebSocketMessage_Type.PING:
        this.channel!.send(frame(WebSocketMessage_Type.PONG, undefined, {}, received.timestamp));
        return;
      case WebSocketMessage_Type.PONG:
        clearTimeout(this.pongTimer);
        this.pongTimer = undefined;
        return;
      case WebSocketMessage_Type.CLOSE: {
        const code = Number(received.headers.code ?? NORMAL);
        this.closeBrowser(isSendableCloseCode(code) ? code : NORMAL, received.data.toString("utf8"));
        this.stopPlugin("end");
        return;
      }
      case WebSocketMessage_Type.ERROR: {
        const message = received.data.toString("utf8") || `plugin ${this.pluginName} reported an error`;
        this.logger.warn({ plugin: this.pluginName, error: message }, "plugin ended a WebSocket session with ERROR");
        this.closeBrowser(INTERNAL_ERROR, message);
        this.stopPlugin("cancel");
        return;
      }
      default:
        // CONNECT (or an unknown type) from a plugin means nothing to a browser.
        return;
    }
  }

  private dataToBrowser(received: WebSocketFrame): void {
    if (received.data.length > this.settings.maxFrameBytes) {
      this.logger.warn({ plugin: this.pluginName, bytes: received.data.length, max: this.settings.maxFrameBytes }, "plugin WebSocket frame over the limit");
      this.closeBrowser(TOO_BIG, `plugin frame of ${received.data.length} bytes exceeds the ${this.settings.maxFrameBytes}-byte limit`);
      this.stopPlugin("close");
      return;
    }
    const json = browserJson(received);
    // Only a send that can leave the queue above highWater may pause the plugin, and only such
    // sends need the write callback that resumes it: one queued behind others, or one of over
    // highWater/4 characters (at most 3 UTF-8 bytes each). The usual send goes straight to the
    // socket and carries no closure.
    if (this.pluginPaused || this.ws.bufferedAmount > 0 || json.length > this.highWater / 4) this.ws.send(json, this.onBrowserWritten);
    else this.ws.send(json);
    if (!this.pluginPaused && this.ws.bufferedAmount > this.highWater) {
      // The browser is not reading: stop reading the plugin (gRPC flow control pushes back).
      this.pluginPaused = true;
      this.channel!.pause?.();
      this.logger.debug({ plugin: this.pluginName, queuedBytes: this.ws.bufferedAmount }, "browser WebSocket is not reading: plugin stream paused");
    }
  }

  /** Write callback of a queued send: resumes a paused plugin once the browser has caught up. */
  private readonly onBrowserWritten = (): void => {
    if (this.pluginPaused && this.ws.bufferedAmount < this.highWater / 4) {
      this.pluginPaused = false;
      this.channel?.resume?.();
      this.logger.debug({ plugin: this.pluginName }, "browser WebSocket caught up: plugin stream resumed");
    }
  };

  private onPluginDrain(): void {
    if (this.browserPaused) {
      this.browserPaused = false;
      this.ws.resume();
    }
  }

  private onPluginEnd(error?: PluginCallError): void {
    this.pluginDone = true;
    this.clearPluginTimers();
    clearTimeout(this.graceTimer);
    if (error) {
      this.logger.debug({ plugin: this.pluginName, err: error.message, code: error.code }, "plugin WebSocket stream failed");
      this.closeBrowser(INTERNAL_ERROR, `plugin ${this.pluginName} failed: ${error.message}`);
    } else {
      this.closeBrowser(NORMAL, "");
    }
    this.maybeDone();
  }

  private onBrowserClosed(code: number): void {
    this.browserClosing = true;
    this.browserClosed = true;
    // 1006: the socket went away without a close frame; nobody will read the plugin's answer.
    if (code === 1006 && !this.pluginDone) {
      this.channel?.send(frame(WebSocketMessage_Type.CLOSE));
      this.stopPlugin("cancel");
    } else {
      this.stopPlugin("close");
    }
    this.maybeDone();
  }

  /** Keepalive: PING the plugin (arming the PONG deadline) and the browser (WebSocket ping). */
  private tick(): void {
    if (!this.pluginDone && !this.pluginStopping) {
      this.channel!.send(frame(WebSocketMessage_Type.PING, undefined, {}, nowNs()));
      this.pongTimer ??= setTimeout(() => this.pongMissed(), this.settings.pongTimeoutMs);
    }
    if (this.browserClosed) return;
    if (!this.browserAlive) {
      this.logger.debug({ plugin: this.pluginName }, "browser stopped answering WebSocket pings");
      this.ws.terminate();
      return;
    }
    this.browserAlive = false;
    this.ws.ping();
  }

  private pongMissed(): void {
    this.pongTimer = undefined;
    const reason = `plugin ${this.pluginName} did not answer PING within ${this.settings.pongTimeoutMs} ms`;
    this.logger.warn({ plugin: this.pluginName, pongTimeoutMs: this.settings.pongTimeoutMs }, reason);
    this.closeBrowser(INTERNAL_ERROR, reason);
    this.stopPlugin("cancel");
  }

  private closeBrowser(code: number, reason: string): void {
    if (this.browserClosing) return;
    this.browserClosing = true;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, closeReason(reason));
    else this.ws.terminate();
  }

  /** Winds the plugin side down: CLOSE + half-close, half-close only, or cancel now. */
  private stopPlugin(how: PluginStop): void {
    if (this.pluginDone || this.pluginStopping) {
      if (how === "cancel" && !this.pluginDone) this.cancelPlugin();
      return;
    }
    this.pluginStopping = true;
    this.clearPluginTimers();
    if (how === "cancel" || !this.channel) return this.cancelPlugin();
    if (how === "close") this.channel.send(frame(WebSocketMessage_Type.CLOSE));
    this.channel.end();
    // A plugin that never ends its side after our CLOSE is cancelled.
    const graceMs = Math.min(Math.max(this.settings.pongTimeoutMs, 100), 5_000);
    this.graceTimer = setTimeout(() => this.cancelPlugin(), graceMs);
    this.graceTimer.unref();
  }

  private cancelPlugin(): void {
    this.pluginDone = true;
    clearTimeout(this.graceTimer);
    this.controller.abort();
    this.maybeDone();
  }

  private clearPluginTimers(): void {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    this.pongTimer = undefined;
  }

  private maybeDone(): void {
    if (this.done || !this.browserClosed || !this.pluginDone) return;
    this.done = true;
    this.clearPluginTimers();
    clearTimeout(this.graceTimer);
    this.onDone(this);
    this.logger.debug({ plugin: this.pluginName }, "WebSocket session closed");
  }
}
