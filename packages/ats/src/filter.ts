/**
 * AttestationFilter semantics, shared by SQL queries and in-process watches so both agree on
 * what "matches" means: OR within a dimension, AND across dimensions, inclusive time bounds
 * on `timestamp` (checked by presence: 0 is a valid bound), and `limit` unset or 0 = no limit.
 * The rules live in @qntx/protocol (attestation-rules.ts), which the SDK's fake host uses
 * too; this module gives them the store's error type.
 */
import { normalizeAttestationFilter, type AttestationFilter, type NormalizedFilter } from "@qntx/protocol";
import { AtsError } from "./errors.js";

export { matchesNormalizedFilter as matchesFilter, type DimConstraint, type NormalizedFilter } from "@qntx/protocol";

/**
 * Validates a filter and puts it in {@link NormalizedFilter} form (values deduplicated, empty
 * dimensions dropped). A negative limit means "no limit", as in QNTX, which only applies a
 * positive one.
 *
 * @throws AtsError INVALID_ARGUMENT when the filter is missing or malformed
 */
export function normalizeFilter(filter: AttestationFilter | null | undefined): NormalizedFilter {
  try {
    return normalizeAttestationFilter(filter);
  } catch (err) {
    if (err instanceof TypeError) throw new AtsError("INVALID_ARGUMENT", err.message);
    throw err;
  }
}
