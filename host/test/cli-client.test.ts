/**
 * The CLI's client of the host reads an error answer back into a QntxError with the code the
 * host sent (not one guessed from the status), and the message and hint of the body. A body
 * without a catalogue code — another server in front of the host — gets one from the status.
 * A real host, and a real node:http server that answers like something that is not one.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { QntxError } from "@qntx/protocol";
import { ControlClient } from "../src/cli/client.js";
import { startTestHost, type TestHost } from "./harness.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

let t: TestHost;
let foreign: Server;
let foreignUrl: string;

beforeAll(async () => {
  t = await startTestHost("");
  // Answers every request with the status and body its path names: /<status>/<base64 JSON>.
  foreign = createServer((req, res) => {
    const [, status, body] = req.url!.split("/");
    res.writeHead(Number(status), { "content-type": "application/json" }).end(Buffer.from(body!, "base64url"));
  });
  await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve));
  foreignUrl = `http://127.0.0.1:${(foreign.address() as { port: number }).port}`;
});

afterAll(async () => {
  await t?.close();
  await new Promise((resolve) => foreign?.close(resolve));
  cleanupTempDirs();
});

const rejection = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => undefined, (error: unknown) => error);

describe("ControlClient error answers", () => {
  it("keep the host's code, message and hint", async () => {
    const client = ControlClient.locate({ dataDir: join(t.dir, "data") });
    const error = await rejection(client.get("/api/pulse/jobs/no-such-job"));
    expect(error).toBeInstanceOf(QntxError);
    // The status (404) alone would have said PLUGIN_NOT_FOUND.
    expect(error).toMatchObject({ code: "NOT_FOUND", message: "no job with id no-such-job", hint: "GET /api/pulse/jobs lists jobs" });
  });

  it("take a code from the status when the body has none of the catalogue's", async () => {
    const client = ControlClient.locate({ dataDir: makeTempDir(), url: foreignUrl });
    const path = (status: number, body: object): string => `/${status}/${Buffer.from(JSON.stringify(body)).toString("base64url")}`;
    expect(await rejection(client.get(path(404, { error: "gone" })))).toMatchObject({ code: "PLUGIN_NOT_FOUND", message: "gone" });
    expect(await rejection(client.get(path(401, { error: "who?", code: "NOT_OURS", hint: "log in" })))).toMatchObject({ code: "UNAUTHORIZED", message: "who?", hint: "log in" });
  });
});
