/**
 * The line a host logs once its plugins have started: what a person needs to go on — where
 * the dashboard and the API are, where the admin token is, and how many plugins run.
 */

/** What the start line says. */
export interface StartLineFacts {
  /** The host's base URL (`http://127.0.0.1:8770`). */
  readonly url: string;
  readonly tokenFile: string;
  readonly running: number;
  readonly total: number;
}

/** `7 of 8 plugins running · dashboard http://…/ · API http://…/api · admin token in …`. */
export function startLine(facts: StartLineFacts): string {
  return `${facts.running} of ${facts.total} plugins running · dashboard ${facts.url}/ · API ${facts.url}/api · admin token in ${facts.tokenFile}`;
}
