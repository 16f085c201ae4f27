/**
 * ATSStoreService as the host serves it to plugins. Every call checks the caller's token
 * (each plugin has its own); application errors travel in the body (`success:false`, `error`)
 * as QNTX plugins expect, never as a crash. Identity comes from the token: `source` is always
 * the calling plugin's name, whatever the request claims. The plugin's grants (`services`,
 * `attest`) and the host's input limits (JSON depth of attributes, batch size) are checked
 * before anything is written. Streams go from the database to the wire with backpressure.
 */
import { Metadata, status, type ServerWritableStream } from "@grpc/grpc-js";
import type { AttestationStore } from "@qntx/ats";
import { jsonDepthExceeds, tooDeepMessage, type ATSStoreServiceServer, type Attestation, type GetAttestationsRequest } from "@qntx/protocol";
import type { Logger } from "pino";
import type { GrantChecker } from "./grants.js";
import type { PluginTokens } from "./tokens.js";

/** The error text QNTX answers for a bad token; plugins may match on it. */
export const INVALID_TOKEN = "invalid authentication token";

/** Unread attestations a watch stream may hold before the host ends it. */
const WATCH_MAX_BEHIND = 10_000;

/** Rows written to a stream before yielding to the event loop (keeps other work flowing). */
const STREAM_CHUNK = 256;

/** The body fields every response of the host's services carries. */
export interface BodyStatus {
  success: boolean;
  error: string;
}

/** Most attestations one BatchGenerateAndCreateAttestations call may create. */
export const MAX_BATCH_COMMANDS = 10_000;

/** What the service needs. */
export interface AtsServiceDeps {
  /** The store writes go to (and watches are registered on). */
  readonly store: AttestationStore;
  /** A store on its own read connection, for long streams that must not block writers. */
  readonly readStore: AttestationStore;
  readonly tokens: PluginTokens;
  /** Each plugin's grants; without it every plugin may do everything. */
  readonly grants?: GrantChecker;
  readonly logger: Logger;
}

/** Builds the grpc-js implementation of ATSStoreService. */
export function createAtsService({ store, readStore, tokens, grants, logger }: AtsServiceDeps): ATSStoreServiceServer {
  /** Runs `work` for an authenticated plugin with the ATS granted; any failure becomes a body error. */
  const guarded = async <E extends object>(token: string, empty: E, work: (plugin: string) => Promise<Partial<E>>): Promise<E & BodyStatus> => {
    const plugin = tokens.pluginFor(token);
    if (!plugin) return { ...empty, success: false, error: INVALID_TOKEN };
    const refused = grants?.refusal(plugin, "services", "ats");
    if (refused) return { ...empty, success: false, error: refused };
    try {
      return { ...empty, ...(await work(plugin)), success: true, error: "" };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      logger.debug({ plugin, err: message }, "ats call refused");
      return { ...empty, success: false, error: message };
    }
  };

  /** Refuses a write the plugin's `attest` grant or the host's depth limit does not allow. */
  const checkWrite = (plugin: string, predicates: readonly string[], attributes: unknown): void => {
    // Empty predicates are stored as "_" (the store's default): that is what is granted.
    const refused = grants?.refusalOfAny(plugin, "attest", predicates.length > 0 ? predicates : ["_"]);
    if (refused) throw new Error(refused);
    if (attributes !== undefined && jsonDepthExceeds(attributes)) throw new Error(tooDeepMessage("the attestation's attributes"));
  };

  return {
    createAttestation(call, callback) {
      void guarded(call.request.authToken, {}, async (plugin) => {
        const attestation = required(call.request.attestation, "attestation");
        checkWrite(plugin, attestation.predicates, attestation.attributes);
        await store.create({ ...attestation, source: plugin });
        return {};
      }).then((body) => callback(null, body));
    },

    attestationExists(call, callback) {
      // QNTX answers exists:false on a bad token (no error field in this response).
      const plugin = tokens.pluginFor(call.request.authToken);
      if (plugin === undefined || call.request.id === "") return void callback(null, { exists: false });
      store.exists(call.request.id).then(
        (exists) => callback(null, { exists }),
        // No error field either: a store that cannot answer is a failed call, not "does not exist".
        (error: unknown) => callback({ code: status.UNAVAILABLE, details: error instanceof Error ? error.message : String(error) }),
      );
    },

    generateAndCreateAttestation(call, callback) {
      void guarded(call.request.authToken, { attestation: undefined as Attestation | undefined }, async (plugin) => {
        const command = required(call.request.command, "command");
        checkWrite(plugin, command.predicates, command.attributes);
        return { attestation: await store.generateAndCreate({ ...command, source: plugin }, { source: plugin }) };
      }).then((body) => callback(null, body));
    },

    batchGenerateAndCreateAttestations(call, callback) {
      void guarded(call.request.authToken, { created: 0 }, async (plugin) => {
        const commands = call.request.commands;
        if (commands.length > MAX_BATCH_COMMANDS) {
          throw new Error(`a batch may create at most ${MAX_BATCH_COMMANDS} attestations (got ${commands.length}): split it`);
        }
        // All or nothing: one refused command refuses the batch before anything is written.
        for (const command of commands) checkWrite(plugin, command.predicates, command.attributes);
        return { created: (await store.batchGenerateAndCreate(commands.map((c) => ({ ...c, source: plugin })), { source: plugin })).length };
      }).then((body) => callback(null, body));
    },

    getAttestations(call, callback) {
      void guarded(call.request.authToken, { attestations: [] as Attestation[] }, async () => ({
        attestations: await store.query(required(call.request.filter, "filter")),
      })).then((body) => callback(null, body));
    },

    getAttestationsStream(call) {
      if (!authorizeStream(call, tokens, grants)) return;
      const filter = call.request.filter;
      if (!filter) return void call.emit("error", { code: status.INVALID_ARGUMENT, details: missing("filter") });
      let rows: AsyncIterableIterator<Attestation>;
      try {
        rows = readStore.iterate(filter);
      } catch (error) {
        // A malformed filter: said before any row, as the stream's status.
        return void call.emit("error", { code: status.INVALID_ARGUMENT, details: error instanceof Error ? error.message : String(error) });
      }
      void streamRows(call, rows, logger);
    },

    watchAttestations(call) {
      if (!authorizeStream(call, tokens, grants)) return;
      const filter = call.request.filter ?? { subjects: [], predicates: [], contexts: [], actors: [] };
      // A watcher that stops reading must not make the host buffer every new attestation:
      // past WATCH_MAX_BEHIND unread ones the stream ends, and the client re-watches and queries.
      let behind = 0;
      call.on("drain", () => (behind = 0));
      const unsubscribe = store.watch(filter, (attestation) => {
        if (call.cancelled || call.destroyed) return;
        if (!call.write(attestation) && ++behind > WATCH_MAX_BEHIND) {
          unsubscribe();
          call.emit("error", { code: status.RESOURCE_EXHAUSTED, details: `watch fell ${WATCH_MAX_BEHIND} attestations behind; watch again and query what was missed` });
        }
      });
      // Headers now tell the client the watch is armed: writes from here on will reach it.
      call.sendMetadata(new Metadata());
      const stop = (): void => unsubscribe();
      call.once("cancelled", stop);
      call.once("close", stop);
      call.once("error", stop);
    },
  };
}

