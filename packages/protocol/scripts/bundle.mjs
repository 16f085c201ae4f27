#!/usr/bin/env node
/**
 * Bundles the built package (dist/index.js and the ES modules under it, with
 * @bufbuild/protobuf) into one file, dist/bundle/index.js, which is what `@qntx/protocol`
 * resolves to at run time. Types still come from tsc's dist/*.d.ts.
 *
 * Why: every host and every TypeScript plugin loads this package at start-up, and Node 20's
 * ES module loader costs about 1.3 ms of CPU per module file. The 32 files of the unbundled
 * package took about 70 ms to load beyond grpc-js; the single file takes about 27 ms
 * (bench/notes/11-node-plugin-boot.md). @grpc/grpc-js stays external, so a process that also uses
 * grpc-js directly keeps one copy of it (its classes are checked with instanceof).
 */
import { cpSync } from "node:fs";
import { build } from "esbuild";

const packageDir = new URL("..", import.meta.url).pathname;

await build({
  absWorkingDir: packageDir,
  entryPoints: ["dist/index.js"],
  outfile: "dist/bundle/index.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["@grpc/grpc-js", "selfsigned", "@grpc/reflection", "@grpc/proto-loader"],
  // Chains tsc's maps, so `node --enable-source-maps` points into src/*.ts.
  sourcemap: true,
  logLevel: "warning",
});

// The .proto files, for server reflection (src/grpc-reflection.ts): the protocol's own and the
// standard health.proto kept in this package.
cpSync(new URL("../../../proto/", import.meta.url), new URL("../dist/proto/", import.meta.url), { recursive: true });
cpSync(new URL("../proto/", import.meta.url), new URL("../dist/proto/", import.meta.url), { recursive: true });
