/** The create conformance cases (conformance/cases/create.ts) on the SQLite store. */
import { createCases } from "../conformance/cases/create.js";
import { sqlite } from "../conformance/sqlite.js";

createCases(sqlite);
