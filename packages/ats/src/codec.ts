/**
 * Conversions between protocol messages and table rows, and the QNTX defaults applied when
 * an attestation is generated from a command.
 */
import { selfCertifiedActors, type Attestation, type AttestationCommand } from "@qntx/protocol";
import { AtsError } from "./errors.js";
import { generateId } from "./ids.js";

/** Defaults the caller supplies for a generated attestation. */
export interface GenerateDefaults {
  /**
   * Source used when the command has none. The host passes the calling plugin's name;
   * when this is empty too, the source is {@link FALLBACK_SOURCE}.
   */
  readonly source: string;
}

/** Source of an attestation whose command and caller both left it empty (QNTX's default). */
export const FALLBACK_SOURCE = "plugin";
/** Value given to an empty predicates or contexts list (QNTX's default). */
export const EMPTY_DIMENSION_VALUE = "_";
/** Attribute key under which a command's `source_version` is stored. */
export const SOURCE_VERSION_ATTRIBUTE = "source_version";
/**
 * Attribute key of an attestation's expiry: unix milliseconds (a number, as QNTX writes
 * `expires_at` elsewhere). From that moment the attestation is no longer returned by
 * queries, streams or `exists`, and the store's sweep deletes it. The wire stays as it is:
 * the expiry travels in `attributes`, and readers see it there.
 */
export const EXPIRES_AT_ATTRIBUTE = "expires_at";

/** A row of `attestations` as better-sqlite3 returns it. */
export interface AttestationRow {
  seq: number;
  id: string;
  timestamp: number;
  created_at: number;
  source: string;
  attributes: string | null;
  signature: Buffer | null;
  signer_did: string;
  subjects: string;
  predicates: string;
  contexts: string;
  actors: string;
}

/** Insert parameters of `attestations` (named, matching the prepared INSERT). */
export type AttestationInsert = Omit<AttestationRow, "seq"> & {
  /** Unix ms from the `expires_at` attribute; null = never expires. */
  expires_at: number | null;
};

/** Columns read back, in the order every SELECT of the store lists them. */
export const ATTESTATION_COLUMNS =
  "a.seq, a.id, a.timestamp, a.created_at, a.source, a.attributes, a.signature, a.signer_did, " +
  "a.subjects, a.predicates, a.contexts, a.actors";

/** Builds the protocol message from a stored row. */
export function rowToAttestation(row: AttestationRow): Attestation {
  return {
    id: row.id,
    subjects: JSON.parse(row.subjects) as string[],
    predicates: JSON.parse(row.predicates) as string[],
    contexts: JSON.parse(row.contexts) as string[],
    actors: JSON.parse(row.actors) as string[],
    timestamp: row.timestamp,
    source: row.source,
    attributes: row.attributes === null ? undefined : (JSON.parse(row.attributes) as { [key: string]: any }),
    createdAt: row.created_at,
    signature: row.signature ?? Buffer.alloc(0),
    signerDid: row.signer_did,
  };
}

/** Builds the INSERT parameters of an already validated attestation. */
export function attestationToInsert(a: Attestation): AttestationInsert {
  return {
    id: a.id,
    timestamp: a.timestamp,
    created_at: a.createdAt,
    source: a.source,
    // NULL, not "{}", for "no attributes", so an unset Struct reads back unset.
    attributes: a.attributes === undefined || a.attributes === null ? null : JSON.stringify(a.attributes),
    signature: a.signature !== undefined && a.signature !== null && a.signature.length > 0 ? Buffer.from(a.signature) : null,
    signer_did: a.signerDid ?? "",
    subjects: JSON.stringify(a.subjects),
    predicates: JSON.stringify(a.predicates),
    contexts: JSON.stringify(a.contexts),
    actors: JSON.stringify(a.actors),
    expires_at: expiresAtOf(a) ?? null,
  };
}

/** The expiry of an already validated attestation, in unix ms; undefined = never. */
export function expiresAtOf(a: Attestation): number | undefined {
  const value: unknown = a.attributes?.[EXPIRES_AT_ATTRIBUTE];
  return typeof value === "number" ? Math.floor(value) : undefined;
}

/** True when `a` carries an expiry at or before `now` (unix ms). */
export function isExpired(a: Attestation, now: number): boolean {
  const expiresAt = expiresAtOf(a);
  return expiresAt !== undefined && expiresAt <= now;
}

function strings(what: string, list: unknown): string[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list) || list.some((v) => typeof v !== "string")) {
    throw new AtsError("INVALID_ARGUMENT", `${what} must be a list of strings`);
  }
  return [...(list as string[])];
}

