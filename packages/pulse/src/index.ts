/**
 * @qntx/pulse: the durable job queue of the qntx host. Jobs with leases on SQLite (the
 * default) or PostgreSQL (several hosts sharing one queue), retries with
 * backoff, cancellation, schedules, a handler registry (`plugin/handler` routing) and a worker
 * pool that calls an executor the host plugs in. Knows nothing about gRPC or plugin processes.
 */
export { Pulse, type PulseOptions } from "./queue.js";
export { newJobRecord, type EnqueueInput, type JobUpdate, type PayloadInput } from "./enqueue-input.js";
export { type PulseEvents } from "./events.js";
export { JobDeferred, JobRefused } from "./executor.js";
export {
  WorkerPool,
  newOwnerId,
  type Executor,
  type ExecutorCall,
  type ExecutorResult,
  type WorkerPoolOptions,
} from "./pool.js";
export { HandlerRegistry, type HandlerEntry, type HandlerChangeListener } from "./handlers.js";
export { Scheduler, type ScheduleInput, type SchedulerOptions } from "./scheduler.js";
export {
  SqliteScheduleStore,
  type FireResult,
  type ScheduleRecord,
  type ScheduleSpec,
  type ScheduleStore,
} from "./schedule-store.js";
export {
  SqlitePluginScheduleStore,
  type NewPluginSchedule,
  type PluginScheduleRecord,
  type PluginScheduleState,
  type PluginScheduleStore,
} from "./plugin-schedule-store.js";
export type { ClaimRequest, Fence, FinishOp, JobStore, ProgressPatch, RenewResult, RunOutput } from "./job-store.js";
export { SqliteJobStore } from "./sqlite-job-store.js";
export { PgJobStore } from "./pg-job-store.js";
export { PgPluginScheduleStore, PgScheduleStore } from "./pg-schedule-stores.js";
export { openPgPulseStores, PG_PULSE_MIGRATIONS_DIR, PULSE_NAMESPACE, type OpenPgPulseOptions, type PgPulseStores } from "./pg-open.js";
export { JOBS_CHANNEL } from "./pg-job-statements.js";
export { DatabaseAvailability, type DatabaseHealth } from "./pg-availability.js";
export {
  JOB_STATUSES,
  TERMINAL_STATUSES,
  isJobStatus,
  toWireJob,
  type JobProgress,
  type JobStatus,
  type ListQuery,
  type NewJobRecord,
  type PulseJob,
  type PulseJobDetail,
  type PulseLogEntry,
} from "./types.js";
export { PulseError, isPulseError, type PulseErrorCode } from "./errors.js";
export { migrate, schemaVersion } from "./migrations.js";
export { PULSE_MIGRATIONS } from "./schema.js";
export { backoffDelay, type BackoffOptions } from "./backoff.js";
export { silentLogger, systemClock, type Clock, type PulseLogger } from "./logger.js";
