/**
 * ADR-003 end to end, with the two example plugins spawned from their builds: `ingest` writes
 * `committed` attestations, the host's watcher (declared by `analyzer`) enqueues
 * `analyzer/analyze` for each, and the analysis lands as `analyzed` attestations. The plugins
 * never call each other. Then ADR-004: a `handler` attestation stored through the API becomes
 * the job handler `analyzer/<name>` after a restart, and runs in the analyzer's sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { fileURLToPath } from "node:url";
import { adminHeaders, http, startTestHost, until, type TestHost } from "./harness.js";

const INGEST = fileURLToPath(new URL("../../examples/ingest/dist/main.js", import.meta.url));
const ANALYZER = fileURLToPath(new URL("../../examples/analyzer/dist/main.js", import.meta.url));
const REPO = "github.com/acme/widgets";
const SANDBOX_TIMEOUT_MS = 300;

let t: TestHost;

interface JobJson {
  id: string;
  handler: string;
  status: string;
  source: string;
  attempts: number;
  error: string;
  payload: any;
  result: any;
  progress: { current: number; total: number };
  costActual: number;
  pluginVersion: string;
  logs?: Array<{ level: string; message: string; stage: string; metadata: string }>;
}

interface AttestationJson {
  id: string;
  subjects: string[];
  predicates: string[];
  contexts: string[];
  actors: string[];
  source: string;
  attributes: Record<string, any>;
}

/** `until`, with the host's warnings and the plugins' log lines in the error when it times out. */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  try {
    return await until(probe, what, timeoutMs);
  } catch (error) {
    const lines = t.logs.filter((l) => l.level >= 40 || typeof l.plugin === "string").slice(-40);
    throw new Error(`${(error as Error).message}\nlast host log lines:\n${lines.map((l) => JSON.stringify(l)).join("\n")}`);
  }
}

async function attestations(query: string): Promise<AttestationJson[]> {
  const res = await http(`${t.url}/api/attestations?${query}`);
  expect(res.status).toBe(200);
  return res.json().attestations;
}

async function jobs(): Promise<JobJson[]> {
  const res = await http(`${t.url}/api/pulse/jobs?limit=1000`);
  expect(res.status).toBe(200);
  return res.json().jobs;
}

async function job(id: string): Promise<JobJson> {
  const res = await http(`${t.url}/api/pulse/jobs/${id}`);
  expect(res.status).toBe(200);
  return res.json().job;
}

async function enqueue(body: Record<string, unknown>): Promise<JobJson> {
  const res = await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`POST /api/pulse/jobs ${JSON.stringify(body)} → ${res.status} ${res.text}`);
  return res.json().job;
}

function ended(id: string): Promise<JobJson> {
  return eventually(async () => {
    const j = await job(id);
    return ["completed", "failed", "cancelled"].includes(j.status) ? j : undefined;
  }, `job ${id} to end`);
}

async function handlerNames(): Promise<string[]> {
  return (await http(`${t.url}/api/pulse/handlers`)).json().handlers.map((h: { qualified: string }) => h.qualified);
}

function postCommits(body: unknown): ReturnType<typeof http> {
  return http(`${t.url}/api/ingest/commits`, { method: "POST", headers: { "content-type": "application/json" }, body: typeof body === "string" ? body : JSON.stringify(body) });
}

const manyFiles = Array.from({ length: 21 }, (_, i) => `src/widget-${i}.ts`);
const COMMITS = [
  { sha: "a1b2c3d", author: "ada", message: "fix(parser): handle an empty input", files: ["src/parser.ts", "test/parser.test.ts"] },
  { sha: "b2c3d4e", author: "grace", message: "feat!: widgets can be nested", files: manyFiles },
  { sha: "c3d4e5f", author: "ada", message: "chore: bump dependencies", files: ["package.json"] },
];
const EXPECTED: Record<string, { kind: string; files: number; risky: boolean }> = {
  a1b2c3d: { kind: "fix", files: 2, risky: false },
  b2c3d4e: { kind: "feat", files: 21, risky: true },
  c3d4e5f: { kind: "chore", files: 1, risky: false },
};

