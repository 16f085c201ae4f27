#!/usr/bin/env node
// The `qntx-ts-runner` bin. It is a file of the source tree, not of dist/, so that
// `pnpm install` on a fresh clone can link it before anything is built (a bin pointing into
// dist/ made pnpm warn "Failed to create bin" once per package depending on the SDK).
// The runner itself is dist/qntx-runner/cli.js, made by `pnpm build`.
const built = new URL("../dist/qntx-runner/cli.js", import.meta.url);
try {
  await import(built.href);
} catch (error) {
  // Only the built file itself missing; a missing module it imports is another error.
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes(`'${decodeURIComponent(built.pathname)}'`)) throw error;
  console.error("qntx-ts-runner: error: @qntx/sdk is not built yet (no dist/qntx-runner/cli.js)\nqntx-ts-runner: hint: run `pnpm build` in the repository first");
  process.exit(1);
}
