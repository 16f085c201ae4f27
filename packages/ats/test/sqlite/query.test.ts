/** The query conformance cases (conformance/cases/query.ts) on the SQLite store. */
import { queryCases } from "../conformance/cases/query.js";
import { sqlite } from "../conformance/sqlite.js";

queryCases(sqlite);
