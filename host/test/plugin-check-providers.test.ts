/**
 * `qntx plugin check` on provider plugins: each service a plugin announces it provides is
 * called once on its port, as the host would forward a call; a flag set without the service
 * behind it fails with what to change.
 */
import { afterAll, describe, expect, it } from "@jest/globals";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { CLI, freePort } from "./harness.js";
import { PROVIDER_PLUGIN } from "./helpers/mesh.js";

const home = mkdtempSync(join(tmpdir(), "qntx-check-providers-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

async function check(args: string[]) {
  const basePort = String(await freePort());
  return execa(process.execPath, [CLI, "plugin", "check", PROVIDER_PLUGIN, "--base-port", basePort, "--port-line-timeout", "10", "--ready-timeout", "10", "--timeout", "10", ...args], { reject: false, env: { QNTX_HOME: home } });
}

describe("qntx plugin check on a provider", () => {
  it("calls each announced provider service once, and passes", async () => {
    const result = await check(["--", "--name", "brain", "--roles", "llm,embedding,vector_search,search"]);
    expect(result.stdout).toMatch(/^PASS {2}LLMService\.Chat \(llm_provider\) +Chat answered "brain: qntx plugin check \(caller=qntx-pl" \(model brain-model\)$/m);
    expect(result.stdout).toMatch(/^PASS {2}EmbeddingService\.Embed \(embedding_provider\) +Embed answered a vector of 8 dimensions \(model brain-hash\)$/m);
    expect(result.stdout).toMatch(/^PASS {2}VectorSearchService\.Search \(vector_search_provider\) +Search answered 0 result\(s\)$/m);
    expect(result.stdout).toMatch(/^PASS {2}SearchService\.Search \(search_provider\) +Search answered \(1 total\)$/m);
    expect(result.stdout).not.toMatch(/^FAIL/m);
    expect(result.exitCode).toBe(0);
  });

  it("fails a flag set without the service behind it", async () => {
    const result = await check(["--", "--name", "liar", "--roles", "llm", "--serve", "none"]);
    expect(result.stdout).toMatch(/^FAIL {2}LLMService\.Chat \(llm_provider\) +llm_provider is set, but the plugin does not serve LLMService on its port \(UNIMPLEMENTED\)$/m);
    expect(result.stdout).toMatch(/hint: register LLMService on the plugin's gRPC server beside DomainPluginService, or leave llm_provider unset/);
    expect(result.exitCode).toBe(1);
  });

  it("skips the step for a plugin that provides nothing", async () => {
    const result = await check(["--", "--name", "plain", "--roles", ""]);
    expect(result.stdout).toMatch(/^SKIP {2}Provider services +no provider flags set: the plugin provides no routed service$/m);
  });
});
