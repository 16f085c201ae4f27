/**
 * The two examples of the service mesh, as `pnpm start` runs them: the TypeScript `consumer`
 * asks, streams, remembers and recalls through the host, which routes to the Python `pyplug`
 * provider (chat, embeddings, vector search) and answers search from its built-in index. The
 * README's curl goes consumer → host → provider. Skipped without the Python toolchain (see
 * helpers/toolchain.ts).
 */
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { adminHeaders, http, startTestHost, until, type TestHost } from "./harness.js";
import { describeWithPython } from "./helpers/toolchain.js";

const RUN_SH = fileURLToPath(new URL("../../examples/python-plugin/run.sh", import.meta.url));
const CONSUMER = fileURLToPath(new URL("../../examples/consumer/dist/main.js", import.meta.url));

let t: TestHost;
const post = (path: string, body: unknown) => http(`${t.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describeWithPython(import.meta.url, "consumer → host → pyplug", () => {
  beforeAll(async () => {
    t = await startTestHost(`[plugins.pyplug]\nbinary = ${JSON.stringify(RUN_SH)}\n\n[plugins.consumer]\nbinary = ${JSON.stringify(CONSUMER)}\n`, { restart_backoff_base_ms: 100 });
  });
  afterAll(async () => t?.close());

  it("answers the README's question through the Python provider, which learns who asked", async () => {
    const res = await post("/api/consumer/ask", { question: "hello" });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ answer: "Hello, consumer! I am pyplug's rule-based stand-in for a language model.", model: "pyplug-rules-1", tokens: 12 });
    expect((await post("/api/consumer/ask", { question: "count words: one two three" })).json().answer).toBe("That is 3 words.");
  });

  it("streams a reply to a WebSocket word by word, then done with the token count", async () => {
    const ws = new WebSocket(`${t.url.replace("http", "ws")}/ws/consumer`);
    const frames: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on("open", () => ws.send(JSON.stringify({ type: 1, data: Buffer.from("say hi to everyone").toString("base64") })));
      ws.on("message", (raw) => {
        const text = Buffer.from(JSON.parse(raw.toString()).data, "base64").toString();
        frames.push(text);
        if (text.startsWith("{")) resolve();
      });
      ws.on("error", reject);
    });
    ws.close();
    expect(frames.slice(0, -1).join("")).toBe("You said: say hi to everyone (4 words).");
    expect(frames.length).toBeGreaterThan(3);
    expect(JSON.parse(frames.at(-1)!)).toEqual({ done: true, tokens: 12 });
  });

  it("remembers texts with embeddings and vector search, and recalls them by meaning and by words", async () => {
    for (const text of ["the cat sat on the mat", "dogs bark at night", "a cat naps"]) expect((await post("/api/consumer/remember", { text })).status).toBe(200);
    const recall = (await http(`${t.url}/api/consumer/recall?q=${encodeURIComponent("the cat sat on the mat")}`)).json();
    expect(recall.byMeaning[0]).toEqual({ text: "the cat sat on the mat", distance: 0 });
    expect(recall.byMeaning).toHaveLength(3);
    expect(recall.byWords.sort()).toEqual(["the cat sat on the mat"]);
    expect((await http(`${t.url}/api/consumer/recall?q=cat`)).json().byWords.sort()).toEqual(["a cat naps", "the cat sat on the mat"]);
  });

  it("records the provider's reported cost and tokens for the budget", async () => {
    const { recent } = (await http(`${t.url}/api/pulse/budget`)).json();
    const chat = recent.find((r: { name: string }) => r.name === "llm/Chat");
    // The newest chat: "count words: one two three" (5 tokens in) → "That is 3 words." (4 out).
    expect(chat).toMatchObject({ plugin: "consumer", provider: "pyplug", kind: "call", promptTokens: 5, completionTokens: 4, totalTokens: 9 });
    expect(chat.costUsd).toBeCloseTo(9 * 0.000002, 9);
  });

  it("answers 503 naming the flag while the provider is stopped, and works again once it is back", async () => {
    expect((await http(`${t.url}/api/plugins/pyplug/stop`, { method: "POST", headers: adminHeaders(t) })).status).toBe(200);
    const refused = await post("/api/consumer/ask", { question: "hello" });
    expect(refused.status).toBe(503);
    expect(refused.json().error).toContain("the llm provider pyplug is stopped");
    expect((await http(`${t.url}/api/plugins/pyplug/start`, { method: "POST", headers: adminHeaders(t) })).status).toBe(200);
    await until(async () => ((await post("/api/consumer/ask", { question: "hi" })).status === 200 ? true : undefined), "the provider to answer again");
  });
});
