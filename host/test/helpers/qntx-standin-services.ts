/**
 * The host side services of the QNTX-host stand-in (see qntx-standin.ts): a small in-memory
 * ATSStoreService and QueueService on one loopback gRPC server, written only from
 * docs/protocol.md §1.2, §1.3 (atsstore.proto, queue.proto) and §5 (errors in the answer)
 * and loaded with @grpc/proto-loader, so nothing here comes from the host's own code.
 *
 * QNTX's conventions kept here: one shared auth token; a bad token or a bad request is an
 * answer with `success:false` and `error` in the body (status OK); AttestationExists answers
 * `exists:false` on a bad token; a stream ends with a gRPC error instead.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";

/** The repository's proto folder. */
export const PROTO_DIR = fileURLToPath(new URL("../../../proto", import.meta.url));

/** proto-loader options: field names as in the .proto files (snake_case), int64 as strings. */
export const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: Number, defaults: true, oneofs: true, includeDirs: [PROTO_DIR] };

/** What QNTX answers for a bad token (plugins may match on it). */
export const BAD_TOKEN = "invalid authentication token";

/** `package protocol` of the given .proto files, as grpc-js constructors. */
export function loadProtocol(...files: string[]): Record<string, grpc.ServiceClientConstructor & { service: grpc.ServiceDefinition }> {
  const definition = protoLoader.loadSync(files, LOADER_OPTIONS);
  return grpc.loadPackageDefinition(definition).protocol as never;
}

/** An attestation as proto-loader hands it over (snake_case, int64 as strings). */
export interface StoredAttestation {
  id: string;
  subjects: string[];
  predicates: string[];
  contexts: string[];
  actors: string[];
  timestamp: string;
  source: string;
  attributes: { fields: Record<string, unknown> } | null;
  created_at: string;
  signature: Buffer;
  signer_did: string;
}

/** A queue call the stand-in received (UpdateJob and Enqueue), in arrival order. */
export interface QueueCall {
  method: "Enqueue" | "UpdateJob";
  job: { id: string; handler_name: string; status: string; progress: { current: number; total: number } | null; payload: Buffer };
}

/** The running stand-in services. */
export interface StandinServices {
  /** `127.0.0.1:<port>`: no scheme, as QNTX puts it in InitializeRequest. */
  readonly address: string;
  /** The token the services accept. */
  readonly token: string;
  readonly attestations: StoredAttestation[];
  readonly queueCalls: QueueCall[];
  close(): Promise<void>;
}

type Unary = (call: { request: any }, callback: (error: grpc.ServiceError | null, response?: unknown) => void) => void;

const now = (): string => String(Date.now());
const orDefault = (values: string[]): string[] => (values.length ? values : ["_"]);
const token = (values: string[]): string => (values[0] ?? "_").replace(/[^A-Za-z0-9]/g, "").slice(0, 8) || "X";

/** Whether `a` matches `filter`: OR within a dimension, AND across, inclusive time bounds. */
function matches(a: StoredAttestation, filter: any): boolean {
  for (const dim of ["subjects", "predicates", "contexts", "actors"] as const) {
    const wanted: string[] = filter[dim] ?? [];
    if (wanted.length && !wanted.some((v) => a[dim].includes(v))) return false;
  }
  const ts = Number(a.timestamp);
  if (filter.time_start != null && ts < Number(filter.time_start)) return false;
  if (filter.time_end != null && ts > Number(filter.time_end)) return false;
  return true;
}

