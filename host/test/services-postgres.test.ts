/**
 * The host's ATSStoreService on the PostgreSQL store, two "hosts" on one database, over real
 * gRPC: what a plugin writes through one host is in the other's GetAttestations and
 * GetAttestationsStream at once and reaches a WatchAttestations stream on the other. (Starting
 * whole hosts on PostgreSQL is issue 17 part 2; here each host is its services server.)
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import * as grpc from "@grpc/grpc-js";
import { openDatabase, PostgresAttestationStore, type SqliteDatabase } from "@qntx/ats";
import { ATSStoreServiceClient, AttestationCommand, type Attestation } from "@qntx/protocol";
import { Pulse } from "@qntx/pulse";
import { createTestDatabase, pgSkipReason, type TestDatabase } from "@qntx/testing-pg";
import { pino } from "pino";
import { createAtsService } from "../src/services/ats-service.js";
import { startServicesServer, type ServicesServer } from "../src/services/grpc-server.js";
import { createQueueService } from "../src/services/queue-service.js";
import { PluginTokens } from "../src/services/tokens.js";
import { cleanupTempDirs, makeTempDir } from "./helpers/tmp.js";

interface ServiceHost {
  readonly client: ATSStoreServiceClient;
  readonly token: string;
  close(): Promise<void>;
}

/** One host's services: the ATS on the shared PostgreSQL database, the queue on its own SQLite file. */
async function serviceHost(url: string): Promise<ServiceHost> {
  const logger = pino({ level: "silent" });
  const store = await PostgresAttestationStore.open(url, { pollIntervalMs: 200 });
  const db: SqliteDatabase = openDatabase(join(makeTempDir(), "qntx.db"));
  const pulse = new Pulse({ db, executor: async () => ({ success: false, error: "no jobs here" }) });
  const tokens = new PluginTokens();
  const server: ServicesServer = await startServicesServer("127.0.0.1:0", {
    // The PostgreSQL store streams from its own cursor connections: it is its own read store.
    ats: createAtsService({ store, readStore: store, tokens, logger }),
    queue: createQueueService({ pulse, tokens, logger }),
  });
  const client = new ATSStoreServiceClient(server.address, grpc.credentials.createInsecure());
  return {
    client,
    token: tokens.issue("notes"),
    close: async () => {
      client.close();
      await server.close();
      await store.close();
      db.close();
    },
  };
}

const unary = <Res>(host: ServiceHost, method: string, request: object): Promise<Res> =>
  new Promise((resolve, reject) => {
    const fn = (host.client as unknown as Record<string, (r: object, cb: (e: grpc.ServiceError | null, v: Res) => void) => void>)[method]!;
    fn.call(host.client, { authToken: host.token, ...request }, (error, value) => (error ? reject(error) : resolve(value)));
  });

const describePg = pgSkipReason() ? describe.skip : describe;

describePg("ATSStoreService on PostgreSQL, two hosts", () => {
  let db: TestDatabase;
  let a: ServiceHost;
  let b: ServiceHost;
  beforeAll(async () => {
    db = await createTestDatabase();
    a = await serviceHost(db.url);
    b = await serviceHost(db.url);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
    cleanupTempDirs();
  });

  it("streams a write made through one host to a watch on the other, and both read it", async () => {
    const filter = { subjects: ["shared-note"], predicates: [], contexts: [], actors: [] };
    const watch = a.client.watchAttestations({ authToken: a.token, filter });
    const seen: Attestation[] = [];
    const arrived = new Promise<void>((resolve) => watch.on("data", (x: Attestation) => (seen.push(x), resolve())));
    watch.on("error", () => undefined); // the cancel at the end
    // Headers mean the watch is armed.
    await new Promise((resolve) => watch.once("metadata", resolve));
    const created = await unary<{ success: boolean; attestation: Attestation }>(b, "generateAndCreateAttestation", {
      command: AttestationCommand.fromPartial({ subjects: ["shared-note"], predicates: ["says"], attributes: { text: "hello from b" } }),
    });
    expect(created.success).toBe(true);
    await arrived;
    watch.cancel();
    expect(seen.map((x) => [x.id, x.source, x.attributes])).toEqual([[created.attestation.id, "notes", { text: "hello from b" }]]);

    const read = await unary<{ success: boolean; attestations: Attestation[] }>(a, "getAttestations", { filter });
    expect(read.attestations.map((x) => x.id)).toEqual([created.attestation.id]);
    expect(await unary<{ exists: boolean }>(a, "attestationExists", { id: created.attestation.id })).toEqual({ exists: true });
    const streamed: string[] = [];
    const stream = a.client.getAttestationsStream({ authToken: a.token, filter });
    stream.on("data", (x: Attestation) => streamed.push(x.id));
    await new Promise((resolve, reject) => (stream.on("end", resolve), stream.on("error", reject)));
    expect(streamed).toEqual([created.attestation.id]);
  });
});
