/**
 * AttestationFilter semantics, shared by SQL queries and in-process watches so both agree on
 * what "matches" means: OR within a dimension, AND across dimensions, inclusive time bounds
 * on `timestamp` (checked by presence: 0 is a valid bound), and `limit` unset or 0 = no limit.
 */
import type { Attestation, AttestationFilter } from "@qntx/protocol";
import { AtsError } from "./errors.js";
import { DIM_NAMES, type DimName } from "./schema.js";

/** One constrained dimension: the attestation must carry at least one of `values`. */
export interface DimConstraint {
  readonly dim: DimName;
  /** Distinct values, in first-seen order; never empty. */
  readonly values: readonly string[];
}

/** A validated filter in the form the planner and the watchers use. */
export interface NormalizedFilter {
  /** Only the dimensions that constrain (an empty list in the filter means "any"). */
  readonly dims: readonly DimConstraint[];
  /** Inclusive lower bound on `timestamp`, when present. */
  readonly timeStart: number | undefined;
  /** Inclusive upper bound on `timestamp`, when present. */
  readonly timeEnd: number | undefined;
  /** Maximum rows; 0 = no limit. */
  readonly limit: number;
}

function present(value: number | null | undefined): value is number {
  return value !== undefined && value !== null;
}

function checkBound(name: string, value: number | null | undefined): number | undefined {
  if (!present(value)) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new AtsError("INVALID_ARGUMENT", `filter ${name} must be a number of unix milliseconds, got ${String(value)}`);
  }
  return value;
}

function checkStrings(name: string, list: unknown): readonly string[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || list.some((v) => typeof v !== "string")) {
    throw new AtsError("INVALID_ARGUMENT", `filter ${name} must be a list of strings`);
  }
  return list as string[];
}

/**
 * Validates a filter and puts it in {@link NormalizedFilter} form (values deduplicated, empty
 * dimensions dropped). A negative limit means "no limit", as in QNTX, which only applies a
 * positive one.
 *
 * @throws AtsError INVALID_ARGUMENT when the filter is missing or malformed
 */
export function normalizeFilter(filter: AttestationFilter | null | undefined): NormalizedFilter {
  if (filter === undefined || filter === null || typeof filter !== "object") {
    throw new AtsError("INVALID_ARGUMENT", "attestation filter is missing");
  }
  const dims: DimConstraint[] = [];
  for (const dim of DIM_NAMES) {
    const values = checkStrings(dim, filter[dim]);
    if (values.length > 0) dims.push({ dim, values: [...new Set(values)] });
  }
  const limit = present(filter.limit) && Number.isFinite(filter.limit) && filter.limit > 0 ? Math.trunc(filter.limit) : 0;
  return {
    dims,
    timeStart: checkBound("time_start", filter.timeStart),
    timeEnd: checkBound("time_end", filter.timeEnd),
    limit,
  };
}

/**
 * True when `attestation` satisfies every constraint of `filter` (the limit is ignored: it
 * is about result sets, not single attestations).
 */
export function matchesFilter(filter: NormalizedFilter, attestation: Attestation): boolean {
  if (filter.timeStart !== undefined && attestation.timestamp < filter.timeStart) return false;
  if (filter.timeEnd !== undefined && attestation.timestamp > filter.timeEnd) return false;
  for (const { dim, values } of filter.dims) {
    const have = attestation[dim];
    // Filters hold a handful of values; a linear `includes` beats building a Set here.
    if (!have.some((v) => values.includes(v))) return false;
  }
  return true;
}
