/** The create conformance cases (conformance/cases/create.ts) on the PostgreSQL store. */
import { createCases } from "../conformance/cases/create.js";
import { postgres } from "../conformance/postgres.js";

createCases(postgres);
