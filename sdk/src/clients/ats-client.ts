/**
 * `AtsClient`: a typed promise API over the host's `ATSStoreService` (docs/protocol.md
 * §1.2, atsstore.proto). One gRPC channel per client, created once and reused by every call.
 */
import { credentials } from "@grpc/grpc-js";
import {
  ATSStoreServiceClient,
  AttestationCommand,
  AttestationFilter,
  grpcOptions,
  type Attestation,
} from "@qntx/protocol";
import { checkBody, DEFAULT_HOST_CALL_TIMEOUT_MS, HostServiceError, streamCall, unaryCall, type HostCallOptions, type HostClientOptions } from "./call.js";

/** What `create` needs: subjects, and any other `AttestationCommand` field. */
export type AttestationInput = Partial<AttestationCommand> & { subjects: string[] };

/** Options of {@link AtsClient.watch}. */
export interface WatchOptions {
  /** Ends the iteration (and the call) when aborted. Without it, break out of the loop to stop. */
  signal?: AbortSignal;
  /** Deadline of the whole watch in milliseconds. Default: none (a watch is long-lived). */
  timeoutMs?: number;
}

/**
 * The host's attestation store. Every method sends the `auth_token` given at `Initialize`
 * and has a deadline (10 s unless `timeoutMs` says otherwise). Errors are
 * {@link HostServiceError}s: `code "HOST_ERROR"` with the host's message when it answers
 * `success:false` (e.g. `invalid authentication token`), `"HOST_CALL_FAILED"` on a gRPC status.
 */
export interface AtsClient {
  /** `host:port` this client talks to. */
  readonly endpoint: string;
  /**
   * Creates one attestation (`GenerateAndCreateAttestation`); the host picks the id.
   * Empty predicates/contexts default to `["_"]`, an empty source to `"plugin"`.
   */
  create(command: AttestationInput, options?: HostCallOptions): Promise<Attestation>;
  /** Creates many in one call (`BatchGenerateAndCreateAttestations`); resolves with how many were created. */
  createMany(commands: readonly AttestationInput[], options?: HostCallOptions): Promise<number>;
  /**
   * Attestations matching `filter` (`GetAttestations`), newest `created_at` first. Within one
   * dimension values are OR-ed, across dimensions AND-ed; `limit` unset or 0 = no limit.
   */
  query(filter?: Partial<AttestationFilter>, options?: HostCallOptions): Promise<Attestation[]>;
  /**
   * Like `query`, one attestation at a time (`GetAttestationsStream`), for large results.
   * The deadline covers the whole stream; pass `timeoutMs: 0` to lift it.
   */
  stream(filter?: Partial<AttestationFilter>, options?: HostCallOptions): AsyncIterable<Attestation>;
  /** Whether an attestation with this id exists (`AttestationExists`). QNTX answers false on a bad token. */
  exists(id: string, options?: HostCallOptions): Promise<boolean>;
  /**
   * Attestations matching `filter` as they are created (`WatchAttestations`, a server stream
   * this host adds beyond QNTX). The iteration ends when `signal` aborts.
   * A QNTX host does not implement it: iterating throws a `HostServiceError` with
   * `grpcCode` 12 (UNIMPLEMENTED); fall back to polling `query` with `timeStart`.
   */
  watch(filter?: Partial<AttestationFilter>, options?: WatchOptions): AsyncIterable<Attestation>;
  /** Closes the channel. Calls made afterwards fail. */
  close(): void;
}

const SERVICE = "ATSStoreService";

/**
 * A client of the `ATSStoreService` at `endpoint` (`host:port`, no scheme) that sends
 * `authToken` with every call. The SDK builds one at `Initialize` (`ctx.ats`); build your own
 * only outside a plugin (scripts, tests).
 */
export function createAtsClient(endpoint: string, authToken: string, options: HostClientOptions = {}): AtsClient {
  if (!endpoint) throw new TypeError("createAtsClient: endpoint must be host:port");
  const client = new ATSStoreServiceClient(endpoint, options.credentials ?? credentials.createInsecure(), { ...grpcOptions(), ...options.channelOptions });
  const timeoutMs = options.timeoutMs ?? DEFAULT_HOST_CALL_TIMEOUT_MS;
  const request = (filter: Partial<AttestationFilter> | undefined) => ({ authToken, filter: AttestationFilter.fromPartial(filter ?? {}) });

  return {
    endpoint,

    async create(command, callOptions) {
      const method = `${SERVICE}/GenerateAndCreateAttestation`;
      const res = await unaryCall(client, client.generateAndCreateAttestation, method, { authToken, command: AttestationCommand.fromPartial(command) }, timeoutMs, callOptions);
      checkBody(method, res);
      if (!res.attestation) throw new HostServiceError("HOST_ERROR", method, "the host answered success without the attestation");
      return res.attestation;
    },

    async createMany(commands, callOptions) {
      const method = `${SERVICE}/BatchGenerateAndCreateAttestations`;
      const res = await unaryCall(
        client,
        client.batchGenerateAndCreateAttestations,
        method,
        { authToken, commands: commands.map((command) => AttestationCommand.fromPartial(command)) },
        timeoutMs,
        callOptions,
      );
      checkBody(method, res);
      return res.created;
    },

    async query(filter, callOptions) {
      const method = `${SERVICE}/GetAttestations`;
      const res = await unaryCall(client, client.getAttestations, method, request(filter), timeoutMs, callOptions);
      checkBody(method, res);
      return res.attestations;
    },

    stream(filter, callOptions) {
      return streamCall(client, client.getAttestationsStream, `${SERVICE}/GetAttestationsStream`, request(filter), timeoutMs, callOptions);
    },

    async exists(id, callOptions) {
      const res = await unaryCall(client, client.attestationExists, `${SERVICE}/AttestationExists`, { authToken, id }, timeoutMs, callOptions);
      return res.exists;
    },

    watch(filter, watchOptions = {}) {
      // No default deadline: a watch lasts until the caller stops it.
      return streamCall(client, client.watchAttestations, `${SERVICE}/WatchAttestations`, request(filter), 0, watchOptions);
    },

    close: () => client.close(),
  };
}
