/**
 * What a bookmark is: the checks on a POST body and the mapping to and from the attestation
 * that stores it (subjects [url], predicates ["bookmarked"], contexts = tags, attributes.title).
 */
import type { Attestation } from "@qntx/protocol";

/** The predicate of a stored bookmark. */
export const PREDICATE = "bookmarked";

const TAG = /^[A-Za-z0-9_-]{1,40}$/;
const MAX_TAGS = 10;
const MAX_TITLE = 200;

/** A bookmark as the API shows it. */
export interface Bookmark {
  url: string;
  title: string;
  tags: string[];
  /** When it was saved, unix milliseconds. */
  savedAt: number;
}

/** A valid POST body, tags defaulted. */
export interface BookmarkInput {
  url: string;
  title: string;
  tags: string[];
}

/** Checks a POST body; returns every problem at once as one message, or the input. */
export function parseBookmark(body: unknown, defaultTag: string): BookmarkInput | string {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return 'expected a JSON object like {"url": "https://…", "title": "…", "tags": ["…"]}';
  const { url, title, tags } = body as Record<string, unknown>;
  const problems: string[] = [];
  let parsed: URL | undefined;
  try {
    parsed = typeof url === "string" ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) problems.push("url must be an http(s) URL");
  if (title !== undefined && (typeof title !== "string" || title.length > MAX_TITLE)) problems.push(`title must be a string of at most ${MAX_TITLE} characters`);
  if (tags !== undefined && (!Array.isArray(tags) || tags.length > MAX_TAGS || !tags.every((t) => typeof t === "string" && TAG.test(t)))) {
    problems.push(`tags must be at most ${MAX_TAGS} words of letters, digits, "_" and "-"`);
  }
  if (problems.length > 0 || !parsed) return `invalid bookmark: ${problems.join("; ")}`;
  const list = Array.isArray(tags) && tags.length > 0 ? [...new Set(tags as string[])] : [defaultTag];
  return { url: parsed.href, title: typeof title === "string" && title !== "" ? title : parsed.hostname, tags: list };
}

/** The bookmark an attestation stores. */
export function toBookmark(attestation: Attestation): Bookmark {
  const title = attestation.attributes?.title;
  return { url: attestation.subjects[0] ?? "", title: typeof title === "string" ? title : "", tags: attestation.contexts, savedAt: attestation.timestamp };
}

/** Newest first, one entry per URL (saving a URL again replaces its title and tags). */
export function latestPerUrl(attestations: readonly Attestation[]): Bookmark[] {
  const seen = new Set<string>();
  const out: Bookmark[] = [];
  for (const attestation of attestations) {
    const bookmark = toBookmark(attestation);
    if (seen.has(bookmark.url)) continue;
    seen.add(bookmark.url);
    out.push(bookmark);
  }
  return out;
}

/** `<`, `>`, `&` and quotes made safe for HTML text and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
