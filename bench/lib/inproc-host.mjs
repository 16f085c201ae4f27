/**
 * A host started in the calling process (for the diagnostics in bench/investigations that need node
 * flags or hooks inside the host: --trace-gc, heap snapshots, wrapped store calls), with the
 * bench SDK plugin as `benchp`, and the idle case's job pattern.
 */
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger, loadConfig, startHost } from "@qntx/host";
import { BENCH_PLUGIN, hostToml } from "./hosts.mjs";
import { tempDir } from "./procs.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts a host in this process with the bench plugin and waits until it runs. `settings` are
 * [host] settings for its config (e.g. { pulse_concurrency: 16 }). Logs at warn unless
 * QNTX_LOG_LEVEL says otherwise (the bench cases' hosts log at info).
 * Resolves with { host, dir, cleanup } (cleanup removes the data dir; close the host first).
 */
export async function startInProcessHost(label, settings = {}) {
  const { dir, cleanup } = tempDir(label);
  const configPath = join(dir, "am.plugins.toml");
  writeFileSync(configPath, hostToml(dir, [{ name: "benchp", binary: BENCH_PLUGIN }], settings));
  process.env.QNTX_LOG_LEVEL ??= "warn";
  const host = await startHost(loadConfig({ configPath, cwd: dir }), createLogger({ pretty: false }));
  await host.ready;
  return { host, dir, cleanup };
}

/** Enqueues one no-op job and resolves once it is recorded completed (throws if it failed). */
export async function runIdleJob(host) {
  const id = randomUUID();
  const done = new Promise((resolve) => {
    const onJob = (job) => {
      if (job.id !== id || (job.status !== "completed" && job.status !== "failed")) return;
      host.pulse.off("job", onJob);
      resolve(job);
    };
    host.pulse.on("job", onJob);
  });
  await host.pulse.enqueue({ handler: "benchp/noop", id });
  const job = await done;
  if (job.status !== "completed") throw new Error(`job ${id} ${job.status}: ${job.error}`);
}

/** Runs `count` no-op jobs one at a time, `gapMs` apart, each until it is recorded completed. */
export async function runIdleJobs(host, count, gapMs) {
  for (let i = 0; i < count; i++) {
    await sleep(gapMs);
    await runIdleJob(host);
  }
}
