/**
 * WebSocket gateway flow control end to end: a browser that stops reading makes the host
 * pause the plugin's stream (its queue to the browser passes the high-water mark), and once
 * the browser reads again the host resumes the plugin and every frame arrives, in order.
 * Real host, the SDK fixture plugin (fixtures/ws-plugin.mjs) as a process, `ws` as the browser.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { startTestHost, until, type TestHost } from "./harness.js";

const WS_PLUGIN = fileURLToPath(new URL("./fixtures/ws-plugin.mjs", import.meta.url));
/** 64 KiB frames: the host's high-water mark is then its floor, 1 MiB. */
const MAX_FRAME = 64 * 1024;
/** 300 answers of 60 000 bytes: 24 MB of browser JSON, far more than loopback socket buffers hold. */
const ANSWERS = 300;
const ANSWER_BYTES = 60_000;

describe("WebSocket gateway flow control", () => {
  let t: TestHost;

  beforeAll(async () => {
    t = await startTestHost(`[plugins.wsp]\nbinary = ${JSON.stringify(WS_PLUGIN)}\nargs = ["--name", "wsp"]\n`, { ws_max_frame_bytes: MAX_FRAME });
  });

  afterAll(async () => {
    await t?.close();
  });

  it("pauses the plugin while the browser does not read, then delivers every frame in order", async () => {
    const ws = new WebSocket(`${t.url.replace(/^http/, "ws")}/ws/wsp`);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    // The browser stops reading its socket (ws's pause: no read until resume): the host's
    // queue to it can only grow.
    ws.pause();
    const sizes: number[] = [];
    const all = new Promise<void>((resolve, reject) => {
      ws.on("message", (raw: Buffer) => {
        const frame = JSON.parse(raw.toString("utf8")) as { type: number; data: string };
        sizes.push(Buffer.from(frame.data, "base64").length);
        if (sizes.length === ANSWERS) resolve();
      });
      ws.once("close", (code) => reject(new Error(`closed with ${code} after ${sizes.length} frames`)));
    });
    // Each command is numbered by its size, so order shows in what comes back.
    for (let i = 0; i < ANSWERS; i++) ws.send(JSON.stringify({ type: 1, data: Buffer.from(`big:${ANSWER_BYTES + i}`).toString("base64") }));
    // Our receive buffer holds part of the answers only, so the host's queue to us passes its
    // high-water mark and it pauses the plugin's stream (a host that never pauses fails here).
    const said = (msg: string): number => t.logs.filter((line) => line.msg === msg && line.plugin === "wsp").length;
    await until(() => (said("browser WebSocket is not reading: plugin stream paused") > 0 ? true : undefined), "the host pausing the plugin");
    expect(sizes.length).toBeLessThan(ANSWERS);
    // Read again: a host that never resumes the plugin hangs here.
    ws.resume();
    await all;
    expect(said("browser WebSocket caught up: plugin stream resumed")).toBeGreaterThan(0);
    expect(sizes).toEqual(Array.from({ length: ANSWERS }, (_, i) => ANSWER_BYTES + i));
    ws.close(1000);
  });
});
