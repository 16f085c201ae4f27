/**
 * Plugin-log tests' shared pieces: the flood fixture, the SSE parser and a reader of a plugin's
 * log backlog through `GET /api/plugins/<name>/logs`.
 */
import { expect } from "@jest/globals";
import { fileURLToPath } from "node:url";
import { adminHeaders } from "../harness.js";

/** The fixture that prints as much as it is asked to. */
export const FLOOD_PLUGIN = fileURLToPath(new URL("../fixtures/flood-plugin.mjs", import.meta.url));
/** The longest plugin line the host keeps (longer ones are cut). */
export const LINE_CAP = 16 * 1024;

/** One entry of a plugin's log. */
export interface Entry {
  time: number;
  stream: string;
  level: string;
  line: string;
}

/** TOML table of a plugin spawned from the flood fixture. */
export function floodTable(name: string): string {
  return `[plugins.${name}]\nbinary = ${JSON.stringify(FLOOD_PLUGIN)}\nargs = ${JSON.stringify(["--name", name])}\n`;
}

/** Parses complete SSE blocks out of `buffer`; returns the events and what is left. */
export function parseEvents(buffer: string): { events: { event: string; data: unknown }[]; rest: string } {
  const events: { event: string; data: unknown }[] = [];
  let rest = buffer;
  for (let end = rest.indexOf("\n\n"); end !== -1; end = rest.indexOf("\n\n")) {
    const block = rest.slice(0, end);
    rest = rest.slice(end + 2);
    let event = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
    }
    if (data.length) events.push({ event, data: JSON.parse(data.join("\n")) });
  }
  return { events, rest };
}

/** The backlog of a plugin's log (no follow): status, entries, and whether `end` came. */
export async function backlog(t: { url: string; dir: string }, name: string, query = "", headers: Record<string, string> = adminHeaders(t)) {
  const response = await fetch(`${t.url}/api/plugins/${name}/logs${query}`, { headers });
  const text = await response.text();
  if (!response.ok) return { status: response.status, entries: [] as Entry[], ended: false, body: JSON.parse(text) as { error: string; hint?: string } };
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  const { events } = parseEvents(text);
  return {
    status: response.status,
    entries: events.filter((e) => e.event === "line").map((e) => e.data as Entry),
    ended: events.at(-1)?.event === "end",
    body: undefined,
  };
}

/** The text of each entry. */
export const lines = (entries: Entry[]) => entries.map((e) => e.line);
