/** The Pulse conformance cases (conformance/cases/pulse.ts) on PostgreSQL. */
import { pulseCases } from "../conformance/cases/pulse.js";
import { postgres } from "../conformance/postgres.js";

pulseCases(postgres);
