/**
 * The jest example of docs/testing-plugins.md, run as written (imports through the package's
 * `@qntx/sdk/testing` export, i.e. the built dist), so the guide cannot drift from the API.
 */
import { afterAll, beforeAll, expect, test } from "@jest/globals";
import { startTestPlugin, type TestPlugin } from "@qntx/sdk/testing";
import { plugin } from "./fixtures/testing-wordcount.js";

let wc: TestPlugin;

beforeAll(async () => {
  wc = await startTestPlugin(plugin, { config: { minLength: 3 } });
});

afterAll(() => wc.stop());

test("counts words over HTTP", async () => {
  const res = await wc.http("POST", "/count", { json: { text: "a cat and a dog" } });
  expect(res.status).toBe(200);
  expect(res.json()).toEqual({ words: 3 });
});

test("answers 400 to a body without text", async () => {
  const res = await wc.http("POST", "/count", { json: { txt: "typo" } });
  expect(res.status).toBe(400);
  expect(res.text()).toMatch(/text must be a string/);
});

test("the count job records an attestation", async () => {
  const run = await wc.job("count", { doc: "readme", text: "one two three" });
  expect(run).toMatchObject({ success: true, result: { doc: "readme", words: 3 }, progress: { current: 1, total: 1 } });
  const written = await wc.host!.waitForAttestation({ subjects: ["readme"], predicates: ["word-count"] });
  expect(written).toMatchObject({ source: "wordcount", attributes: { words: 3 } });
});
