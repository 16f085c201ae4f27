/**
 * The attestation rules the host's store (@qntx/ats) and the SDK's fake host
 * (@qntx/sdk/testing) must agree on, in one place: generated ids
 * `AS-<S>-<P>-<C>-<8 random chars>`, the self-certifying actor of a generated attestation
 * without actors, and what an `AttestationFilter` matches (OR within a
 * dimension, AND across dimensions, inclusive time bounds on `timestamp` checked by presence
 * so 0 is a valid bound, `limit` unset or <= 0 = no limit). Pure functions: no storage here.
 */
import { randomFillSync } from "node:crypto";
import type { Attestation, AttestationFilter } from "./gen/atsstore.js";

/** The four list fields of an attestation a filter can constrain. */
export const ATTESTATION_DIMENSIONS = ["subjects", "predicates", "contexts", "actors"] as const;
/** One of {@link ATTESTATION_DIMENSIONS}. */
export type AttestationDimension = (typeof ATTESTATION_DIMENSIONS)[number];

/** Longest readable token taken from a subject, predicate or context. */
export const ID_TOKEN_MAX = 16;
/** Length of the random suffix. 36^8 ≈ 2.8e12 possibilities; the store retries on a clash. */
export const ID_RANDOM_LENGTH = 8;

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
// Bytes >= 252 are rejected so each of the 36 characters is equally likely (252 = 7 * 36).
const UNBIASED_LIMIT = 256 - (256 % ALPHABET.length);
const UNSAFE = /[^A-Za-z0-9_.-]/g;

/**
 * Reduces a value to a short id-safe token: keeps only `[A-Za-z0-9_.-]`, cuts to
 * {@link ID_TOKEN_MAX} characters, and gives `_` when nothing is left. The readable part lets
 * a human scanning logs see what an attestation is about; ids are never parsed.
 */
export function idToken(value: string | undefined): string {
  const token = (value ?? "").replace(UNSAFE, "").slice(0, ID_TOKEN_MAX);
  return token === "" ? "_" : token;
}

// Random bytes are drawn from the crypto RNG in blocks: one call per id cost ~15% of a
// bulk insert in profiling, a 4 KiB pool makes it negligible.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function nextRandomByte(): number {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++]!;
}

/** `length` characters from `[a-z0-9]`, uniformly, from the crypto RNG. */
export function randomSuffix(length: number = ID_RANDOM_LENGTH): string {
  let out = "";
  while (out.length < length) {
    const byte = nextRandomByte();
    if (byte < UNBIASED_LIMIT) out += ALPHABET[byte % ALPHABET.length];
  }
  return out;
}

/**
 * A new id `AS-<S>-<P>-<C>-<random>` from the FIRST subject, predicate and context (the
 * caller has already defaulted empty predicates/contexts to `_`).
 */
export function generateAttestationId(subject: string | undefined, predicate: string | undefined, context: string | undefined): string {
  return `AS-${idToken(subject)}-${idToken(predicate)}-${idToken(context)}-${randomSuffix()}`;
}

/**
 * The actors of a generated attestation: the command's own, or, when it gave none, the
 * attestation's id alone — a self-certifying attestation that vouches for itself, as QNTX's
 * stores make every generated one (ats/storage/ats_store.go, rust_backed_store.go:
 * `as.Actors = []string{asid}`; QNTX's bounded storage keeps 16 attestations per
 * (actor, context), so a shared actor would evict). A plugin reading its attestations back, or
 * filtering on actors, sees what it would see under QNTX. QNTX replaces actors a plugin did
 * give too; here they are kept: the command's `actors` field exists to say who acts, and a
 * plugin filtering on its own actor name would otherwise find nothing.
 */
export function selfCertifiedActors(actors: readonly string[], id: string): string[] {
  return actors.length > 0 ? [...actors] : [id];
}

/** Shape check of ids made by {@link generateAttestationId}. */
export const GENERATED_ID_PATTERN = /^AS-[A-Za-z0-9_.-]{1,16}-[A-Za-z0-9_.-]{1,16}-[A-Za-z0-9_.-]{1,16}-[a-z0-9]{8}$/;

/** One constrained dimension: the attestation must carry at least one of `values`. */
export interface DimConstraint {
  readonly dim: AttestationDimension;
  /** Distinct values, in first-seen order; never empty. */
  readonly values: readonly string[];
}

/** A validated filter in the form matching (and the SQL planner) uses. */
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
    throw new TypeError(`filter ${name} must be a number of unix milliseconds, got ${String(value)}`);
  }
  return value;
}

function checkStrings(name: string, list: unknown): readonly string[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || list.some((v) => typeof v !== "string")) throw new TypeError(`filter ${name} must be a list of strings`);
  return list as string[];
}

/**
 * Validates a filter and puts it in {@link NormalizedFilter} form (values deduplicated, empty
 * dimensions dropped). A negative limit means "no limit", as in QNTX, which only applies a
 * positive one.
 *
 * @throws TypeError naming the field when the filter is missing or malformed
 */
export function normalizeAttestationFilter(filter: Partial<AttestationFilter> | null | undefined): NormalizedFilter {
  if (filter === undefined || filter === null || typeof filter !== "object") throw new TypeError("attestation filter is missing");
  const dims: DimConstraint[] = [];
  for (const dim of ATTESTATION_DIMENSIONS) {
    const values = checkStrings(dim, filter[dim]);
    if (values.length > 0) dims.push({ dim, values: [...new Set(values)] });
  }
  const limit = present(filter.limit) && Number.isFinite(filter.limit) && filter.limit > 0 ? Math.trunc(filter.limit) : 0;
  return { dims, timeStart: checkBound("time_start", filter.timeStart), timeEnd: checkBound("time_end", filter.timeEnd), limit };
}

/**
 * True when `attestation` satisfies every constraint of `filter` (the limit is ignored: it
 * is about result sets, not single attestations).
 */
export function matchesNormalizedFilter(filter: NormalizedFilter, attestation: Attestation): boolean {
  if (filter.timeStart !== undefined && attestation.timestamp < filter.timeStart) return false;
  if (filter.timeEnd !== undefined && attestation.timestamp > filter.timeEnd) return false;
  for (const { dim, values } of filter.dims) {
    const have = attestation[dim];
    // Filters hold a handful of values; a linear `includes` beats building a Set here.
    if (!have.some((v) => values.includes(v))) return false;
  }
  return true;
}

/**
 * An attestation as QNTX's Go code marshals its `types.As` (`encoding/json`): snake_case keys,
 * RFC 3339 times, `attributes`, `signature` (base64) and `signer_did` left out when empty.
 * QNTX hands exactly this to a watcher's plugin handler as the job payload, so a handler
 * written for QNTX reads it unchanged.
 */
export function attestationAsQntxJson(a: Attestation): Record<string, unknown> {
  const attributes = a.attributes ?? {};
  return {
    id: a.id, subjects: a.subjects, predicates: a.predicates, contexts: a.contexts, actors: a.actors,
    timestamp: new Date(a.timestamp).toISOString(), source: a.source,
    ...(Object.keys(attributes).length > 0 ? { attributes } : {}),
    created_at: new Date(a.createdAt).toISOString(),
    ...(a.signature.length > 0 ? { signature: Buffer.from(a.signature).toString("base64") } : {}),
    ...(a.signerDid ? { signer_did: a.signerDid } : {}),
  };
}
