/**
 * The host's Pulse API as tests drive it: enqueue a job with the admin token, read one back,
 * wait until it reaches a status. Shared by the tests that run plugins' jobs through a host.
 */
import { expect } from "@jest/globals";
import { adminHeaders, http, until } from "../harness.js";

/** A job as `GET /api/pulse/jobs/<id>` shows it. */
export interface JobJson {
  id: string;
  handler: string;
  status: string;
  attempts: number;
  error: string;
  result: any;
  progress: { current: number; total: number };
  costActual: number;
  pluginVersion: string;
  logs?: Array<{ message: string; stage: string; level: string }>;
}

/** What {@link pulseApi} needs of a test host: its URL and its folder (for the admin token). */
export interface HostRef {
  readonly url: string;
  readonly dir: string;
}

/** The Pulse calls of the host `host()` returns (a getter: the host is usually started in beforeAll). */
export function pulseApi(host: () => HostRef): {
  enqueue(body: Record<string, unknown>): Promise<JobJson>;
  job(id: string): Promise<JobJson>;
  waitFor(id: string, statuses: string[], timeoutMs?: number): Promise<JobJson>;
} {
  const job = async (id: string): Promise<JobJson> => (await http(`${host().url}/api/pulse/jobs/${id}`)).json().job;
  return {
    async enqueue(body) {
      const res = await http(`${host().url}/api/pulse/jobs`, { method: "POST", headers: adminHeaders(host()), body: JSON.stringify(body) });
      expect(res.status).toBeLessThan(300);
      return res.json().job;
    },
    job,
    waitFor(id, statuses, timeoutMs = 15_000) {
      return until(async () => {
        const j = await job(id);
        return statuses.includes(j.status) ? j : undefined;
      }, `job ${id} to be ${statuses.join("/")}`, timeoutMs);
    },
  };
}
