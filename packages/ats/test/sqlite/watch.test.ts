/** The watch conformance cases (conformance/cases/watch.ts) on the SQLite store. */
import { watchCases } from "../conformance/cases/watch.js";
import { sqlite } from "../conformance/sqlite.js";

watchCases(sqlite);