function millis(what: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new AtsError("INVALID_ARGUMENT", `${what} must be an integer of unix milliseconds, got ${String(value)}`);
  }
  return value;
}

function attributesOf(value: unknown): { [key: string]: any } | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new AtsError("INVALID_ARGUMENT", "attributes must be an object");
  }
  const expiresAt: unknown = (value as Record<string, unknown>)[EXPIRES_AT_ATTRIBUTE];
  // A string date would silently never expire: refuse anything but a number of ms (or null).
  if (expiresAt !== undefined && expiresAt !== null && (typeof expiresAt !== "number" || !Number.isFinite(expiresAt))) {
    throw new AtsError(
      "INVALID_ARGUMENT",
      `attributes.${EXPIRES_AT_ATTRIBUTE} must be unix milliseconds (a number, e.g. Date.now() + 60000), got ${JSON.stringify(expiresAt)}`,
    );
  }
  return value as { [key: string]: any };
}

/**
 * Validates a client-built attestation (deprecated CreateAttestation) and returns a
 * defensive copy with `createdAt` = `now` when the client left it 0. Other fields are kept
 * as given: the client chose them, QNTX stores them unchanged.
 *
 * @throws AtsError INVALID_ARGUMENT on a missing id or subjects, or malformed fields
 */
export function prepareAttestation(a: Attestation | null | undefined, now: number): Attestation {
  if (a === undefined || a === null || typeof a !== "object") {
    throw new AtsError("INVALID_ARGUMENT", "attestation is missing");
  }
  if (typeof a.id !== "string" || a.id === "") throw new AtsError("INVALID_ARGUMENT", "attestation id is required");
  const subjects = strings("subjects", a.subjects);
  if (subjects.length === 0) throw new AtsError("INVALID_ARGUMENT", "attestation needs at least one subject");
  const createdAt = a.createdAt === undefined || a.createdAt === null || a.createdAt === 0 ? now : millis("created_at", a.createdAt);
  return {
    id: a.id,
    subjects,
    predicates: strings("predicates", a.predicates),
    contexts: strings("contexts", a.contexts),
    actors: strings("actors", a.actors),
    timestamp: millis("timestamp", a.timestamp ?? 0),
    source: typeof a.source === "string" ? a.source : "",
    attributes: attributesOf(a.attributes),
    createdAt,
    signature: a.signature ? Buffer.from(a.signature) : Buffer.alloc(0),
    signerDid: typeof a.signerDid === "string" ? a.signerDid : "",
  };
}

/**
 * Builds the attestation a command describes, with QNTX's defaults: a generated id,
 * `["_"]` for empty predicates/contexts, the id as its own actor when actors are empty
 * (self-certifying, see `selfCertifiedActors`), the source fallback chain (command → caller →
 * `"plugin"`), `source_version` copied into attributes, `timestamp` = now when absent
 * (presence, not truthiness: 0 is kept) and `created_at` = now.
 *
 * @throws AtsError INVALID_ARGUMENT when the command is missing, has no subject, or is malformed
 */
export function attestationFromCommand(
  command: AttestationCommand | null | undefined,
  defaults: GenerateDefaults,
  now: number,
): Attestation {
  if (command === undefined || command === null || typeof command !== "object") {
    throw new AtsError("INVALID_ARGUMENT", "attestation command is missing");
  }
  const subjects = strings("subjects", command.subjects);
  if (subjects.length === 0) throw new AtsError("INVALID_ARGUMENT", "attestation needs at least one subject");
  const predicates = strings("predicates", command.predicates);
  const contexts = strings("contexts", command.contexts);
  if (predicates.length === 0) predicates.push(EMPTY_DIMENSION_VALUE);
  if (contexts.length === 0) contexts.push(EMPTY_DIMENSION_VALUE);

  let attributes = attributesOf(command.attributes);
  if (typeof command.sourceVersion === "string" && command.sourceVersion !== "") {
    // A copy: the caller's object must not change under it.
    attributes = { ...attributes, [SOURCE_VERSION_ATTRIBUTE]: command.sourceVersion };
  }
  const timestamp =
    command.timestamp === undefined || command.timestamp === null ? now : millis("timestamp", command.timestamp);

  const id = generateId(subjects[0], predicates[0], contexts[0]);
  return {
    id,
    subjects,
    predicates,
    contexts,
    actors: selfCertifiedActors(strings("actors", command.actors), id),
    timestamp,
    source: command.source || defaults?.source || FALLBACK_SOURCE,
    attributes,
    createdAt: now,
    signature: Buffer.alloc(0),
    signerDid: "",
  };
}
