/** Small statistics helpers: quantiles on sorted copies, median/min/max of round results. */

/** The q-quantile (0..1) of `values` by nearest rank on a sorted copy; NaN when empty. */
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

/** Median, min and max of `values`. */
export function summary(values) {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  return { median: quantile(finite, 0.5), min: Math.min(...finite), max: Math.max(...finite), n: finite.length };
}

/** A number for a table: 3 significant digits, thousands kept whole. */
export function fmt(value) {
  if (value === undefined || value === null || Number.isNaN(value)) return "—";
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString("en-US");
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}