function authorizeStream(call: ServerWritableStream<GetAttestationsRequest, Attestation>, tokens: PluginTokens, grants: GrantChecker | undefined): boolean {
  const plugin = tokens.pluginFor(call.request.authToken);
  if (!plugin) {
    call.emit("error", { code: status.UNAUTHENTICATED, details: INVALID_TOKEN });
    return false;
  }
  const refused = grants?.refusal(plugin, "services", "ats");
  if (refused) {
    call.emit("error", { code: status.PERMISSION_DENIED, details: refused });
    return false;
  }
  return true;
}

/**
 * Writes rows in chunks, waiting for `drain` when the client reads slowly. The iterator runs
 * on the read connection, so a slow reader never blocks writers on the main connection.
 */
async function streamRows(call: ServerWritableStream<GetAttestationsRequest, Attestation>, rows: AsyncIterableIterator<Attestation>, logger: Logger): Promise<void> {
  let cancelled = false;
  call.once("cancelled", () => (cancelled = true));
  try {
    let sent = 0;
    for await (const row of rows) {
      if (cancelled) break;
      if (call.destroyed) break;
      const more = call.write(row);
      // A cancelled call is destroyed and never drains: wait for either, or the cursor (and
      // its read snapshot, which holds back WAL checkpoints) would stay open for ever.
      if (!more) await new Promise((resolve) => { call.once("drain", resolve); call.once("close", resolve); call.once("cancelled", resolve); });
      else if (++sent % STREAM_CHUNK === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    if (!cancelled) call.end();
  } catch (error) {
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, "attestation stream failed");
    call.emit("error", { code: status.INTERNAL, details: error instanceof Error ? error.message : String(error) });
  } finally {
    await rows.return?.();
  }
}

/** The sub-message `field` of a request, or an error naming it (never a crash on an unset one). */
export function required<T>(value: T | undefined, field: string): T {
  if (value === undefined || value === null) throw new Error(missing(field));
  return value;
}

function missing(field: string): string {
  return `${field} is required (the request left it unset)`;
}
