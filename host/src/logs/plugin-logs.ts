/**
 * PluginLogs: what the host keeps of each plugin's output. Per plugin name, one PluginLog
 * (the same object across restarts) holds a ring of the last `logRingLines` lines, appends
 * every line to `<data_dir>/logs/<name>.log` (rotated by size), and hands lines to live
 * followers (`GET /api/plugins/<name>/logs?follow=1`). Nothing here ever waits: the ring
 * takes every line, the file drops lines while its writer is behind (and says so once it
 * caught up), and followers are called synchronously and must not block either.
 */
import { join } from "node:path";
import type { Logger } from "pino";
import { RingBuffer } from "./ring-buffer.js";
import { RotatingFileWriter } from "./rotating-writer.js";

/** Where a line came from: the plugin's stdout or stderr, or the host itself (markers such as restarts). */
export type LogStream = "stdout" | "stderr" | "qntx";

/** One line of a plugin's output, as kept in the ring and sent to followers. */
export interface LogEntry {
  /** Milliseconds since the epoch, when the host read the line. */
  readonly time: number;
  readonly stream: LogStream;
  /** The line's level: the `level` of a JSON line, else "info" (stdout) or "warn" (stderr). */
  readonly level: string;
  /** The line, without its newline, capped at 16 KiB (`…[truncated]`). */
  readonly line: string;
}

/** A live follower of one plugin's lines. */
export interface LogFollower {
  /** Called synchronously for every new line; must not block. */
  line(entry: LogEntry): void;
  /** Called once when the host stops following (it is shutting down). */
  end(): void;
}

/** What PluginLogs needs (the `log*` keys of `[host]` and the logs folder). */
export interface PluginLogsOptions {
  /** Folder of the log files, `<data_dir>/logs`. */
  readonly dir: string;
  readonly maxBytes: number;
  readonly files: number;
  readonly ringLines: number;
  /** Where problems with the log files themselves are reported. */
  readonly logger?: Logger;
}

/** `2026-11-24T12:00:00.000Z stderr warn <line>` plus a newline: one entry in the log file. */
export function formatFileLine(entry: LogEntry): string {
  return `${new Date(entry.time).toISOString()} ${entry.stream} ${entry.level} ${entry.line}\n`;
}

/** The output of one plugin, across all its runs. */
export class PluginLog {
  private readonly ring: RingBuffer<LogEntry>;
  private readonly writer: RotatingFileWriter;
  private readonly followers = new Set<LogFollower>();
  private runs = 0;

  constructor(readonly name: string, readonly file: string, options: PluginLogsOptions) {
    this.ring = new RingBuffer<LogEntry>(options.ringLines);
    this.writer = new RotatingFileWriter({
      path: file, maxBytes: options.maxBytes, files: options.files,
      dropMarker: (count) => formatFileLine({ time: Date.now(), stream: "qntx", level: "warn", line: `[qntx: dropped ${count} lines: log writer behind]` }),
      onError: (error) => options.logger?.error({ plugin: name, file, err: error.message }, "cannot write the plugin's log file; its lines are kept in memory only"),
    });
  }

  /** Lines in the ring. */
  get size(): number {
    return this.ring.size;
  }

  /** A new process of the plugin started: a marker line, so restarts show in the log. */
  started(pid: number): void {
    this.append("qntx", "info", `--- ${this.runs++ === 0 ? "started" : "restarted"} (pid ${pid}) ---`);
  }

  /**
   * Process `pid` of the plugin ended and its output is closed. The marker names the pid: its
   * last lines can still be arriving when a restart has already spawned the next process.
   */
  exited(pid: number, how: string): void {
    this.append("qntx", "info", `--- pid ${pid} exited (${how}) ---`);
  }

  /** One line the plugin printed. */
  line(stream: "stdout" | "stderr", level: string, line: string): void {
    this.append(stream, level, line);
  }

  /** The last `n` lines (all kept when `n` is larger), oldest first. */
  backlog(n: number): LogEntry[] {
    return this.ring.last(n);
  }

  /** Adds a live follower; returns the function that removes it. */
  follow(follower: LogFollower): () => void {
    this.followers.add(follower);
    return () => {
      this.followers.delete(follower);
    };
  }

  /** Ends every follower and closes the file. */
  async close(): Promise<void> {
    for (const follower of [...this.followers]) {
      this.followers.delete(follower);
      try {
        follower.end();
      } catch {
        // A follower that fails to end is gone anyway.
      }
    }
    await this.writer.close();
  }

  private append(stream: LogStream, level: string, line: string): void {
    const entry: LogEntry = { time: Date.now(), stream, level, line };
    this.ring.push(entry);
    this.writer.write(formatFileLine(entry));
    for (const follower of this.followers) {
      try {
        follower.line(entry);
      } catch {
        // One broken follower must not stop the others, nor the plugin's output.
        this.followers.delete(follower);
      }
    }
  }
}

/** Every plugin's PluginLog, created on first use and kept for the host's lifetime. */
export class PluginLogs {
  private readonly logs = new Map<string, PluginLog>();
  private closed = false;

  constructor(private readonly options: PluginLogsOptions) {}

  /** The log of plugin `name` (the same object every time, so it survives restarts). */
  forPlugin(name: string): PluginLog {
    let log = this.logs.get(name);
    if (!log) {
      log = new PluginLog(name, join(this.options.dir, `${name}.log`), this.options);
      if (this.closed) void log.close();
      this.logs.set(name, log);
    }
    return log;
  }

  /** The log of plugin `name` if anything was logged or asked for yet. */
  get(name: string): PluginLog | undefined {
    return this.logs.get(name);
  }

  /** Ends followers and closes every file. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.logs.values()].map((log) => log.close()));
  }
}
