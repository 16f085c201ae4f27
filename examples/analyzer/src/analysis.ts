/**
 * What the analyzer computes for one commit: the kind of change (from the conventional-commit
 * prefix of its message), how many files it touches, and whether that makes it risky.
 * Pure functions, no I/O.
 */

/** Kind of a commit, from its message's conventional-commit type. */
export type CommitKind = "fix" | "feat" | "chore" | "other";

/** Predicate of the attestations the analyzer writes. */
export const ANALYZED = "analyzed";

/** Predicate of the attestations the analyzer watches (written by the ingest plugin). */
export const COMMITTED = "committed";

/** A commit touching more files than this is flagged risky (default of config `risky_files`). */
export const DEFAULT_RISKY_FILES = 20;

// `type(scope)!: description`: a word, an optional scope, an optional breaking mark, a colon
// and a space (https://www.conventionalcommits.org). Types are case-insensitive.
const CONVENTIONAL = /^([A-Za-z]+)(?:\([^()\r\n]*\))?!?: \S/;
const KINDS: ReadonlySet<string> = new Set(["fix", "feat", "chore"]);

/** `fix`, `feat` or `chore` when the message starts with that conventional-commit type, else `other`. */
export function classify(message: string): CommitKind {
  const type = CONVENTIONAL.exec(message.trimStart())?.[1]?.toLowerCase();
  return type !== undefined && KINDS.has(type) ? (type as CommitKind) : "other";
}

/** A `committed` attestation as the watcher delivers it (JSON, camelCase keys, empty fields omitted). */
export interface CommitAttestation {
  id: string;
  sha: string;
  repo: string;
  message: string;
  files: string[];
}

/** Result of analysing one commit; stored as the `analyzed` attestation's attributes. */
export interface Analysis {
  kind: CommitKind;
  files: number;
  risky: boolean;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * The commit in a job payload: the `committed` attestation as a watcher delivers it (QNTX's
 * shape: the attestation's fields at the top level, plus `watcher_id`). Throws with a message
 * that says what is missing, so a job enqueued by hand with a wrong payload fails clearly.
 */
export function commitFromPayload(payload: unknown): CommitAttestation {
  const expected = 'expected the committed attestation: { "subjects": [sha], "predicates": ["committed"], "contexts": [repo], "attributes": { "message", "files" } }';
  if (!isObject(payload)) throw new Error(`payload is not an attestation: ${expected}`);
  const a = payload;
  const subjects = Array.isArray(a.subjects) ? a.subjects : [];
  const sha = subjects[0];
  if (typeof sha !== "string" || sha === "") throw new Error(`attestation has no subject (the commit sha): ${expected}`);
  const predicates = Array.isArray(a.predicates) ? a.predicates : [];
  if (!predicates.includes(COMMITTED)) throw new Error(`attestation ${String(a.id ?? sha)} is not a "${COMMITTED}" attestation (predicates: ${JSON.stringify(predicates)})`);
  const contexts = Array.isArray(a.contexts) ? a.contexts : [];
  const attributes = isObject(a.attributes) ? a.attributes : {};
  return {
    id: typeof a.id === "string" ? a.id : "",
    sha,
    repo: typeof contexts[0] === "string" ? contexts[0] : "",
    message: typeof attributes.message === "string" ? attributes.message : "",
    files: Array.isArray(attributes.files) ? attributes.files.filter((f): f is string => typeof f === "string") : [],
  };
}

/** Analyses one commit. */
export function analyze(commit: CommitAttestation, riskyFiles = DEFAULT_RISKY_FILES): Analysis {
  const files = new Set(commit.files).size;
  return { kind: classify(commit.message), files, risky: files > riskyFiles };
}
