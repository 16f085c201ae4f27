/**
 * What a person sees first: the host's start line (dashboard, API, admin token, plugins
 * running), and colour only on a terminal and never with NO_COLOR.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { colourWanted } from "../src/colour.js";
import { formatLogEntry } from "../src/cli/plugin-commands.js";
import { formatReport } from "../src/conformance/report.js";
import { fakePluginTable, startTestHost, type TestHost } from "./harness.js";

describe("the start line", () => {
  let t: TestHost;
  beforeAll(async () => {
    t = await startTestHost(`${fakePluginTable("up", "ok")}\n${fakePluginTable("down", "exits-early")}`);
  });
  afterAll(async () => {
    await t?.close();
  });

  it("gives the dashboard URL, the API URL, where the admin token is and how many plugins run", () => {
    const line = t.logs.find((l) => l.msg.includes("plugins running"))!;
    expect(line.msg).toBe(`1 of 2 plugins running · dashboard ${t.url}/ · API ${t.url}/api · admin token in ${t.dir}/data/admin.token`);
    expect(line).toMatchObject({ running: ["up"], failed: ["down"], dashboard: `${t.url}/` });
  });
});

describe("colour", () => {
  const ESC = "\x1b[";

  it("is used on a terminal, and never when NO_COLOR is set", () => {
    expect(colourWanted(true, {})).toBe(true);
    expect(colourWanted(false, {})).toBe(false);
    expect(colourWanted(undefined, {})).toBe(false);
    expect(colourWanted(true, { NO_COLOR: "1" })).toBe(false);
    // no-color.org: an empty NO_COLOR does not count.
    expect(colourWanted(true, { NO_COLOR: "" })).toBe(true);
  });

  it("decides what `qntx plugin logs` and `qntx plugin check` print", () => {
    const entry = { time: 0, stream: "stderr" as const, level: "error", line: "boom" };
    expect(formatLogEntry(entry, colourWanted(true, {}))).toContain(ESC);
    expect(formatLogEntry(entry, colourWanted(true, { NO_COLOR: "1" }))).not.toContain(ESC);
    const report = { target: "x", kind: "spawned", plugin: undefined, steps: [{ title: "starts", status: "FAIL", detail: "no", hint: undefined }], passed: 0, failed: 1, skipped: 0, ok: false };
    expect(formatReport(report as never, colourWanted(true, {}))).toContain(ESC);
    expect(formatReport(report as never, colourWanted(true, { NO_COLOR: "1" }))).not.toContain(ESC);
  });
});
