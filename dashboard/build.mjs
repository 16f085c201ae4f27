// Bundles the dashboard into dist/: index.html, app.js and app.css, each also gzipped and
// brotli-compressed (the host serves the smallest the browser accepts). One esbuild call, no
// dev server: `pnpm build` runs it, and the host serves dist/ as it is.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { brotliCompressSync, gzipSync } from "node:zlib";

const dist = new URL("./dist/", import.meta.url).pathname;
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
await build({
  entryPoints: { app: "src/main.tsx" },
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  jsx: "automatic",
  jsxImportSource: "preact",
  outdir: dist,
  legalComments: "none",
  logLevel: "warning",
});
copyFileSync("src/index.html", `${dist}index.html`);
let gzipped = 0;
for (const file of ["index.html", "app.js", "app.css"]) {
  const bytes = readFileSync(`${dist}${file}`);
  const gz = gzipSync(bytes, { level: 9 });
  gzipped += gz.length;
  writeFileSync(`${dist}${file}.gz`, gz);
  writeFileSync(`${dist}${file}.br`, brotliCompressSync(bytes));
}
console.log(`dashboard: ${(gzipped / 1024).toFixed(1)} KB gzipped (index.html, app.js, app.css)`);
