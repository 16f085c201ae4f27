/** A plugin already running at an address is dialed, not spawned, and served the same way. */
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { execa, type ResultPromise } from "execa";
import { HELLO_PLUGIN, freePort, http, startTestHost, type TestHost } from "./harness.js";

let plugin: ResultPromise;
let t: TestHost;

beforeAll(async () => {
  const wanted = await freePort();
  plugin = execa(process.execPath, [HELLO_PLUGIN, "--port", String(wanted)], { buffer: false, reject: false });
  const port = await new Promise<number>((resolve, reject) => {
    plugin.stdout!.on("data", (chunk: Buffer) => {
      const match = /QNTX_PLUGIN_PORT=(\d+)/.exec(chunk.toString());
      if (match) resolve(Number(match[1]));
    });
    plugin.once("exit", (code) => reject(new Error(`hello exited early (${code})`)));
  });
  const deadPort = await freePort();
  t = await startTestHost(
    `[plugins.hello]\naddress = "127.0.0.1:${port}"\n\n[plugins.nobody]\naddress = "127.0.0.1:${deadPort}"\n`,
    { ready_timeout_ms: 1000 },
  );
});

afterAll(async () => {
  await t?.close();
  plugin?.kill("SIGKILL");
});

it("serves /api/hello/hello from a dialed plugin", async () => {
  const res = await http(`${t.url}/api/hello/hello`);
  expect(res.status).toBe(200);
  expect(res.json().message).toBe("Hello, world!");
  const info = (await http(`${t.url}/api/plugins/hello`)).json().plugin;
  expect(info.kind).toBe("dialed");
  expect(info.pid).toBeNull();
});

it("reports an address where nothing answers", async () => {
  const info = (await http(`${t.url}/api/plugins/nobody`)).json().plugin;
  expect(info.state).toBe("failed");
  expect(info.error).toContain("did not answer Metadata");
});
