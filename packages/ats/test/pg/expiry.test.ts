/** The expiry conformance cases (conformance/cases/expiry.ts) on the PostgreSQL store. */
import { expiryCases } from "../conformance/cases/expiry.js";
import { postgres } from "../conformance/postgres.js";

expiryCases(postgres);
