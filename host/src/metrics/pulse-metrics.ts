/**
 * Pulse's series, from its typed events (`job:claimed`, `job:completed`, `job:failed`,
 * `job:retried`, `lease:reclaimed`) and its per-status counts at scrape time; and the
 * attestation store's writes (an unfiltered watch) and queries served (counted where the
 * host hands out its stores). The `handler` label is a qualified handler (`plugin/handler`):
 * the set plugins announced, never a job id.
 */
import type { AttestationStore } from "@qntx/ats";
import { JOB_STATUSES, type Pulse, type PulseJob } from "@qntx/pulse";
import { Counter, Gauge, Histogram, type Prom } from "./prom.js";

/** Job waits and runs, from 10 ms to half an hour. */
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];
const ATTEMPT_BUCKETS = [1, 2, 3, 5, 10];

/** See the file comment. */
export class PulseMetrics {
  private readonly jobs: Prom.Counter<"handler" | "outcome">;
  private readonly starts: Prom.Counter<"handler">;
  private readonly wait: Prom.Histogram<"handler">;
  private readonly duration: Prom.Histogram<"handler" | "outcome">;
  private readonly attempts: Prom.Histogram<"handler">;
  private readonly reclaimed: Prom.Counter<"cause">;
  private readonly written: Prom.Counter;
  private readonly queries: Prom.Counter<"kind">;

  constructor(registers: Prom.Registry[], pulse: Pulse) {
    new Gauge({
      name: "qntx_pulse_queue_depth", help: "Jobs in Pulse's store by status.", labelNames: ["status"], registers,
      async collect() {
        const counts = await pulse.counts();
        for (const status of JOB_STATUSES) this.set({ status }, counts[status] ?? 0);
      },
    });
    this.jobs = new Counter({ name: "qntx_pulse_jobs_total", help: "Runs that ended, by handler and outcome: completed, failed (no attempt left) or retried.", labelNames: ["handler", "outcome"], registers });
    this.starts = new Counter({ name: "qntx_pulse_job_starts_total", help: "Runs started (a job claimed by this host's pool), by handler.", labelNames: ["handler"], registers });
    this.wait = new Histogram({ name: "qntx_pulse_job_wait_seconds", help: "From a job being due (enqueued, or its retry time) to its run starting.", labelNames: ["handler"], buckets: JOB_BUCKETS, registers });
    this.duration = new Histogram({ name: "qntx_pulse_job_duration_seconds", help: "How long a run took, by handler and outcome.", labelNames: ["handler", "outcome"], buckets: JOB_BUCKETS, registers });
    this.attempts = new Histogram({ name: "qntx_pulse_job_attempts", help: "Attempts a job took, counted when it completed or failed for good.", labelNames: ["handler"], buckets: ATTEMPT_BUCKETS, registers });
    this.reclaimed = new Counter({ name: "qntx_pulse_leases_reclaimed_total", help: "Running jobs whose lease nobody renewed, taken back: expired (a worker stopped renewing) or recovered (left by a host that died).", labelNames: ["cause"], registers });
    // Known label values start at 0, so a scrape shows the series before the first event.
    for (const cause of ["expired", "recovered"]) this.reclaimed.inc({ cause }, 0);
    this.written = new Counter({ name: "qntx_attestations_written_total", help: "Attestations written through this host's store.", registers });
    this.queries = new Counter({ name: "qntx_attestation_queries_total", help: "Attestation queries served (gRPC ATSStoreService and /api/attestations): query, or stream.", labelNames: ["kind"], registers });
    for (const kind of ["query", "stream"]) this.queries.inc({ kind }, 0);
  }

  /** Listens to Pulse's events and the store's writes; returns the detach. */
  attach(pulse: Pulse, store: AttestationStore): () => void {
    const claimed = ({ job }: { job: PulseJob }): void => {
      this.starts.inc({ handler: job.handler });
      const due = Math.max(job.createdAt, job.runAt);
      if (job.startedAt !== undefined) this.wait.observe({ handler: job.handler }, Math.max(0, job.startedAt - due) / 1000);
    };
    const ended = (outcome: "completed" | "failed" | "retried") => ({ job }: { job: PulseJob }): void => {
      this.jobs.inc({ handler: job.handler, outcome });
      if (job.startedAt !== undefined) this.duration.observe({ handler: job.handler, outcome }, Math.max(0, (job.completedAt ?? job.updatedAt) - job.startedAt) / 1000);
      if (outcome !== "retried") this.attempts.observe({ handler: job.handler }, job.attempts);
    };
    const completed = ended("completed");
    const failed = ended("failed");
    const retried = ended("retried");
    const reclaimed = ({ cause }: { cause: string }): void => void this.reclaimed.inc({ cause });
    pulse.on("job:claimed", claimed).on("job:completed", completed).on("job:failed", failed).on("job:retried", retried).on("lease:reclaimed", reclaimed);
    const unwatch = store.watch({ subjects: [], predicates: [], contexts: [], actors: [] }, () => this.written.inc());
    return () => {
      pulse.off("job:claimed", claimed).off("job:completed", completed).off("job:failed", failed).off("job:retried", retried).off("lease:reclaimed", reclaimed);
      unwatch();
    };
  }

  /** `store`, with every `query` and `iterate` counted as a query served. */
  countQueries<S extends AttestationStore>(store: S): S {
    const queries = this.queries;
    return new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property === "query" && typeof value === "function") return (...args: unknown[]) => (queries.inc({ kind: "query" }), value.apply(target, args));
        if (property === "iterate" && typeof value === "function") return (...args: unknown[]) => (queries.inc({ kind: "stream" }), value.apply(target, args));
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }
}
