/**
 * The conformance suite's view of a Pulse storage: the same cases (cases/*.ts) run against
 * SQLite and PostgreSQL, so the two stores cannot drift apart.
 */
import { afterAll, afterEach, beforeAll, describe } from "@jest/globals";
import type { JobStore, PluginScheduleStore, ScheduleStore } from "../../src/index.js";

/** Pulse's stores, as `PulseOptions.stores` takes them. */
export interface Stores {
  readonly jobs: JobStore;
  readonly schedules: ScheduleStore;
  readonly pluginSchedules: PluginScheduleStore;
}

/** Stores opened for one test on an empty database. */
export interface OpenedStores extends Stores {
  /** A second host's stores on the same database (their own connections). */
  another(): Promise<Stores>;
  /** Closes every store and connection opened for the test. */
  close(): Promise<void>;
}

/** A storage under test. */
export interface StoreSubject {
  readonly name: string;
  /** Why it cannot run on this machine, if it cannot. */
  readonly skip: string | undefined;
  /** Per test file: e.g. the file's own PostgreSQL database. */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** Stores on an empty database. */
  open(): Promise<OpenedStores>;
}

/**
 * A `describe` of `title` against `subject`, skipped with the subject's reason when it cannot
 * run here; stores opened in a test are closed after it.
 */
export function storeSuite(subject: StoreSubject, title: string, body: (open: () => Promise<OpenedStores>) => void): void {
  const describeIt = subject.skip ? describe.skip : describe;
  describeIt(`${title} [${subject.name}]`, () => {
    const opened: OpenedStores[] = [];
    beforeAll(() => subject.setup());
    afterEach(async () => {
      for (const o of opened.splice(0)) await o.close();
    });
    afterAll(() => subject.teardown());
    body(async () => {
      const o = await subject.open();
      opened.push(o);
      return o;
    });
  });
}
