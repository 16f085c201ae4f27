/**
 * The error catalogue is the one place codes are declared: docs/errors.md lists exactly its
 * codes with the same statuses, every code is raised somewhere in the sources, and the two
 * error classes and the answer shape take their defaults from it.
 */
import { describe, expect, it } from "@jest/globals";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { status } from "@grpc/grpc-js";
import { ERROR_CATALOGUE, ERROR_CODES, PluginCallError, QntxError, errorBody, grpcStatusToHttp, isQntxErrorCode, pluginCallErrorCode } from "../src/index.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** `code → status` of every table row of docs/errors.md whose first cell is a code. */
function documentedCodes(): Map<string, number> {
  const rows = new Map<string, number>();
  for (const line of readFileSync(join(root, "docs/errors.md"), "utf8").split("\n")) {
    const row = /^\|\s*`([A-Z_]+)`\s*\|\s*(\d{3})\s*\|/.exec(line);
    if (!row) continue;
    expect(rows.has(row[1]!)).toBe(false);
    rows.set(row[1]!, Number(row[2]));
  }
  return rows;
}

/** Every `.ts` file under `dir`, recursively, without generated code. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === "gen" || entry === "node_modules" ? [] : sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

describe("the catalogue and docs/errors.md", () => {
  it("list the same codes with the same statuses", () => {
    const documented = documentedCodes();
    const catalogued = new Map(ERROR_CODES.map((code) => [code, ERROR_CATALOGUE[code].status]));
    // Named both ways, so a failure says which side lacks what.
    expect({ missingFromDocs: ERROR_CODES.filter((code) => !documented.has(code)), notInCatalogue: [...documented.keys()].filter((code) => !isQntxErrorCode(code)) }).toEqual({
      missingFromDocs: [],
      notInCatalogue: [],
    });
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(catalogued));
  });

  it("has an error status, a message and a hint for every code", () => {
    for (const code of ERROR_CODES) {
      const spec = ERROR_CATALOGUE[code];
      expect({ code, errorStatus: spec.status >= 400 && spec.status <= 599, message: spec.message.length > 0, hint: spec.hint.length > 0 }).toEqual({ code, errorStatus: true, message: true, hint: true });
    }
  });

  it("holds no code that nothing raises", () => {
    const sources = ["packages/protocol/src", "packages/ats/src", "packages/pulse/src", "host/src", "sdk/src"]
      .flatMap((dir) => sourceFiles(join(root, dir)))
      .filter((file) => !file.endsWith("error-catalogue.ts"))
      .map((file) => readFileSync(file, "utf8"))
      .join("\n");
    expect(ERROR_CODES.filter((code) => !sources.includes(`"${code}"`))).toEqual([]);
  });
});

describe("QntxError and the answer shape", () => {
  it("take the catalogue's message and hint when the thrower gives none", () => {
    const bare = new QntxError("HOST_STOPPING");
    expect([bare.message, bare.hint, bare.status]).toEqual([ERROR_CATALOGUE.HOST_STOPPING.message, ERROR_CATALOGUE.HOST_STOPPING.hint, 503]);
    const own = new QntxError("PLUGIN_NOT_FOUND", 'no plugin named "x"', { hint: "try y" });
    expect(own.toJSON()).toEqual({ error: 'no plugin named "x"', code: "PLUGIN_NOT_FOUND", hint: "try y" });
    expect(own.describe()).toBe('no plugin named "x"\n  hint: try y');
  });

  it("builds {error, code, hint} bodies whose extras never replace the three", () => {
    expect(errorBody("PLUGIN_UNAVAILABLE", "plugin p is stopped", undefined, { state: "stopped", code: "nope" })).toEqual({
      error: "plugin p is stopped",
      code: "PLUGIN_UNAVAILABLE",
      hint: ERROR_CATALOGUE.PLUGIN_UNAVAILABLE.hint,
      state: "stopped",
    });
  });
});

describe("a failed plugin call", () => {
  it("maps its gRPC status to a catalogue code, and that code's status is the HTTP answer", () => {
    const cases: Array<[number, string, number]> = [
      [status.DEADLINE_EXCEEDED, "PLUGIN_TIMEOUT", 504],
      [status.NOT_FOUND, "PLUGIN_UNIMPLEMENTED", 404],
      [status.UNIMPLEMENTED, "PLUGIN_UNIMPLEMENTED", 404],
      [status.UNAVAILABLE, "PLUGIN_CALL_FAILED", 502],
      [status.INTERNAL, "PLUGIN_CALL_FAILED", 502],
      [status.CANCELLED, "PLUGIN_CALL_FAILED", 502],
    ];
    for (const [code, errorCode, http] of cases) {
      const error = new PluginCallError(code, "x", { method: "HandleHTTP" });
      expect([pluginCallErrorCode(code), error.errorCode, error.httpStatus, grpcStatusToHttp(code)]).toEqual([errorCode, errorCode, http, http]);
    }
    expect(grpcStatusToHttp(status.OK)).toBe(200);
    expect(new PluginCallError(status.DEADLINE_EXCEEDED, "x").grpcStatus).toBe("DEADLINE_EXCEEDED");
  });
});
