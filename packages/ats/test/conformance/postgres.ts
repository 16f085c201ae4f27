/**
 * The PostgreSQL store as a conformance subject: the test file gets its own database, cloned
 * from a template migrated once per run (@qntx/testing-pg); each store starts on emptied
 * tables.
 */
import { createTestDatabase, pgSkipReason, type TemplateSpec, type TestDatabase } from "@qntx/testing-pg";
import pg from "pg";
import { PostgresAttestationStore, type PostgresAttestationStoreOptions } from "../../src/index.js";
import type { OpenedStore, StoreSubject } from "./subject.js";

/** The migrated template every test database is cloned from. */
export const ATS_TEMPLATE: TemplateSpec = {
  name: "ats",
  async prepare(url) {
    const store = await PostgresAttestationStore.open(url);
    await store.close();
  },
};

/** The options tests open stores with: a fast backstop, so a lost notification costs little. */
export const TEST_STORE_OPTIONS: PostgresAttestationStoreOptions = { pollIntervalMs: 200 };

/** A database of its own for the calling test file, cloned from {@link ATS_TEMPLATE}. */
export function atsTestDatabase(): Promise<TestDatabase> {
  return createTestDatabase(ATS_TEMPLATE);
}

let db: TestDatabase | undefined;
let admin: pg.Client | undefined;

/** {@link StoreSubject} of `PostgresAttestationStore`. */
export const postgres: StoreSubject = {
  name: "postgres",
  skip: pgSkipReason(),
  async setup() {
    db = await atsTestDatabase();
    admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
  },
  async teardown() {
    await admin?.end();
    await db?.drop();
  },
  async open(options = {}): Promise<OpenedStore> {
    await admin!.query(`DO $$ DECLARE f record; BEGIN
        FOR f IN SELECT proname FROM pg_proc WHERE proname LIKE 'qntx_test_refuse_%' LOOP
          EXECUTE format('DROP FUNCTION %I() CASCADE', f.proname);
        END LOOP; END $$;
      TRUNCATE attestations, attestation_terms RESTART IDENTITY`);
    const store = await PostgresAttestationStore.open(db!.url, { ...TEST_STORE_OPTIONS, ...options });
    return {
      store,
      explain: (filter) => store.explain(filter),
      refuseSubjectsContaining: async (marker, message) => {
        // Dropped (with its trigger) when the next store opens.
        await admin!.query(`CREATE FUNCTION qntx_test_refuse_${marker}() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN IF NEW.subjects LIKE '%${marker}%' THEN RAISE EXCEPTION '${message}'; END IF; RETURN NEW; END $$;
          CREATE TRIGGER qntx_test_refuse_${marker} BEFORE INSERT ON attestations FOR EACH ROW EXECUTE FUNCTION qntx_test_refuse_${marker}()`);
      },
      termRows: async () => (await admin!.query<{ n: string }>("SELECT count(*) AS n FROM attestation_terms")).rows.map((r) => Number(r.n))[0]!,
      close: () => store.close(),
      pgUrl: db!.url,
    };
  },
};
