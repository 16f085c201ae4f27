/** Per-plugin tokens: one identity per token, revocation, re-issue replaces. */
import { expect, it } from "@jest/globals";
import { PluginTokens } from "../src/services/tokens.js";

it("maps each token to its plugin only", () => {
  const tokens = new PluginTokens();
  const a = tokens.issue("a");
  const b = tokens.issue("b");
  expect(a).not.toBe(b);
  expect(tokens.pluginFor(a)).toBe("a");
  expect(tokens.pluginFor(b)).toBe("b");
  expect(tokens.pluginFor("")).toBeUndefined();
  expect(tokens.pluginFor(`${a}x`)).toBeUndefined();
});

it("revokes a plugin's token at stop and replaces it at restart", () => {
  const tokens = new PluginTokens();
  const first = tokens.issue("a");
  const second = tokens.issue("a");
  expect(tokens.pluginFor(first)).toBeUndefined();
  expect(tokens.pluginFor(second)).toBe("a");
  tokens.revoke("a");
  expect(tokens.pluginFor(second)).toBeUndefined();
});
