/** The job store conformance cases (conformance/cases/jobs.ts) on PostgreSQL. */
import { jobStoreCases } from "../conformance/cases/jobs.js";
import { postgres } from "../conformance/postgres.js";

jobStoreCases(postgres);
