/**
 * FileService and FetchService through a real plugin process: files stored with `qntx file
 * put` (and `POST /api/files`) and read back by id, with their limits and bad ids; fetches from
 * a local server only, attested in the caller's name, cached, limited by the allow-list, a
 * deadline and a size limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createServer, type Server } from "node:http";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { adminHeaders, CLI, http, startTestHost, type TestHost } from "./harness.js";
import { callService, callerTable } from "./helpers/mesh.js";

let site: Server;
let port = 0;
let hits = 0;

beforeAll(async () => {
  site = createServer((req, res) => {
    if (req.url === "/count") {
      hits++;
      return void res.end(`hit ${hits}`);
    }
    if (req.url === "/big") return void res.end("x".repeat(5000));
    if (req.url === "/chunked-big") {
      // No content-length: the limit must hold while reading.
      res.write("y".repeat(800));
      res.write("y".repeat(800));
      return void res.end();
    }
    if (req.url === "/slow") return void setTimeout(() => res.end("late"), 3000);
    if (req.url === "/away") return void res.writeHead(302, { location: `http://localhost:${port}/count` }).end();
    if (req.url === "/here") return void res.writeHead(301, { location: "/count" }).end();
    res.statusCode = 404;
    res.end("nothing here");
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  port = (site.address() as { port: number }).port;
});

afterAll(async () => {
  site.closeAllConnections();
  await new Promise((resolve) => site.close(resolve));
});

describe("FetchService", () => {
  let t: TestHost;
  beforeAll(async () => {
    t = await startTestHost(callerTable("fetcher"), {}, ['fetch_allowed_hosts = ["127.0.0.1"]', "fetch_max_bytes = 1000", "fetch_timeout_ms = 500"]);
  });
  afterAll(async () => t?.close());
  const fetch = (request: object, token?: string) => callService(t.url, "fetcher", "FetchService", "Fetch", request, { token }).then((r) => r.response);

  it("fetches a URL without recording anything when no subject is given", async () => {
    const before = hits;
    expect(await fetch({ url: `http://127.0.0.1:${port}/count` })).toMatchObject({ success: true, body: `hit ${before + 1}`, statusCode: 200, attestationId: "" });
    expect(await fetch({ url: `http://127.0.0.1:${port}/missing` })).toMatchObject({ success: true, body: "nothing here", statusCode: 404 });
  });

  it("attests the fetch in the caller's name, with the actor and context asked for, and answers from the cache until fresh", async () => {
    const request = { url: `http://127.0.0.1:${port}/count`, subjects: ["page:count"], predicate: "page:read", actor: "fetcher:test", source: "someone-else" };
    const first = await fetch(request);
    expect(first.success).toBe(true);
    const { attestations } = (await http(`${t.url}/api/attestations?subject=page:count`)).json();
    expect(attestations).toHaveLength(1);
    expect(attestations[0]).toMatchObject({
      id: first.attestationId, predicates: ["http:get", "page:read"], contexts: [request.url], actors: ["fetcher:test"], source: "fetcher",
      attributes: { url: request.url, response: first.body, status_code: 200 },
    });
    const hitsBefore = hits;
    expect(await fetch(request)).toMatchObject({ success: true, body: first.body, attestationId: first.attestationId });
    expect(hits).toBe(hitsBefore);
    const fresh = await fetch({ ...request, fresh: true });
    expect(hits).toBe(hitsBefore + 1);
    expect(fresh.attestationId).not.toBe(first.attestationId);
  });

  it("refuses a host that is not on the allow-list, also when a redirect leads there", async () => {
    const other = await fetch({ url: `http://localhost:${port}/count` });
    expect(other.success).toBe(false);
    expect(other.error).toBe(`localhost:${port} is not in [host] fetch_allowed_hosts (127.0.0.1) (hint: add "localhost:${port}" to it to let plugins fetch from it)`);
    const away = await fetch({ url: `http://127.0.0.1:${port}/away` });
    expect(away.error).toContain(`localhost:${port} is not in [host] fetch_allowed_hosts`);
    expect(await fetch({ url: `http://127.0.0.1:${port}/here` })).toMatchObject({ success: true, statusCode: 200 });
    expect((await fetch({ url: "file:///etc/passwd" })).error).toBe("only http and https URLs are fetched, not file:");
  });

  it("stops at fetch_max_bytes, declared or not, and at the deadline", async () => {
    expect((await fetch({ url: `http://127.0.0.1:${port}/big` })).error).toContain("has 5000 bytes, over fetch_max_bytes (1000)");
    expect((await fetch({ url: `http://127.0.0.1:${port}/chunked-big` })).error).toContain("is over fetch_max_bytes (1000 bytes)");
    expect((await fetch({ url: `http://127.0.0.1:${port}/slow` })).error).toContain("the fetch took longer than 500 ms");
  });

  it("refuses a bad token and a missing url in the body", async () => {
    expect(await fetch({ url: `http://127.0.0.1:${port}/count` }, "forged")).toMatchObject({ success: false, error: "invalid authentication token" });
    expect(await fetch({})).toMatchObject({ success: false, error: "url is required" });
  });
});

describe("FetchService without an allow-list", () => {
  it("refuses every fetch, saying the list is empty and what to add", async () => {
    const t = await startTestHost(callerTable("fetcher"));
    try {
      const { response } = await callService(t.url, "fetcher", "FetchService", "Fetch", { url: `http://127.0.0.1:${port}/count` });
      expect(response.success).toBe(false);
      expect(response.error).toBe(`fetches are off: [host] fetch_allowed_hosts is empty (hint: add "127.0.0.1:${port}" to fetch_allowed_hosts in the host's config to let plugins fetch from it)`);
    } finally {
      await t.close();
    }
  });
});

describe("FileService", () => {
  let t: TestHost;
  beforeAll(async () => {
    t = await startTestHost(callerTable("reader"), {}, ["file_max_bytes = 1000"]);
  });
  afterAll(async () => t?.close());
  const read = (fileId: string) => callService(t.url, "reader", "FileService", "ReadFileBase64", { fileId }).then((r) => r.response);

  it("reads back a file stored with qntx file put, by its id with or without the extension", async () => {
    const path = join(t.dir, "note.txt");
    writeFileSync(path, "hello from a file\n");
    const put = await execa(process.execPath, [CLI, "--data-dir", join(t.dir, "data"), "file", "put", path], { reject: false });
    expect(put.stderr).toBe("");
    const id = put.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}\.txt$/);
    const file = await read(id);
    expect(file).toMatchObject({ success: true, error: "", mimeType: "text/plain" });
    expect(Buffer.from(file.base64Data, "base64").toString()).toBe("hello from a file\n");
    expect((await read(id.replace(/\.txt$/, ""))).success).toBe(true);
    const listed = await execa(process.execPath, [CLI, "--data-dir", join(t.dir, "data"), "file", "list"], { reject: false });
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+note\\.txt\\s+text/plain\\s+18`));
  });

  it("stores the MIME type the upload names", async () => {
    const res = await http(`${t.url}/api/files?name=pic`, { method: "POST", headers: { ...adminHeaders(t), "content-type": "image/png" }, body: Buffer.from([137, 80, 78, 71]) });
    expect(res.status).toBe(201);
    const { file } = res.json();
    expect(file).toMatchObject({ name: "pic", mimeType: "image/png", size: 4 });
    expect((await read(file.id)).mimeType).toBe("image/png");
  });

  it("refuses an unknown id, and an id that is not one (never a path outside the store)", async () => {
    expect(await read("0b9e3b4e-0000-4000-8000-000000000000")).toMatchObject({ success: false, error: "file not found: 0b9e3b4e-0000-4000-8000-000000000000 (hint: qntx file list shows the stored files)" });
    for (const bad of ["../../etc/passwd", "/etc/passwd", "admin.token", "..", ""]) {
      const answer = await read(bad);
      expect(answer.success).toBe(false);
      expect(answer.error).toMatch(/^invalid file id/);
    }
  });

  it("refuses a file over file_max_bytes, an upload without the admin token, and a bad token", async () => {
    const big = await http(`${t.url}/api/files?name=big.bin`, { method: "POST", headers: { ...adminHeaders(t), "content-type": "application/octet-stream" }, body: Buffer.alloc(2000) });
    expect(big.status).toBe(413);
    expect(big.json()).toMatchObject({ code: "PAYLOAD_TOO_LARGE", hint: "raise [host] file_max_bytes (at most 12 MiB)" });
    const anonymous = await http(`${t.url}/api/files`, { method: "POST", headers: { "content-type": "text/plain" }, body: "x" });
    expect(anonymous.status).toBe(401);
    const forged = await callService(t.url, "reader", "FileService", "ReadFileBase64", { fileId: "x" }, { token: "forged" });
    expect(forged.response).toMatchObject({ success: false, error: "invalid authentication token" });
  });
});
