/** The batch conformance cases (conformance/cases/batch.ts) on the PostgreSQL store. */
import { batchCases } from "../conformance/cases/batch.js";
import { postgres } from "../conformance/postgres.js";

batchCases(postgres);
