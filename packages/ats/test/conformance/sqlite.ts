/** The SQLite store as a conformance subject: a new database file per store (helpers.ts). */
import type { StoreOptions } from "../../src/index.js";
import { tempStore } from "../helpers.js";
import type { OpenedStore, StoreSubject } from "./subject.js";

/** {@link StoreSubject} of `SqliteAttestationStore`. */
export const sqlite: StoreSubject = {
  name: "sqlite",
  skip: undefined,
  setup: async () => undefined,
  teardown: async () => undefined,
  async open(options: StoreOptions = {}): Promise<OpenedStore> {
    const t = tempStore(options);
    return {
      store: t.store,
      explain: async (filter) => t.store.explain(filter),
      refuseSubjectsContaining: async (marker, message) => {
        t.db.exec(`CREATE TRIGGER refuse_${marker} BEFORE INSERT ON attestations
                   WHEN NEW.subjects LIKE '%${marker}%' BEGIN SELECT RAISE(ABORT, '${message}'); END`);
      },
      termRows: async () => (t.db.prepare("SELECT count(*) AS n FROM attestation_terms").get() as { n: number }).n,
      close: async () => t.cleanup(),
      sqlite: t.db,
    };
  },
};
