/**
 * Collecting step results and printing them: one `PASS|FAIL|SKIP  <title>  <detail>` line per
 * step (a FAIL, and a SKIP that can be run with a flag, add an indented `hint:` line), then a
 * count line; or the whole report as JSON.
 */
import type { CheckReport, StepResult, StepStatus } from "./types.js";

/** Collects results in the order the steps ran. */
export class StepRecorder {
  readonly steps: StepResult[] = [];

  /** Records a passed step. */
  pass(id: string, title: string, detail: string): void {
    this.add({ id, title, status: "PASS", detail });
  }

  /** Records a failed step with a hint on what to change. */
  fail(id: string, title: string, detail: string, hint?: string): void {
    this.add(hint ? { id, title, status: "FAIL", detail, hint } : { id, title, status: "FAIL", detail });
  }

  /** Records a step that did not apply or was not reached, and why (with how to run it, when it can be). */
  skip(id: string, title: string, detail: string, hint?: string): void {
    this.add(hint ? { id, title, status: "SKIP", detail, hint } : { id, title, status: "SKIP", detail });
  }

  /** Whether any step with this id failed. */
  failed(id: string): boolean {
    return this.steps.some((s) => s.id === id && s.status === "FAIL");
  }

  private add(result: StepResult): void {
    // One line each: a multi-line message (a plugin's output tail) would break the layout.
    this.steps.push({ ...result, detail: oneLine(result.detail), ...(result.hint ? { hint: oneLine(result.hint) } : {}) });
  }
}

/** The report of a finished run. */
export function buildReport(target: string, kind: CheckReport["kind"], plugin: CheckReport["plugin"], steps: readonly StepResult[]): CheckReport {
  const count = (status: StepStatus): number => steps.filter((s) => s.status === status).length;
  const failed = count("FAIL");
  return { target, kind, plugin, steps, passed: count("PASS"), failed, skipped: count("SKIP"), ok: failed === 0 };
}

/** The report as lines for a terminal; with `colour`, PASS green, FAIL red, SKIP dim. */
export function formatReport(report: CheckReport, colour = false): string {
  const paint = (status: StepStatus): string => {
    if (!colour) return status;
    const code = status === "PASS" ? 32 : status === "FAIL" ? 31 : 2;
    return `\x1b[${code}m${status}\x1b[0m`;
  };
  const width = Math.min(36, Math.max(...report.steps.map((s) => s.title.length), 10));
  const lines = [`qntx plugin check ${report.target}${report.plugin ? ` (${report.plugin.name} ${report.plugin.version})` : ""}`];
  for (const step of report.steps) {
    lines.push(`${paint(step.status)}  ${step.title.padEnd(width)}  ${step.detail}`);
    if (step.hint) lines.push(`${" ".repeat(6)}hint: ${step.hint}`);
  }
  lines.push(`${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped${report.ok ? "" : ": this plugin would not work as expected in a host"}`);
  return lines.join("\n");
}

/** Collapses whitespace runs and newlines so a detail stays on one line; caps its length. */
export function oneLine(text: string, max = 400): string {
  const flat = text.replace(/\s*\n\s*/g, " | ").replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
