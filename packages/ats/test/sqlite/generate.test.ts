/** The generate conformance cases (conformance/cases/generate.ts) on the SQLite store. */
import { generateCases } from "../conformance/cases/generate.js";
import { sqlite } from "../conformance/sqlite.js";

generateCases(sqlite);