beforeAll(async () => {
  t = await startTestHost(
    `[plugins.ingest]\nbinary = ${JSON.stringify(INGEST)}\n\n` +
      `[plugins.analyzer]\nbinary = ${JSON.stringify(ANALYZER)}\nconfig = { handler_timeout_ms = ${SANDBOX_TIMEOUT_MS} }\n`,
  );
  // The watcher is armed when the analyzer's handlers are registered (plugin `running`);
  // commits written before that would not be seen.
  await eventually(async () => ((await handlerNames()).includes("analyzer/analyze") ? true : undefined), "analyzer/analyze to be registered");
});

afterAll(async () => {
  await t?.close();
});

describe("ingest", () => {
  it("refuses an invalid batch with 400, naming every problem", async () => {
    const bad = await postCommits({ repo: "", commits: [{ sha: "x y", author: "ada" }, 3] });
    expect(bad.status).toBe(400);
    const message: string = bad.json().error;
    expect(message).toContain("repo must be a non-empty string");
    expect(message).toContain("commits[0].sha must be a non-empty string without spaces");
    expect(message).toContain("commits[0].message must be a string");
    expect(message).toContain("commits[1] must be an object");

    const notJson = await postCommits("{nope");
    expect(notJson.status).toBe(400);
    expect(notJson.json().error).toMatch(/invalid JSON/);

    expect((await postCommits({ repo: REPO, commits: [] })).json().error).toContain("commits must be a non-empty array");
    expect(await attestations("predicate=committed")).toEqual([]);
  });
});

