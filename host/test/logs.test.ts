/** Each plugin's stdout/stderr lines are logged under its name; JSON lines keep their level. */
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { fakePluginTable, startTestHost, type TestHost } from "./harness.js";

let t: TestHost;

beforeAll(async () => {
  t = await startTestHost(fakePluginTable("noisy", "chatty"));
});

afterAll(async () => {
  await t?.close();
});

it("logs plugin lines under the plugin's name, keeping JSON levels", () => {
  const mine = t.logs.filter((l) => l.plugin === "noisy");
  // pino levels: 30 info, 40 warn, 50 error.
  expect(mine.some((l) => l.level === 30 && l.msg.length > 0)).toBe(true);
  expect(mine.some((l) => l.level === 50)).toBe(true);
  expect(mine.some((l) => l.level === 40)).toBe(true);
  expect(mine.every((l) => !String(l.msg).startsWith("QNTX_PLUGIN_PORT="))).toBe(true);
});
