/** A plugin already running at an address is dialed, not spawned, and served the same way. */
import { afterAll, beforeAll, expect, it } from "@jest/globals";
import { execa, type ResultPromise } from "execa";
import { HELLO_PLUGIN, adminHeaders, freePort, http, startTestHost, until, type TestHost } from "./harness.js";

let plugin: ResultPromise;
let t: TestHost;
/** The dialed plugin's output, for the lines it logs on every Initialize. */
let pluginOutput = "";

beforeAll(async () => {
  const wanted = await freePort();
  plugin = execa(process.execPath, [HELLO_PLUGIN, "--port", String(wanted)], { buffer: false, reject: false });
  plugin.stderr!.on("data", (chunk: Buffer) => (pluginOutput += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    plugin.stdout!.on("data", (chunk: Buffer) => {
      pluginOutput += chunk.toString();
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

it("restarts a dialed plugin by dialing it again and re-initializing it, never sending it Shutdown", async () => {
  const initializations = (): number => pluginOutput.split("hello plugin ready").length - 1;
  expect(initializations()).toBe(1);
  const res = await http(`${t.url}/api/plugins/hello/restart`, { method: "POST", headers: adminHeaders(t) });
  expect(res.status).toBe(200);
  expect(res.json().plugin.state).toBe("running");
  await until(() => (initializations() === 2 ? true : undefined), "a second Initialize");
  // A QNTX plugin exits on Shutdown: the process the host does not own is still there.
  expect(plugin.exitCode).toBeNull();
  expect(pluginOutput).not.toContain("shutdown requested by host");
  expect((await http(`${t.url}/api/hello/hello`)).status).toBe(200);

  // Stop lets go of it; start dials it again.
  expect((await http(`${t.url}/api/plugins/hello/stop`, { method: "POST", headers: adminHeaders(t) })).json().plugin.state).toBe("stopped");
  expect((await http(`${t.url}/api/hello/hello`)).status).toBe(503);
  expect((await http(`${t.url}/api/plugins/hello/start`, { method: "POST", headers: adminHeaders(t) })).json().plugin.state).toBe("running");
  expect(plugin.exitCode).toBeNull();
  expect((await http(`${t.url}/api/hello/hello`)).json().message).toBe("Hello, world!");
});