/** Starts ATSStoreService and QueueService on one loopback port (`0` = any). */
export async function startStandinServices(authToken = randomBytes(16).toString("hex")): Promise<StandinServices> {
  const protocol = loadProtocol("atsstore.proto", "queue.proto");
  const attestations: StoredAttestation[] = [];
  const queueCalls: QueueCall[] = [];
  const jobs = new Map<string, QueueCall["job"]>();

  /** Token check and error convention: every failure is a body error. */
  const body = (empty: object, work: (request: any) => object): Unary => (call, callback) => {
    if (call.request.auth_token !== authToken) return callback(null, { ...empty, success: false, error: BAD_TOKEN });
    try {
      callback(null, { ...empty, ...work(call.request), success: true, error: "" });
    } catch (error) {
      callback(null, { ...empty, success: false, error: (error as Error).message });
    }
  };
  const generate = (command: any): StoredAttestation => {
    if (!command) throw new Error("command is required");
    const subjects: string[] = command.subjects ?? [];
    const predicates = orDefault(command.predicates ?? []);
    const contexts = orDefault(command.contexts ?? []);
    const attributes = { fields: { ...(command.attributes?.fields ?? {}) } };
    if (command.source_version) attributes.fields.source_version = { stringValue: command.source_version, kind: "stringValue" };
    const id = `AS-${token(subjects)}-${token(predicates)}-${token(contexts)}-${randomBytes(6).toString("base64url").slice(0, 8)}`;
    const stored: StoredAttestation = {
      // QNTX's stores make every generated attestation its own (only) actor: self-certifying.
      id, subjects, predicates, contexts, actors: [id],
      timestamp: command.timestamp != null ? String(command.timestamp) : now(),
      source: command.source || "plugin", attributes, created_at: now(), signature: Buffer.alloc(0), signer_did: "",
    };
    attestations.push(stored);
    return stored;
  };
  const query = (filter: any): StoredAttestation[] => {
    if (!filter) throw new Error("filter is required");
    const found = attestations.filter((a) => matches(a, filter)).sort((x, y) => Number(y.created_at) - Number(x.created_at));
    return filter.limit ? found.slice(0, filter.limit) : found;
  };

  const server = new grpc.Server();
  server.addService(protocol.ATSStoreService!.service, {
    CreateAttestation: body({}, (r) => {
      if (!r.attestation) throw new Error("attestation is required");
      attestations.push({ ...r.attestation, created_at: now() });
      return {};
    }),
    AttestationExists: ((call, callback) => {
      callback(null, { exists: call.request.auth_token === authToken && attestations.some((a) => a.id === call.request.id) });
    }) as Unary,
    GenerateAndCreateAttestation: body({ attestation: null }, (r) => ({ attestation: generate(r.command) })),
    BatchGenerateAndCreateAttestations: body({ created: 0 }, (r) => ({ created: (r.commands as unknown[]).map(generate).length })),
    GetAttestations: body({ attestations: [] }, (r) => ({ attestations: query(r.filter) })),
    GetAttestationsStream: (call: grpc.ServerWritableStream<any, unknown>) => {
      if (call.request.auth_token !== authToken) return call.emit("error", { code: grpc.status.UNAUTHENTICATED, details: BAD_TOKEN });
      if (!call.request.filter) return call.emit("error", { code: grpc.status.INVALID_ARGUMENT, details: "filter is required" });
      for (const a of query(call.request.filter)) call.write(a);
      call.end();
    },
    WatchAttestations: (call: grpc.ServerWritableStream<any, unknown>) => {
      call.emit("error", { code: grpc.status.UNIMPLEMENTED, details: "QNTX has no WatchAttestations" });
    },
  });
  server.addService(protocol.QueueService!.service, {
    Enqueue: body({ job_id: "" }, (r) => {
      if (!r.job) throw new Error("job is required");
      const job = { ...r.job, id: r.job.id || randomBytes(8).toString("hex"), status: r.job.status || "queued" };
      jobs.set(job.id, job);
      queueCalls.push({ method: "Enqueue", job });
      return { job_id: job.id };
    }),
    GetJob: body({ job: null }, (r) => {
      const job = jobs.get(r.job_id);
      if (!job) throw new Error(`no job with id ${r.job_id}`);
      return { job };
    }),
    UpdateJob: body({}, (r) => {
      if (!r.job) throw new Error("job is required");
      // QNTX trusts the client: an update of a job it never saw is stored as it comes.
      jobs.set(r.job.id, { ...jobs.get(r.job.id), ...r.job });
      queueCalls.push({ method: "UpdateJob", job: r.job });
      return {};
    }),
    ListJobs: body({ jobs: [] }, (r) => ({ jobs: [...jobs.values()].filter((j) => !r.status || j.status === r.status) })),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `127.0.0.1:${port}`,
    token: authToken,
    attestations,
    queueCalls,
    close: () => new Promise<void>((resolve) => {
      const timer = setTimeout(() => server.forceShutdown(), 1000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    }),
  };
}

/** A `google.protobuf.Struct` as proto-loader decodes it, turned into plain JSON. */
export function structToJson(struct: { fields?: Record<string, any> } | null | undefined): Record<string, unknown> {
  const value = (v: any): unknown => {
    if (!v) return null;
    switch (v.kind) {
      case "stringValue": return v.stringValue;
      case "numberValue": return v.numberValue;
      case "boolValue": return v.boolValue;
      case "structValue": return structToJson(v.structValue);
      case "listValue": return (v.listValue?.values ?? []).map(value);
      default: return null;
    }
  };
  return Object.fromEntries(Object.entries(struct?.fields ?? {}).map(([k, v]) => [k, value(v)]));
}
