/** The generate conformance cases (conformance/cases/generate.ts) on the PostgreSQL store. */
import { generateCases } from "../conformance/cases/generate.js";
import { postgres } from "../conformance/postgres.js";

generateCases(postgres);
