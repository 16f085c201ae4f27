/** The watch conformance cases (conformance/cases/watch.ts) on the PostgreSQL store. */
import { watchCases } from "../conformance/cases/watch.js";
import { postgres } from "../conformance/postgres.js";

watchCases(postgres);
