/** Alternating rounds: baseline and ours take turns, and the side that goes first alternates too. */

/**
 * Runs `sides.baseline(round)` and `sides.ours(round)` `rounds` times, alternating (B O, O B,
 * B O…), and collects each side's results in order. `log` gets one line per run.
 */
export async function alternate(rounds, sides, log = () => {}) {
  const out = { baseline: [], ours: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ["baseline", "ours"] : ["ours", "baseline"];
    for (const side of order) {
      const result = await sides[side](r);
      out[side].push(result);
      log(`  round ${r + 1}/${rounds} ${side.padEnd(8)} ${JSON.stringify(result, (k, v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v))}`);
    }
  }
  return out;
}

/** Runs `fn(round)` `rounds` times (cases without a baseline). */
export async function repeat(rounds, fn, log = () => {}) {
  const out = [];
  for (let r = 0; r < rounds; r++) {
    const result = await fn(r);
    out.push(result);
    log(`  round ${r + 1}/${rounds} ${JSON.stringify(result, (k, v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v))}`);
  }
  return out;
}

export const pick = (results, key) => results.map((r) => r[key]);
