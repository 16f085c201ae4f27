/**
 * Pulse's budgets (ADR-004: the core keeps "budget management"): QNTX's daily, weekly and
 * monthly limits as sliding 24 h / 7 d / 30 d windows over the usage record (usage-store.ts),
 * so spend cannot be gamed at a midnight. A check says whether an estimated cost fits in every
 * window, and when it does not, which window is over and when it frees up enough — the time
 * the oldest spends that must leave the window have left it, if nothing else is spent.
 */
import type { BudgetSettings } from "../config/types.js";
import type { UsageStore } from "./usage-store.js";

const HOUR_MS = 3_600_000;

/** The windows, in the order they are checked (QNTX's order). */
export const BUDGET_WINDOWS = [
  { window: "daily", key: "daily_budget_usd", field: "dailyUsd", ms: 24 * HOUR_MS },
  { window: "weekly", key: "weekly_budget_usd", field: "weeklyUsd", ms: 7 * 24 * HOUR_MS },
  { window: "monthly", key: "monthly_budget_usd", field: "monthlyUsd", ms: 30 * 24 * HOUR_MS },
] as const;

/** A window's name. */
export type BudgetWindowName = (typeof BUDGET_WINDOWS)[number]["window"];

/** One window's state, as `GET /api/pulse/budget` shows it. */
export interface WindowStatus {
  readonly window: BudgetWindowName;
  /** The `[pulse]` key that sets its limit. */
  readonly key: string;
  /** Its length in hours (24, 168, 720). */
  readonly hours: number;
  /** The limit in US dollars; null = no limit. */
  readonly limitUsd: number | null;
  readonly spentUsd: number;
  /** What is left (never below 0); null = no limit. */
  readonly remainingUsd: number | null;
  /** Spends with a cost in the window. */
  readonly operations: number;
}

/** Why a cost does not fit: the first window it would overrun. */
export interface BudgetRefusal {
  readonly window: BudgetWindowName;
  readonly key: string;
  readonly limitUsd: number;
  readonly spentUsd: number;
  readonly estimateUsd: number;
  /**
   * When the windows over the limit will have room for the estimate, if nothing more is spent
   * (unix ms); undefined when they never will (the estimate alone is over a limit).
   */
  readonly freesAt: number | undefined;
  /** One sentence naming the window, the limit, the spend and the estimate. */
  readonly message: string;
}

/** The budget over a usage record. */
export class Budget {
  constructor(
    private readonly settings: BudgetSettings,
    readonly usage: UsageStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether any limit is set (without one, nothing is ever refused). */
  get limited(): boolean {
    return BUDGET_WINDOWS.some((w) => this.settings[w.field] !== undefined);
  }

  /** What a job over budget does (`[pulse] over_budget`). */
  get overBudget(): "wait" | "fail" {
    return this.settings.overBudget;
  }

  /** Spend and what is left, per window. */
  async status(): Promise<WindowStatus[]> {
    const now = this.now();
    return Promise.all(BUDGET_WINDOWS.map(async (w) => {
      const { usd, count } = await this.usage.spendSince(now - w.ms);
      const limit = this.settings[w.field];
      return {
        window: w.window, key: w.key, hours: w.ms / HOUR_MS, limitUsd: limit ?? null, spentUsd: round(usd),
        remainingUsd: limit === undefined ? null : round(Math.max(0, limit - usd)), operations: count,
      };
    }));
  }

  /**
   * The refusal when spending `estimateUsd` now would take a window over its limit (QNTX's rule:
   * spent + estimate > limit), else undefined. `refuseWhenSpent`: refuse also when a window has
   * nothing left, for calls whose cost is only known afterwards (a routed provider call).
   */
  async check(estimateUsd: number, options: { refuseWhenSpent?: boolean } = {}): Promise<BudgetRefusal | undefined> {
    if (!this.limited) return undefined;
    const now = this.now();
    let first: Omit<BudgetRefusal, "freesAt" | "message"> | undefined;
    let freesAt: number | undefined = now;
    for (const w of BUDGET_WINDOWS) {
      const limit = this.settings[w.field];
      if (limit === undefined) continue;
      // The sum first (one indexed aggregate); the costs themselves only for a window that is over.
      const spent = (await this.usage.spendSince(now - w.ms)).usd;
      const over = spent + estimateUsd > limit + EPSILON || (options.refuseWhenSpent === true && spent >= limit - EPSILON);
      if (!over) continue;
      first ??= { window: w.window, key: w.key, limitUsd: limit, spentUsd: round(spent), estimateUsd };
      const costs = await this.usage.costsSince(now - w.ms);
      freesAt = freesAt === undefined ? undefined : laterOf(freesAt, freedAt(costs, spent, estimateUsd, limit, w.ms, options.refuseWhenSpent === true));
    }
    if (!first) return undefined;
    const message =
      `the ${first.window} budget (${first.key} = $${first.limitUsd}) would be exceeded: $${first.spentUsd} spent in the last ${windowText(first.window)}` +
      (estimateUsd > 0 ? ` + $${estimateUsd} estimated` : "") +
      (freesAt === undefined ? "; the estimate alone is over the limit" : `; room again at ${new Date(freesAt).toISOString()}`);
    return { ...first, freesAt, message };
  }
}

/** Rounding slack: sums of dollar floats drift in the last digits. */
const EPSILON = 1e-9;

/**
 * When the oldest costs have left the window enough for `estimate` to fit (or, `strict`, for
 * anything to be left); undefined when even an empty window is too small.
 */
function freedAt(costs: ReadonlyArray<{ at: number; usd: number }>, spent: number, estimate: number, limit: number, windowMs: number, strict: boolean): number | undefined {
  if (estimate > limit + EPSILON || (strict && limit <= 0)) return undefined;
  let left = spent;
  for (const c of costs) {
    left -= c.usd;
    if (left + estimate <= limit + EPSILON && (!strict || left < limit - EPSILON)) return c.at + windowMs + 1;
  }
  return undefined;
}

function laterOf(a: number, b: number | undefined): number | undefined {
  return b === undefined ? undefined : Math.max(a, b);
}

function windowText(window: BudgetWindowName): string {
  return window === "daily" ? "24 h" : window === "weekly" ? "7 days" : "30 days";
}

/** Dollars to a millionth, so sums print cleanly. */
function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