describe("ADR-003: ingestion triggers analysis", () => {
  it("writes one committed attestation per commit and answers 201 { created }", async () => {
    const res = await postCommits({ repo: REPO, commits: COMMITS });
    expect(res.status).toBe(201);
    expect(res.json()).toEqual({ created: 3 });

    const listed = (await http(`${t.url}/api/ingest/commits?repo=${encodeURIComponent(REPO)}`)).json().commits;
    expect(listed.map((c: { sha: string }) => c.sha).sort()).toEqual(["a1b2c3d", "b2c3d4e", "c3d4e5f"]);
    const fix = listed.find((c: { sha: string }) => c.sha === "a1b2c3d");
    expect(fix).toMatchObject({ repo: REPO, author: "ada", message: COMMITS[0]!.message, files: COMMITS[0]!.files });
    expect((await http(`${t.url}/api/ingest/commits?repo=elsewhere`)).json().commits).toEqual([]);

    const stored = await attestations(`predicate=committed&subject=b2c3d4e`);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ subjects: ["b2c3d4e"], predicates: ["committed"], contexts: [REPO], actors: ["grace"] });
    expect(stored[0]!.attributes).toEqual({ message: COMMITS[1]!.message, files: manyFiles });
  });

  it("analyses each commit in a Pulse job and records an analyzed attestation", async () => {
    const analyzed = await eventually(async () => {
      const found = await attestations(`predicate=analyzed&context=${encodeURIComponent(REPO)}`);
      return found.length >= 3 ? found : undefined;
    }, "3 analyzed attestations");
    expect(analyzed).toHaveLength(3);
    const committed = await attestations("predicate=committed");
    for (const a of analyzed) {
      const sha = a.subjects[0]!;
      expect(a.predicates).toEqual(["analyzed"]);
      expect(a.contexts).toEqual([REPO]);
      expect(a.attributes).toMatchObject(EXPECTED[sha]!);
      // It names the commit attestation it analysed.
      expect(a.attributes.commit).toBe(committed.find((c) => c.subjects[0] === sha)!.id);
    }

    const listed = (await http(`${t.url}/api/analyzer/analysis?repo=${encodeURIComponent(REPO)}`)).json().analyses;
    expect(Object.fromEntries(listed.map((x: { sha: string; kind: string; files: number; risky: boolean }) => [x.sha, { kind: x.kind, files: x.files, risky: x.risky }]))).toEqual(EXPECTED);
  });

  it("ran the jobs as analyzer/analyze, with progress, cost, logs and plugin version stored", async () => {
    const done = await eventually(async () => {
      const mine = (await jobs()).filter((j) => j.handler === "analyzer/analyze");
      return mine.length === 3 && mine.every((j) => j.status === "completed") ? mine : undefined;
    }, "3 completed analyzer/analyze jobs");
    const shas = new Set<string>();
    for (const summary of done) {
      const j = await job(summary.id);
      expect(j.status).toBe("completed");
      expect(j.source).toBe("watcher:on-commit");
      // QNTX's watcher payload: the attestation as its Go JSON, plus which watcher fired.
      expect(j.payload).toMatchObject({ watcher_id: "on-commit", predicates: ["committed"], source: "ingest" });
      expect(j.payload.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(j.payload.timestamp).toMatch(/Z$/);
      const sha: string = j.payload.subjects[0];
      shas.add(sha);
      expect(j.result).toMatchObject({ sha, ...EXPECTED[sha]! });
      expect(j.progress).toEqual({ current: 3, total: 3 });
      expect(j.costActual).toBeCloseTo(0.0001, 10);
      expect(j.pluginVersion).toBe("0.1.0");
      const stages = j.logs!.map((l) => l.stage);
      expect(stages).toEqual(expect.arrayContaining(["classify", "write"]));
      const classify = j.logs!.find((l) => l.stage === "classify")!;
      expect(classify.level).toBe("info");
      expect(JSON.parse(classify.metadata)).toMatchObject({ sha, ...EXPECTED[sha]! });
    }
    expect([...shas].sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it("imports commits from an enqueued ingest/import job, and those are analysed too", async () => {
    const queued = await enqueue({
      handler: "ingest/import",
      payload: { repo: REPO, commits: [{ sha: "d4e5f60", author: "linus", message: "Update README" }, { sha: "e5f6071", author: "linus", message: "docs: typo" }] },
    });
    const done = await ended(queued.id);
    expect(done).toMatchObject({ status: "completed", result: { created: 2 }, progress: { current: 2, total: 2 }, pluginVersion: "0.1.0" });
    expect(done.logs!.some((l) => l.stage === "import")).toBe(true);

    const analyzed = await eventually(async () => {
      const found = await attestations("predicate=analyzed&subject=d4e5f60&subject=e5f6071");
      return found.length === 2 ? found : undefined;
    }, "the imported commits to be analysed");
    expect(analyzed.map((a) => a.attributes.kind)).toEqual(["other", "other"]);

    const bad = await enqueue({ handler: "ingest/import", payload: { repo: REPO }, max_attempts: 1 });
    expect(await ended(bad.id)).toMatchObject({ status: "failed", error: expect.stringContaining("commits must be a non-empty array") });
  });
});

describe("ADR-004: dynamic handlers from handler attestations", () => {
  async function storeHandler(name: string, code: string): Promise<void> {
    const res = await http(`${t.url}/api/attestations`, {
      method: "POST",
      headers: adminHeaders(t),
      body: JSON.stringify({ subjects: [name], predicates: ["handler"], contexts: ["analyzer"], attributes: { code } }),
    });
    if (res.status !== 201) throw new Error(`POST /api/attestations (handler ${name}) → ${res.status} ${res.text}`);
  }

  it("registers stored handlers after a restart and runs them in the sandbox", async () => {
    await storeHandler("double", "return payload.n * 2");
    await storeHandler("spin", "while (true) {}");
    await storeHandler("broken", "return (");

    // No body, so no content-type: fastify refuses an empty body declared as JSON.
    const restart = await http(`${t.url}/api/plugins/analyzer/restart`, { method: "POST", headers: { authorization: adminHeaders(t).authorization! } });
    expect(`${restart.status} ${restart.text}`).toMatch(/^200 /);
    await eventually(async () => ((await handlerNames()).includes("analyzer/double") ? true : undefined), "analyzer/double to be registered");
    const names = await handlerNames();
    expect(names).toEqual(expect.arrayContaining(["analyzer/analyze", "analyzer/double", "analyzer/spin"]));
    expect(names).not.toContain("analyzer/broken");
    const loaded = (await http(`${t.url}/api/analyzer/handlers`)).json();
    expect(loaded.loaded.sort()).toEqual(["double", "spin"]);
    expect(loaded.skipped).toEqual([{ name: "broken", reason: expect.stringContaining("handler broken:") }]);

    const doubled = await ended((await enqueue({ handler: "double", payload: { n: 21 } })).id);
    expect(doubled).toMatchObject({ status: "completed", handler: "analyzer/double", result: 42 });

    const spun = await ended((await enqueue({ handler: "analyzer/spin", payload: {}, max_attempts: 1 })).id);
    expect(spun).toMatchObject({ status: "failed", error: `handler spin timed out after ${SANDBOX_TIMEOUT_MS} ms` });

    // The analyzer keeps serving after a runaway handler.
    expect((await http(`${t.url}/api/analyzer/analysis?limit=1`)).status).toBe(200);
  });
});
