/** The iterate conformance cases (conformance/cases/iterate.ts) on the PostgreSQL store. */
import { iterateCases } from "../conformance/cases/iterate.js";
import { postgres } from "../conformance/postgres.js";

iterateCases(postgres);
