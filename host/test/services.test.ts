/**
 * The host's services as plugins see them, called with a raw grpc-js client: per-plugin
 * tokens, errors in the body (never a crash) for bad tokens and missing sub-messages, source
 * stamping, streaming and watching attestations.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import * as grpc from "@grpc/grpc-js";
import { ATSStoreServiceClient, AttestationCommand, Job, QueueServiceClient, type Attestation } from "@qntx/protocol";
import { adminHeaders, http, jobPluginTable, startTestHost, until, type TestHost } from "./harness.js";

let t: TestHost;
let ats: ATSStoreServiceClient;
let queue: QueueServiceClient;

/** Promise form of a unary call. */
function call<Req, Res>(client: grpc.Client, method: string, request: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    (client as unknown as Record<string, (r: Req, cb: (e: grpc.ServiceError | null, v: Res) => void) => void>)[method]!.call(client, request, (error, value) =>
      error ? reject(error) : resolve(value),
    );
  });
}

beforeAll(async () => {
  t = await startTestHost(jobPluginTable("writer"));
  ats = new ATSStoreServiceClient(t.host.servicesAddress, grpc.credentials.createInsecure());
  queue = new QueueServiceClient(t.host.servicesAddress, grpc.credentials.createInsecure());
});

afterAll(async () => {
  ats?.close();
  queue?.close();
  await t?.close();
});

describe("auth", () => {
  it("refuses a bad token in the body, as QNTX does", async () => {
    const created = await call<object, { success: boolean; error: string }>(ats, "generateAndCreateAttestation", { authToken: "nope", command: AttestationCommand.fromPartial({ subjects: ["x"] }) });
    expect(created).toMatchObject({ success: false, error: "invalid authentication token" });
    const exists = await call<object, { exists: boolean }>(ats, "attestationExists", { authToken: "nope", id: "AS-x" });
    expect(exists.exists).toBe(false);
    const enqueued = await call<object, { success: boolean; error: string }>(queue, "enqueue", { authToken: "", job: Job.fromPartial({ handlerName: "writer/echo" }) });
    expect(enqueued).toMatchObject({ success: false, error: "invalid authentication token" });
  });

  it("ends a stream with UNAUTHENTICATED on a bad token", async () => {
    const stream = ats.getAttestationsStream({ authToken: "nope", filter: { subjects: [], predicates: [], contexts: [], actors: [] } });
    const error = await new Promise<grpc.ServiceError>((resolve) => stream.on("error", resolve));
    expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
  });

  it("stamps the plugin's name as source when the plugin leaves it empty", async () => {
    const { job } = (await http(`${t.url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(t), body: JSON.stringify({ handler: "writer/write-att", payload: { subject: "stamped" } }) })).json();
    const done = await until(async () => {
      const j = (await http(`${t.url}/api/pulse/jobs/${job.id}`)).json().job;
      return j.status === "completed" || j.status === "failed" ? j : undefined;
    }, "write-att to finish");
    expect(done.status).toBe("completed");
    expect(done.result.source).toBe("writer");
    const { attestations } = (await http(`${t.url}/api/attestations?subject=stamped`)).json();
    expect(attestations).toHaveLength(1);
    expect(attestations[0]).toMatchObject({ source: "writer", predicates: ["tested"], contexts: ["jobs"] });
  });
});

describe("missing sub-messages get an error, not a crash", () => {
  it("answers each RPC that lacks its message with success:false", async () => {
    const writerToken = tokenOf("grpc-client");
    for (const [client, method, request, field] of [
      [ats, "generateAndCreateAttestation", { authToken: writerToken }, "command"],
      [ats, "createAttestation", { authToken: writerToken }, "attestation"],
      [ats, "getAttestations", { authToken: writerToken }, "filter"],
      [queue, "enqueue", { authToken: writerToken }, "job"],
      [queue, "updateJob", { authToken: writerToken }, "job"],
    ] as const) {
      const response = await call<object, { success: boolean; error: string }>(client, method, request);
      expect(response.success).toBe(false);
      expect(response.error).toContain(field);
    }
    // Still serving.
    const listed = await call<object, { success: boolean }>(queue, "listJobs", { authToken: writerToken, status: "" });
    expect(listed.success).toBe(true);
  });
});

describe("attestations over gRPC", () => {
  it("creates in a batch, queries, streams and watches", async () => {
    const token = tokenOf("grpc-client");
    const watched: Attestation[] = [];
    const watch = ats.watchAttestations({ authToken: token, filter: { subjects: [], predicates: ["grpc-test"], contexts: [], actors: [] } });
    watch.on("data", (a: Attestation) => watched.push(a));
    watch.on("error", () => undefined);
    // The host sends headers once the watch is armed.
    await new Promise((resolve) => watch.once("metadata", resolve));

    const batch = await call<object, { success: boolean; created: number }>(ats, "batchGenerateAndCreateAttestations", {
      authToken: token,
      // fromPartial: ts-proto's encoder expects every field present.
      commands: [1, 2, 3].map((i) => AttestationCommand.fromPartial({ subjects: [`s${i}`], predicates: ["grpc-test"], attributes: { i, nested: { ok: true, list: [1, null] } } })),
    });
    expect(batch).toMatchObject({ success: true, created: 3 });

    const got = await call<object, { success: boolean; attestations: Attestation[] }>(ats, "getAttestations", { authToken: token, filter: { subjects: [], predicates: ["grpc-test"], contexts: [], actors: [] } });
    expect(got.attestations.map((a) => a.subjects[0])).toEqual(["s3", "s2", "s1"]);
    expect(got.attestations[0]!.attributes).toEqual({ i: 3, nested: { ok: true, list: [1, null] } });
    expect(got.attestations[0]!.source).toBe("grpc-client");
    expect(got.attestations[0]!.id).toMatch(/^AS-s3-grpc-test-_-[a-z0-9]{8}$/);

    const streamed: Attestation[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = ats.getAttestationsStream({ authToken: token, filter: { subjects: [], predicates: ["grpc-test"], contexts: [], actors: [] } });
      stream.on("data", (a: Attestation) => streamed.push(a));
      stream.on("end", resolve);
      stream.on("error", reject);
    });
    expect(streamed.map((a) => a.id)).toEqual(got.attestations.map((a) => a.id));

    await until(() => (watched.length === 3 ? true : undefined), "the watch to see 3 attestations");
    watch.cancel();
  });
});

/** A token of a client identity of its own, so the test never disturbs a plugin's token. */
function tokenOf(identity: string): string {
  return t.host.tokens.issue(identity);
}
