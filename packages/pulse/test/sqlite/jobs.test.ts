/** The job store conformance cases (conformance/cases/jobs.ts) on SQLite. */
import { jobStoreCases } from "../conformance/cases/jobs.js";
import { sqlite } from "../conformance/sqlite.js";

jobStoreCases(sqlite);
