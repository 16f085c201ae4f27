/** The query conformance cases (conformance/cases/query.ts) on the PostgreSQL store. */
import { queryCases } from "../conformance/cases/query.js";
import { postgres } from "../conformance/postgres.js";

queryCases(postgres);
