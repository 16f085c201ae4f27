/**
 * The package resolves to one bundled file (scripts/bundle.mjs) so that loading it at start-up
 * costs one module, not 32. These tests read the built bundle (`pnpm test` builds first).
 */
import { describe, expect, it } from "@jest/globals";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as source from "../src/index.js";

const packageJson = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  exports: { ".": { default: string } };
};
const bundleUrl = new URL(`../${packageJson.exports["."].default}`, import.meta.url);

/** Every module specifier the file imports, statically or with `import()`. */
function importedSpecifiers(code: string): string[] {
  const found = new Set<string>();
  for (const match of code.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s*"([^"]+)"/gm)) found.add(match[1]);
  for (const match of code.matchAll(/^\s*import\s*"([^"]+)"/gm)) found.add(match[1]);
  for (const match of code.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) found.add(match[1]);
  return [...found].sort();
}

describe("the @qntx/protocol bundle", () => {
  it("is what the package resolves to, and imports only grpc-js and Node built-ins (selfsigned lazily)", () => {
    expect(packageJson.exports["."].default).toBe("./dist/bundle/index.js");
    const code = readFileSync(fileURLToPath(bundleUrl), "utf8");
    // selfsigned is loaded with import() on the first auto-mTLS certificate only (self-signed.ts).
    expect(code).not.toMatch(/^\s*import\b[^;(]*"selfsigned"/m);
    const outside = importedSpecifiers(code).filter((s) => s !== "@grpc/grpc-js" && s !== "selfsigned" && !s.startsWith("node:"));
    expect(outside).toEqual([]);
    expect(importedSpecifiers(code)).toContain("@grpc/grpc-js");
  });

  it("exports every value the source index exports", async () => {
    const bundle = (await import(bundleUrl.href)) as Record<string, unknown>;
    expect(Object.keys(bundle).sort()).toEqual(Object.keys(source).sort());
  });

  it("encodes bytes the source's codecs decode, and back", async () => {
    const bundle = (await import(bundleUrl.href)) as typeof source;
    const request = { jobId: "j-1", handlerName: "hello/greet", payload: Buffer.from('{"name":"you"}'), timeoutSecs: 30 };
    const fromBundle = source.ExecuteJobRequest.decode(bundle.ExecuteJobRequest.encode(bundle.ExecuteJobRequest.fromPartial(request)).finish());
    expect(fromBundle).toMatchObject({ jobId: "j-1", handlerName: "hello/greet", timeoutSecs: 30 });
    expect(Buffer.from(fromBundle.payload).toString()).toBe('{"name":"you"}');
    const frame = bundle.encodeWebSocketFrame({ type: 1, data: Buffer.from("hi"), headers: { k: "v" }, timestamp: 7n });
    expect(source.decodeWebSocketFrame(frame)).toEqual({ type: 1, data: Buffer.from("hi"), headers: { k: "v" }, timestamp: 7n });
  });
});
