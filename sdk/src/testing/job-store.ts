/**
 * The fake host's job queue: jobs in memory with the host's `QueueService` semantics
 * (docs/protocol.md §1.3 and §6, queue.proto): Enqueue fills what a plugin leaves empty (id, `queued`,
 * `created_at`, `source`), UpdateJob applies progress and cost to a job that has not ended,
 * ListJobs answers newest first. Nothing runs the jobs: a test looks at them, or runs one
 * through `TestPlugin.job`.
 */
import { Job } from "@qntx/protocol";

/** Statuses a job can have. */
export const JOB_STATUSES = ["queued", "running", "paused", "completed", "failed", "cancelled"] as const;

/** Jobs ListJobs answers when the request sets no limit (the host's default). */
const DEFAULT_LIST_LIMIT = 100;
const ENDED = new Set(["completed", "failed", "cancelled"]);

/** What {@link JobStore.enqueue} accepts: a wire `Job` in part; `handlerName` is required. */
export type JobInput = Partial<Job> & { handlerName: string };

/** The in-memory queue. `jobs` is the live array, in enqueue order. */
export class JobStore {
  readonly jobs: Job[] = [];
  /** The job of every UpdateJob call, as received, in arrival order (refused ones too). */
  readonly updates: Job[] = [];
  private counter = 0;

  /** Called after a job was added or changed. */
  onChanged: (job: Job) => void = () => undefined;

  /**
   * Adds a job as Enqueue does. `status` may be "", `queued` or `paused` (the host refuses
   * others); `allowAnyStatus` lets the test helpers record a job already `running`.
   */
  enqueue(input: JobInput | undefined, callerSource: string, allowAnyStatus = false): Job {
    if (!input) throw new Error("job is required (the request left it unset)");
    if (typeof input.handlerName !== "string" || input.handlerName === "") throw new Error("a job needs a handler name");
    const status = input.status ?? "";
    if (!allowAnyStatus && status !== "" && status !== "queued" && status !== "paused") {
      throw new Error(`a new job must be "queued" or "paused", not "${status}"`);
    }
    if (input.id && this.find(input.id)) throw new Error(`a job with id ${input.id} already exists`);
    const job = Job.fromPartial({
      ...input,
      // Readable ids (`job-1`, `job-2`…): ids are opaque to plugins, and these read well in test output.
      id: input.id || `job-${++this.counter}`,
      status: status || "queued",
      source: input.source || callerSource,
      createdAt: input.createdAt || Math.floor(Date.now() / 1000),
      progress: input.progress ?? { current: 0, total: 0 },
    });
    this.jobs.push(job);
    this.onChanged(job);
    return job;
  }

  /** The job with `id`, or undefined. */
  find(id: string): Job | undefined {
    return this.jobs.find((job) => job.id === id);
  }

  /** The job with `id` (GetJob). @throws Error naming the id when there is none */
  get(id: string): Job {
    if (!id) throw new Error("job_id is required");
    const job = this.find(id);
    if (!job) throw new Error(`no job with id ${id}`);
    return job;
  }

  /**
   * UpdateJob: records the call, then applies `progress` (when present) and `cost_actual`
   * (when non-zero) to a job that has not ended. Other fields, status included, are ignored,
   * as the host ignores them.
   */
  update(incoming: Job | undefined): Job {
    if (!incoming) throw new Error("job is required (the request left it unset)");
    this.updates.push(incoming);
    if (!incoming.id) throw new Error("UpdateJob needs job.id");
    const job = this.get(incoming.id);
    if (ENDED.has(job.status)) throw new Error(`job ${job.id} is already ${job.status}; progress can only be updated before it ends`);
    if (incoming.progress) job.progress = { current: incoming.progress.current, total: incoming.progress.total };
    if (incoming.costActual) job.costActual = incoming.costActual;
    this.onChanged(job);
    return job;
  }

  /** Sets fields of a job directly (the helpers mark a job's run and its end this way). */
  patch(id: string, fields: Partial<Job>): Job {
    const job = this.get(id);
    Object.assign(job, fields);
    this.onChanged(job);
    return job;
  }

  /** ListJobs: jobs of `status` ("" = all), newest first, at most `limit` (100 when unset or 0). */
  list(status: string, limit: number | undefined): Job[] {
    if (status !== "" && !(JOB_STATUSES as readonly string[]).includes(status)) {
      throw new Error(`unknown job status "${status}" (use ${JOB_STATUSES.join(", ")})`);
    }
    const max = limit !== undefined && limit > 0 ? Math.trunc(limit) : DEFAULT_LIST_LIMIT;
    const found = this.jobs.filter((job) => status === "" || job.status === status);
    // Newest first: created_at has second resolution, so enqueue order breaks ties.
    return found.map((job, i) => ({ job, i })).sort((a, b) => b.job.createdAt - a.job.createdAt || b.i - a.i).slice(0, max).map(({ job }) => job);
  }

  /** Forgets every job and update. */
  clear(): void {
    this.jobs.length = 0;
    this.updates.length = 0;
  }
}
