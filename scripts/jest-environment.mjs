/**
 * The jest test environment of every package: jest's Node environment, plus a note of the
 * handles a test file left open. When the variable QNTX_TEST_LEAK_DIR names a directory
 * (scripts/run-tests.mjs sets it), a file whose tests end with more live handles than it
 * started with (servers, sockets, child processes, ref'd timers, watchers — what
 * `process.getActiveResourcesInfo()` lists) writes one JSON report there:
 * `{ testPath, leaked: { Timeout: 1, … } }`. run-tests.mjs lists these reports when jest does
 * not exit after its results, so a hang names the file that kept it alive.
 *
 * Attribution is by difference: a jest worker runs one file at a time, so what is open at the
 * end of a file and was not at its start was opened by it (or by code it called).
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestEnvironment } from "jest-environment-node";

/**
 * Kinds that are one-off requests rather than handles (a pending write, a socket's shutdown, a
 * queued setImmediate, a file system call): they end by themselves and never hold a process.
 */
const PASSING = /^(Immediate|\w*ShutdownWrap|\w*WriteWrap|\w*ReqWrap|FSReqCallback|FSReqPromise)$/;

/** Counts of live handles by kind ("Timeout", "TCPServerWrap", "ProcessWrap", …). */
function liveHandles() {
  const counts = {};
  for (const kind of process.getActiveResourcesInfo()) if (!PASSING.test(kind)) counts[kind] = (counts[kind] ?? 0) + 1;
  return counts;
}

/**
 * What the file left open. A handle being closed (a socket after `server.close()`, a child
 * just killed) goes a few event-loop turns later; a leak stays. So when something is open,
 * look again for a short bounded while before reporting it.
 */
async function leftOpen(before) {
  let leaked = grown(before, liveHandles());
  for (let turn = 0; turn < 10 && Object.keys(leaked).length > 0; turn++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    leaked = grown(before, liveHandles());
  }
  return leaked;
}

/** Kinds whose count grew from `before` to `after`, with how many more. */
function grown(before, after) {
  const more = {};
  for (const [kind, count] of Object.entries(after)) if (count > (before[kind] ?? 0)) more[kind] = count - (before[kind] ?? 0);
  return more;
}

/** Jest's Node environment that reports the handles a test file leaves open (see the file comment). */
export default class LeakReportingEnvironment extends TestEnvironment {
  #testPath;
  #before = {};

  constructor(config, context) {
    super(config, context);
    this.#testPath = context.testPath;
  }

  async setup() {
    await super.setup();
    this.#before = liveHandles();
  }

  async teardown() {
    const dir = process.env.QNTX_TEST_LEAK_DIR;
    const leaked = dir ? await leftOpen(this.#before) : {};
    if (Object.keys(leaked).length > 0) {
      mkdirSync(dir, { recursive: true });
      const name = createHash("sha1").update(this.#testPath).digest("hex").slice(0, 12);
      writeFileSync(join(dir, `${name}.json`), JSON.stringify({ testPath: this.#testPath, leaked }));
    }
    await super.teardown();
  }
}
