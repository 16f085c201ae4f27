/**
 * The conformance suite's view of a store implementation: the same cases (cases/*.ts) run
 * against each {@link StoreSubject}, so the SQLite and PostgreSQL stores cannot drift apart.
 */
import { afterAll, afterEach, beforeAll, describe } from "@jest/globals";
import type { AttestationFilter } from "@qntx/protocol";
import type { AttestationStore, QueryPlan, SqliteDatabase, StoreOptions } from "../../src/index.js";

/** A store opened for one test, with the database-level handles the cases need. */
export interface OpenedStore {
  readonly store: AttestationStore;
  /** The store's plan for `filter` (both stores make the same choice). */
  explain(filter: AttestationFilter): Promise<QueryPlan>;
  /** Makes the database itself refuse, with `message`, any attestation whose subjects contain `marker`. */
  refuseSubjectsContaining(marker: string, message: string): Promise<void>;
  /** Rows in the term index (attestation_terms). */
  termRows(): Promise<number>;
  /** Closes the store and its connections. */
  close(): Promise<void>;
  /** The SQLite connection, for SQLite-only checks. */
  readonly sqlite?: SqliteDatabase;
  /** The PostgreSQL database's URL, for PostgreSQL-only checks. */
  readonly pgUrl?: string;
}

/** A store implementation under test. */
export interface StoreSubject {
  readonly name: string;
  /** Why it cannot run on this machine, if it cannot. */
  readonly skip: string | undefined;
  /** Per test file: e.g. the file's own PostgreSQL database. */
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** An empty store. */
  open(options?: StoreOptions): Promise<OpenedStore>;
}

/** What a suite's body gets. */
export interface SuiteContext {
  /** An empty store, closed after the test (or after the file, with `{ file: true }`). */
  open(options?: StoreOptions, scope?: { file: true }): Promise<OpenedStore>;
}

/**
 * A `describe` of `title` against `subject`: skipped with the subject's reason when it cannot
 * run here; stores opened in a test are closed after it.
 */
export function storeSuite(subject: StoreSubject, title: string, body: (ctx: SuiteContext) => void): void {
  const describeIt = subject.skip ? describe.skip : describe;
  describeIt(`${title} [${subject.name}]`, () => {
    const perTest: OpenedStore[] = [];
    const perFile: OpenedStore[] = [];
    beforeAll(() => subject.setup());
    afterEach(async () => {
      for (const opened of perTest.splice(0)) await opened.close();
    });
    afterAll(async () => {
      for (const opened of perFile.splice(0)) await opened.close();
      await subject.teardown();
    });
    body({
      open: async (options, scope) => {
        const opened = await subject.open(options);
        (scope?.file ? perFile : perTest).push(opened);
        return opened;
      },
    });
  });
}
