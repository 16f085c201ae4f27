/**
 * The live streams of a real host, read with the CLI's own SSE client (ControlClient.events,
 * eventsource-parser): `/api/host/events` carries the registry's and Pulse's typed events as
 * they happen, `/api/attestations/watch` new matching attestations; the streams end when the
 * client goes away, and a stopping host ends them.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createParser } from "eventsource-parser";
import { ControlClient } from "../src/cli/client.js";
import { waitFor } from "./helpers/wait.js";
import { adminHeaders, http, jobPluginTable, startTestHost, type TestHost } from "./harness.js";

let t: TestHost;
let client: ControlClient;

/** Reads `path` until `stop` says so for an event; resolves with every event seen. */
function collect(path: string, stop: (event: string, data: any) => boolean, onOpen?: () => void): Promise<Array<[string, any]>> {
  const seen: Array<[string, any]> = [];
  return client.events(path, (event, data) => {
    seen.push([event, data]);
    if (event === "hello") onOpen?.();
    return stop(event, data);
  }).then(() => seen);
}

beforeAll(async () => {
  t = await startTestHost(jobPluginTable("jobs"));
  client = ControlClient.locate({ dataDir: `${t.dir}/data` });
});

afterAll(async () => {
  await t?.close();
});

describe("GET /api/host/events", () => {
  it("starts with the plugins, then carries a restart's state changes with the plugin's info", async () => {
    const events = await collect(
      "/api/host/events",
      (event, data) => event === "plugin:state" && data.state === "running",
      () => void http(`${t.url}/api/plugins/jobs/restart`, { method: "POST", headers: adminHeaders(t) }),
    );
    expect(events[0]![0]).toBe("hello");
    expect(events[0]![1].plugins.map((p: { name: string }) => p.name)).toEqual(["jobs"]);
    const moves = events.filter(([e]) => e === "plugin:state").map(([, d]) => `${d.previous}→${d.state}`);
    expect(moves).toEqual(["running→restarting", "restarting→loading", "loading→running"]);
    const last = events[events.length - 1]![1];
    expect(last.plugin).toMatchObject({ name: "jobs", state: "running", restarts: 1, pid: expect.any(Number) });
  });

  it("carries a job's every change, progress included, and its run events", async () => {
    let id = "";
    const events = await collect(
      "/api/host/events",
      (event, data) => event === "job:completed" && data.job.id === id,
      () => void http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify({ handler: "jobs/slow", payload: { ms: 300, steps: 3 } }) })
        .then((res) => (id = res.json().job.id)),
    );
    const mine = events.filter(([e, d]) => (e === "job" ? d.id : d.job?.id) === id);
    expect(mine.map(([e]) => e)).toEqual(expect.arrayContaining(["job", "job:claimed", "job:completed"]));
    const progress = mine.filter(([e]) => e === "job").map(([, d]) => d.progress.current);
    expect(Math.max(...progress)).toBe(3);
    expect(mine.filter(([e]) => e === "job").pop()![1].status).toBe("completed");
  });

  it("ends its listeners when the client goes away", async () => {
    const before = t.host.registry.listenerCount("plugin:state");
    await collect("/api/host/events", (event) => event === "hello");
    // The server sees the close a moment later: wait for the count to drop back.
    await waitFor(() => t.host.registry.listenerCount("plugin:state") === before, { what: "the stream's listeners to go" });
  });
});

describe("GET /api/attestations/watch", () => {
  it("sends new attestations that match the filter (OR within a field, AND across), and no others", async () => {
    const write = (subject: string, predicate: string) =>
      http(`${t.url}/api/attestations`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify({ subjects: [subject], predicates: [predicate] }) });
    // Once the headers arrive the watch is armed (the host arms it in the same turn).
    const response = await fetch(`${t.url}/api/attestations/watch?subject=a,b&predicate=likes`);
    const seen: string[] = [];
    const parser = createParser({ onEvent: (m) => seen.push(`${JSON.parse(m.data).subjects[0]} ${JSON.parse(m.data).predicates[0]}`) });
    await write("a", "hates");
    await write("c", "likes");
    await write("b", "likes");
    const decoder = new TextDecoder();
    for await (const chunk of response.body!) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (seen.length) break;
    }
    expect(seen).toEqual(["b likes"]);
  });

  it("answers a bad filter with 400 and a hint, not a stream", async () => {
    const res = await http(`${t.url}/api/attestations/watch?since=yesterday-ish`);
    expect(res.status).toBe(400);
    expect(res.json()).toMatchObject({ code: "INVALID_ARGUMENT", error: expect.stringContaining("since") });
  });
});
