/**
 * The host services the checked plugin gets in Initialize: the host's own ATSStoreService and
 * QueueService (the same code a running host serves), on a loopback port, backed by a SQLite
 * file in a temporary folder that is removed afterwards. A plugin that writes or reads
 * attestations during Initialize, a route or a job therefore meets the real thing, with a
 * real per-plugin token, and nothing it writes outlives the check.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteAttestationStore, openDatabase } from "@qntx/ats";
import { Pulse } from "@qntx/pulse";
import { pino } from "pino";
import { createAtsService } from "../services/ats-service.js";
import { startServicesServer } from "../services/grpc-server.js";
import { createQueueService } from "../services/queue-service.js";
import { PluginTokens } from "../services/tokens.js";

/** Running services for one check. */
export interface CheckServices {
  /** `127.0.0.1:<port>`, given in every offered endpoint field. */
  readonly address: string;
  /** Issues the token the plugin gets (once its name is known). */
  tokenFor(plugin: string): string;
  /** Registers announced handlers, so the plugin's own Enqueue and UpdateJob calls are routed. */
  registerHandlers(plugin: string, handlers: readonly string[]): Promise<void>;
  /** A queued job for `plugin/handler` (never run by a worker: the check calls ExecuteJob itself). */
  enqueue(plugin: string, handler: string): Promise<string>;
  /** How many attestations the plugin wrote so far. */
  attestationCount(): Promise<number>;
  /** Stops the server, closes the database and removes the folder. */
  close(): Promise<void>;
  /** Removes the temporary folder at once, for a process about to exit (an interrupt). */
  removeNow(): void;
}

/** Starts the services on a fresh temporary database. */
export async function startCheckServices(): Promise<CheckServices> {
  const dir = mkdtempSync(join(tmpdir(), "qntx-check-"));
  const dbPath = join(dir, "qntx.db");
  const logger = pino({ level: "silent" });
  const db = openDatabase(dbPath);
  const store = new SqliteAttestationStore(db);
  const readStore = new SqliteAttestationStore(openDatabase(dbPath, { readonly: true }), { ownsDatabase: true });
  const tokens = new PluginTokens();
  // No worker pool is started: jobs are only ever run by the check's own ExecuteJob calls.
  const pulse = new Pulse({ db, executor: async () => ({ success: false, error: "jobs do not run during a check" }) });
  let server;
  try {
    server = await startServicesServer("127.0.0.1:0", {
      ats: createAtsService({ store, readStore, tokens, logger }),
      queue: createQueueService({ pulse, tokens, logger }),
    });
  } catch (error) {
    closeAll();
    throw error;
  }
  const running = server;

  function closeAll(): void {
    // The SQLite stores close synchronously inside their async close().
    void store.close();
    void readStore.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }

  return {
    address: running.address,
    tokenFor: (plugin) => tokens.issue(plugin),
    registerHandlers: async (plugin, handlers) => {
      await pulse.registerPlugin(plugin, handlers);
    },
    enqueue: async (plugin, handler) => (await pulse.enqueue({ handler: `${plugin}/${handler}`, payload: {}, source: "qntx plugin check" })).id,
    attestationCount: async () => (await store.query({ subjects: [], predicates: [], contexts: [], actors: [] })).length,
    removeNow: () => rmSync(dir, { recursive: true, force: true }),
    close: async () => {
      await running.close();
      closeAll();
    },
  };
}
