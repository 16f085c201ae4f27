/**
 * The host services beyond the attestation store and the queue, assembled in one place for
 * `server.ts`: the ones the host implements itself (ScheduleService, FileService, FetchService,
 * SearchService's built-in index) and the ones it routes to provider plugins (LLMService,
 * EmbeddingService, VectorSearchService, SearchService once a plugin provides it). All are
 * served on the one services port, so every endpoint of InitializeRequest is that address,
 * except `ground_endpoint` (QNTX's own tooling: not offered).
 */
import { join } from "node:path";
import type Database from "better-sqlite3";
import type { AttestationStore } from "@qntx/ats";
import type { ServiceDefinition, UntypedServiceImplementation } from "@grpc/grpc-js";
import {
  EmbeddingServiceService, FetchServiceService, FileServiceService, LLMServiceService, ScheduleServiceService, SearchServiceService,
  VectorSearchServiceService, type InitializeRequest,
} from "@qntx/protocol";
import type { Pulse } from "@qntx/pulse";
import type { Logger } from "pino";
import type { Budget } from "../budget/budget.js";
import type { ServiceSettings } from "../config/types.js";
import type { Registry } from "../plugin/registry.js";
import { Callers } from "./caller.js";
import { createEmbeddingService } from "./embedding-service.js";
import { createFetchService } from "./fetch-service.js";
import { createFileService } from "./file-service.js";
import { FileStore } from "./file-store.js";
import type { GrantChecker } from "./grants.js";
import { createLlmService } from "./llm-service.js";
import { ProviderRouter } from "./provider-router.js";
import { createScheduleService } from "./schedule-service.js";
import { SearchIndex } from "./search-index.js";
import { createSearchService } from "./search-service.js";
import type { PluginTokens } from "./tokens.js";
import { createVectorSearchService } from "./vector-search-service.js";

/** What the services need from the host. */
export interface ServiceMeshDeps {
  readonly db: Database.Database;
  readonly store: AttestationStore;
  readonly pulse: Pulse;
  readonly registry: Registry;
  readonly tokens: PluginTokens;
  readonly grants: GrantChecker;
  readonly budget: Budget;
  readonly settings: ServiceSettings;
  readonly dataDir: string;
  readonly logger: Logger;
}

/** The assembled services. */
export interface ServiceMesh {
  /** Definitions and implementations for the services server. */
  readonly services: ReadonlyArray<{ readonly definition: ServiceDefinition; readonly implementation: UntypedServiceImplementation }>;
  /** Which plugin serves each routed service. */
  readonly router: ProviderRouter;
  /** The files FileService reads (and `POST /api/files` writes). */
  readonly files: FileStore;
  /** Stops following the registry. */
  close(): void;
}

/** Builds every service of the mesh (nothing listens yet: the services server serves them). */
export function createServiceMesh(deps: ServiceMeshDeps): ServiceMesh {
  const { logger } = deps;
  const callers = new Callers(deps.tokens, deps.grants);
  const router = new ProviderRouter(deps.registry, deps.settings.providers, logger.child({ component: "providers" }));
  const files = new FileStore(join(deps.dataDir, "files"), deps.settings.fileMaxBytes);
  const routing = { router, callers, budget: deps.budget, logger: logger.child({ component: "providers" }) };
  const services = [
    { definition: ScheduleServiceService, implementation: createScheduleService({ pulse: deps.pulse, callers, grants: deps.grants, logger: logger.child({ component: "schedule" }) }) },
    { definition: FileServiceService, implementation: createFileService({ files, callers, logger: logger.child({ component: "files" }) }) },
    { definition: FetchServiceService, implementation: createFetchService({ store: deps.store, settings: deps.settings, callers, grants: deps.grants, logger: logger.child({ component: "fetch" }) }) },
    { definition: SearchServiceService, implementation: createSearchService(routing, new SearchIndex(deps.db)) },
    { definition: LLMServiceService, implementation: createLlmService(routing) },
    { definition: EmbeddingServiceService, implementation: createEmbeddingService(routing) },
    { definition: VectorSearchServiceService, implementation: createVectorSearchService(routing) },
  ] as ReadonlyArray<{ definition: ServiceDefinition; implementation: UntypedServiceImplementation }>;
  return { services, router, files, close: () => router.close() };
}

/** InitializeRequest's endpoints: every service on the services server; Ground not offered (""). */
export function offeredEndpoints(address: string): Omit<InitializeRequest, "authToken" | "config"> {
  return {
    atsStoreEndpoint: address, queueEndpoint: address, scheduleEndpoint: address, fileServiceEndpoint: address, llmEndpoint: address,
    embeddingEndpoint: address, vectorSearchEndpoint: address, groundEndpoint: "", searchEndpoint: address, fetchEndpoint: address,
  };
}
