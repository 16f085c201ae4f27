/** Grant patterns and how grants read in `qntx plugin check`. */
import { describe, expect, it } from "@jest/globals";
import { pino } from "pino";
import { GrantChecker, describeGrants, matches } from "../src/services/grants.js";
import { parseConfig } from "../src/config/index.js";

describe("grant patterns", () => {
  it("match exactly without *, and * spans any characters, / included", () => {
    expect(matches("analyzer/analyze", "analyzer/analyze")).toBe(true);
    expect(matches("analyzer/analyze", "analyzer/analyzeX")).toBe(false);
    expect(matches("analyzer/*", "analyzer/analyze")).toBe(true);
    expect(matches("analyzer/*", "analyzerx/analyze")).toBe(false);
    expect(matches("*", "a/b/c")).toBe(true);
    expect(matches("review.*", "review.ok")).toBe(true);
    expect(matches("review.*", "reviewXok")).toBe(false);
  });
});

describe("GrantChecker", () => {
  it("allows what is granted, refuses the rest naming the grant, and treats no keys as everything", () => {
    const grants = new GrantChecker((p) => (p === "limited" ? { enqueue: ["limited/*"], services: [] } : undefined), pino({ level: "silent" }));
    expect(grants.refusal("limited", "enqueue", "limited/x")).toBeUndefined();
    expect(grants.refusal("limited", "enqueue", "other/x")).toContain('its grant is enqueue = ["limited/*"]');
    expect(grants.refusal("limited", "services", "ats")).toContain("may not call the ats service");
    expect(grants.refusal("limited", "attest", "anything")).toBeUndefined();
    expect(grants.refusal("free", "services", "queue")).toBeUndefined();
  });
});

describe("grants in the config", () => {
  it("are read from a plugin's table and described for plugin check", () => {
    const config = parseConfig(
      '[plugins.a]\nbuiltin = "clock"\nenqueue = ["a/*"]\nattest = []\nservices = ["queue"]\n\n[plugins.b]\nbuiltin = "clock"\n',
      undefined,
    );
    const [a, b] = config.plugins;
    expect(a!.grants).toEqual({ enqueue: ["a/*"], attest: [], services: ["queue"] });
    expect(describeGrants(a!.grants)).toBe("services: queue; enqueue: a/*; attest: none");
    expect(b!.grants).toBeUndefined();
    expect(describeGrants(b!.grants)).toBe("services: any; enqueue: any; attest: any");
  });

  it("refuse an unknown service name with the known ones", () => {
    expect(() => parseConfig('[plugins.a]\nbuiltin = "clock"\nservices = ["ftp"]\n', "am.plugins.toml")).toThrow(/am\.plugins\.toml:3: plugins\.a\.services names an unknown service "ftp"/);
  });
});
