/**
 * The service keys of `[host]` (fetch allow-list and limits, file size, provider choice) and
 * the `[pulse]` budget, in am.plugins.toml and as QNTX's am.toml spells the budget: defaults,
 * values read, and every mistake reported with its line.
 */
import { describe, expect, it } from "@jest/globals";
import { parseConfig } from "../src/config/index.js";
import { configError } from "./helpers/config-error.js";

const parse = (lines: string[], file = "am.plugins.toml") => parseConfig(`${lines.join("\n")}\n`, file, { cwd: "/tmp", env: { HOME: "/tmp/home" } });

describe("am.plugins.toml", () => {
  it("defaults to no fetches, 8 MiB files, no provider choice and no budget", () => {
    const config = parse([]);
    expect(config.services).toEqual({ fetchAllowedHosts: [], fetchTimeoutMs: 30_000, fetchMaxBytes: 10 * 1024 * 1024, fileMaxBytes: 8 * 1024 * 1024, providers: {} });
    expect(config.budget).toEqual({ overBudget: "wait" });
  });

  it("reads every service key and the [pulse] budget", () => {
    const config = parse([
      "[host]",
      'fetch_allowed_hosts = ["API.example.com", "*.example.org", "127.0.0.1:8080"]',
      "fetch_timeout_ms = 5000",
      "fetch_max_bytes = 2048",
      "file_max_bytes = 4096",
      'providers = { llm = "scry", search = "meili" }',
      "",
      "[pulse]",
      "daily_budget_usd = 3.0",
      "weekly_budget_usd = 7",
      "monthly_budget_usd = 0",
      'over_budget = "fail"',
    ]);
    expect(config.services).toEqual({
      fetchAllowedHosts: ["api.example.com", "*.example.org", "127.0.0.1:8080"], fetchTimeoutMs: 5000, fetchMaxBytes: 2048, fileMaxBytes: 4096,
      providers: { llm: "scry", search: "meili" },
    });
    expect(config.budget).toEqual({ dailyUsd: 3, weeklyUsd: 7, monthlyUsd: 0, overBudget: "fail" });
  });

  it("reports each mistake with its line", () => {
    const error = configError(() => parse([
      "[host]", //                                           1
      'fetch_allowed_hosts = ["https://x.org/path"]', //     2
      "file_max_bytes = 20000000", //                        3
      'providers = { chat = "x" }', //                       4
      "", //                                                 5
      "[pulse]", //                                          6
      "daily_budget_usd = -1", //                            7
      'over_budget = "panic"', //                            8
      "workers = 2", //                                      9
    ]));
    const text = error.message;
    expect(text).toContain('am.plugins.toml:2: host.fetch_allowed_hosts has "https://x.org/path", which is not a host name');
    expect(text).toContain("am.plugins.toml:3: host.file_max_bytes must be at most 12582912 bytes (got 20000000)");
    expect(text).toMatch(/am\.plugins\.toml:4: .*chat/);
    expect(text).toContain("am.plugins.toml:7: pulse.daily_budget_usd must be a number of US dollars >= 0 (got -1)");
    expect(text).toContain('am.plugins.toml:8: pulse.over_budget must be "wait" or "fail" (got "panic")');
    expect(text).toMatch(/am\.plugins\.toml:9: .*workers/);
  });
});

describe("QNTX's am.toml", () => {
  it("reads the budget keys of its [pulse] section and leaves QNTX's others alone", () => {
    const config = parse(["[pulse]", "workers = 2", "daily_budget_usd = 3.0", "weekly_budget_usd = 7.0", "monthly_budget_usd = 15.0", "cost_per_score_usd = 0.002", "", "[plugin]", "enabled = []"], "am.toml");
    expect(config.budget).toEqual({ dailyUsd: 3, weeklyUsd: 7, monthlyUsd: 15, overBudget: "wait" });
    expect(config.host.pulseConcurrency).toBe(2);
  });
});
