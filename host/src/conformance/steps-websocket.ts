/**
 * The WebSocket step: open `HandleWebSocket` as the host does for a browser (CONNECT first,
 * with the upgrade's path), send a PING and expect a PONG echoing its int64 nanosecond
 * timestamp exactly (this host disconnects a plugin that misses PONGs). Frames go through the
 * hand codec of @qntx/protocol, since the timestamps exceed JavaScript's safe integers. A
 * plugin without WebSocket support answers UNIMPLEMENTED, which is a SKIP.
 */
import { status, type StatusObject } from "@grpc/grpc-js";
import { WebSocketMessage_Type, callErrorOf, frame, nowNs, type PluginCallError, type WebSocketFrame } from "@qntx/protocol";
import { seconds } from "./calls.js";
import type { CheckRun } from "./context.js";

type Outcome =
  | { kind: "pong"; frame: WebSocketFrame }
  | { kind: "error"; error: PluginCallError }
  | { kind: "ended" }
  | { kind: "timeout" };

const PONG_HINT = "answer every PING frame with a PONG carrying the same timestamp (int64 unix ns, echoed exactly); this host disconnects a plugin that misses a PONG";

/** HandleWebSocket: CONNECT, then PING → PONG with the same timestamp. */
export async function stepWebSocket(run: CheckRun): Promise<void> {
  const title = "HandleWebSocket PING → PONG";
  if (run.skippedAsGone("websocket", title) || run.skippedAsLive("websocket", title)) return;
  const client = run.client!;
  const timeoutMs = run.options.callTimeoutMs;
  const stream = client.openStream();
  const ping = nowNs();
  let timer: NodeJS.Timeout | undefined;
  const outcome = await new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "timeout" }), timeoutMs);
    stream.on("data", (received: WebSocketFrame) => {
      if (received.type === WebSocketMessage_Type.PONG) resolve({ kind: "pong", frame: received });
    });
    // A failed stream emits `error`, then `status`; the status alone says both.
    stream.on("error", () => undefined);
    stream.on("status", (ended: StatusObject) => {
      const error = callErrorOf(ended, "HandleWebSocket");
      resolve(error ? { kind: "error", error } : { kind: "ended" });
    });
    stream.write(frame(WebSocketMessage_Type.CONNECT, undefined, { path: `/ws/${run.name}`, query: "", "x-qntx-check": "1" }));
    stream.write(frame(WebSocketMessage_Type.PING, undefined, {}, ping));
  });
  clearTimeout(timer);
  // Close as the host does when a browser leaves: CLOSE, half-close, then drop the call.
  if (outcome.kind !== "error" && outcome.kind !== "ended") {
    stream.write(frame(WebSocketMessage_Type.CLOSE));
    stream.end();
  }
  stream.cancel();

  switch (outcome.kind) {
    case "pong":
      if (outcome.frame.timestamp === ping) return run.rec.pass("websocket", title, `PONG echoed the PING's timestamp (${ping} ns)`);
      return run.rec.fail("websocket", title, `the PONG carries timestamp ${outcome.frame.timestamp}, the PING had ${ping}`, PONG_HINT);
    case "error":
      if (outcome.error.code === status.UNIMPLEMENTED) return run.rec.skip("websocket", title, "UNIMPLEMENTED: the plugin serves no WebSocket (the host answers /ws/<name> with 404)");
      // grpc-js servers report a frame their decoder threw on as INTERNAL "Error deserializing request".
      if (outcome.error.code === status.INTERNAL && /deserializ/i.test(outcome.error.details ?? "")) {
        return run.rec.fail("websocket", title, `the plugin could not decode the host's frames (gRPC INTERNAL: ${outcome.error.details})`,
          "WebSocketMessage.timestamp is an int64 of unix nanoseconds (beyond 2^53): decode it as a 64-bit integer (a JS decoder that turns int64 into number throws on it)");
      }
      return run.failCall("websocket", title, await client.explain(outcome.error, timeoutMs, "HandleWebSocket"), "keep the stream open after CONNECT; end it on CLOSE");
    case "ended":
      return run.rec.fail("websocket", title, "the plugin ended the stream before answering the PING", PONG_HINT);
    case "timeout":
      return run.rec.fail("websocket", title, `no PONG in ${seconds(timeoutMs)} after CONNECT and PING`, PONG_HINT);
  }
}
