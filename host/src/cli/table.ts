/** Renders rows as a plain, aligned text table (no colours, so it pipes cleanly). */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(headers), ...rows.map(line)].join("\n");
}

/** A text progress bar, `[###·····] 3/8` (without a total: the count alone). */
export function progressBar(current: number, total: number, width = 24): string {
  if (total <= 0) return `[${"·".repeat(width)}] ${current || ""}`.trimEnd();
  const done = Math.round(Math.max(0, Math.min(1, current / total)) * width);
  return `[${"#".repeat(done)}${"·".repeat(width - done)}] ${current}/${total}`;
}
