/** The Pulse conformance cases (conformance/cases/pulse.ts) on SQLite. */
import { pulseCases } from "../conformance/cases/pulse.js";
import { sqlite } from "../conformance/sqlite.js";

pulseCases(sqlite);
