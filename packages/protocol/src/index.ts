/**
 * @qntx/protocol: the generated QNTX plugin protocol (ts-proto messages and grpc-js service
 * definitions for DomainPluginService, the host's services — ATSStoreService, QueueService,
 * ScheduleService, FileService, FetchService, SearchService, LLMService, EmbeddingService,
 * VectorSearchService, GroundService) and the small wire helpers the host and the SDK share.
 */
export * from "./gen/domain.js";
export * from "./gen/atsstore.js";
export * from "./gen/queue.js";
export * from "./gen/schedule.js";
export * from "./gen/fileservice.js";
export * from "./gen/fetch.js";
export * from "./gen/search.js";
export * from "./gen/llm.js";
export * from "./gen/embedding.js";
export * from "./gen/vectorsearch.js";
export * from "./gen/ground.js";
export { protobufPackage, protobufFileName, type DeepPartial, type Exact, type MessageFns } from "./gen/domain.js";
export * from "./constants.js";
export * from "./port-line.js";
export * from "./headers.js";
export * from "./status.js";
export * from "./error-catalogue.js";
export * from "./errors.js";
export * from "./plugin-client.js";
export * from "./channel.js";
export * from "./ws-codec.js";
export * from "./config-check.js";
export * from "./attestation-rules.js";
export * from "./json-limits.js";
export * from "./transport.js";
export * from "./self-signed.js";
export * from "./database-errors.js";
export * from "./sql-migrations.js";
