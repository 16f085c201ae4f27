/**
 * The commit batch the `ingest` plugin accepts (over HTTP or as a job payload), its
 * validation, and how one commit becomes a `committed` attestation.
 */

/** One git commit as a client sends it. */
export interface Commit {
  sha: string;
  author: string;
  message: string;
  files: string[];
}

/** What `POST /commits` and the `import` job take. */
export interface CommitBatch {
  repo: string;
  commits: Commit[];
}

/** The predicate of a commit attestation; the analyzer plugin watches it. */
export const COMMITTED = "committed";

/** Most commits in one batch: one batch is one gRPC message and one store transaction. */
export const MAX_COMMITS = 1_000;

/** Most files listed per commit. */
export const MAX_FILES = 10_000;

/** A batch that is not valid; the message names every problem found. */
export class InvalidBatchError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid commit batch: ${problems.join("; ")}`);
    this.name = "InvalidBatchError";
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);
const nonEmpty = (value: unknown): value is string => typeof value === "string" && value.trim() !== "";

/**
 * Checks `body` is `{ repo, commits: [{ sha, author, message, files? }] }` and returns it
 * normalised (`files` defaults to []). Throws {@link InvalidBatchError} listing what is wrong.
 */
export function parseBatch(body: unknown): CommitBatch {
  const problems: string[] = [];
  if (!isObject(body)) throw new InvalidBatchError(['expected a JSON object { "repo": "…", "commits": [{ "sha", "author", "message", "files"? }] }']);
  if (!nonEmpty(body.repo)) problems.push("repo must be a non-empty string");
  const commits: Commit[] = [];
  if (!Array.isArray(body.commits) || body.commits.length === 0) {
    problems.push("commits must be a non-empty array");
  } else if (body.commits.length > MAX_COMMITS) {
    problems.push(`at most ${MAX_COMMITS} commits per batch (got ${body.commits.length}); split it`);
  } else {
    body.commits.forEach((raw: unknown, i: number) => {
      const at = `commits[${i}]`;
      if (!isObject(raw)) {
        problems.push(`${at} must be an object`);
        return;
      }
      const before = problems.length;
      if (!nonEmpty(raw.sha) || /\s/.test(raw.sha)) problems.push(`${at}.sha must be a non-empty string without spaces`);
      if (!nonEmpty(raw.author)) problems.push(`${at}.author must be a non-empty string`);
      if (typeof raw.message !== "string") problems.push(`${at}.message must be a string`);
      const files = raw.files ?? [];
      if (!Array.isArray(files) || !files.every((f) => typeof f === "string")) problems.push(`${at}.files must be an array of strings`);
      else if (files.length > MAX_FILES) problems.push(`${at}.files: at most ${MAX_FILES} files`);
      if (problems.length === before) {
        commits.push({ sha: raw.sha as string, author: raw.author as string, message: raw.message as string, files: [...(files as string[])] });
      }
    });
  }
  // Stop listing after a few: a 1,000-commit batch with one bad field everywhere is one mistake.
  if (problems.length > 10) problems.splice(10, problems.length - 10, `… and ${problems.length - 10} more`);
  if (problems.length > 0) throw new InvalidBatchError(problems);
  return { repo: (body.repo as string).trim(), commits };
}

/** The attestation of one commit: subjects [sha], predicates ["committed"], contexts [repo], actors [author]. */
export function commitAttestation(repo: string, commit: Commit) {
  return {
    subjects: [commit.sha],
    predicates: [COMMITTED],
    contexts: [repo],
    actors: [commit.author],
    attributes: { message: commit.message, files: commit.files },
    source: "ingest",
  };
}

/** A stored commit attestation as `GET /commits` shows it. */
export function commitView(a: { id: string; subjects: string[]; contexts: string[]; actors: string[]; timestamp: number; attributes?: Record<string, unknown> | undefined }) {
  const attributes = a.attributes ?? {};
  return {
    id: a.id,
    sha: a.subjects[0] ?? "",
    repo: a.contexts[0] ?? "",
    author: a.actors[0] ?? "",
    message: typeof attributes.message === "string" ? attributes.message : "",
    files: Array.isArray(attributes.files) ? attributes.files : [],
    timestamp: a.timestamp,
  };
}
