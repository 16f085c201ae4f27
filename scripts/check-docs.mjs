#!/usr/bin/env node
// Fails when the repository points outside itself or at a page or section it does not have,
// so that a fresh clone reads whole:
//
// - a relative link in a markdown file (README.md, docs/, every other tracked *.md) whose file
//   does not exist, that leaves the repository (`../shared/…`), or whose `#anchor` names no
//   heading of the target page;
// - a mention of `../shared` or of the design notes kept beside the repository while it was
//   built (PROTOCOL.md, DESIGN.md, TOOLCHAIN.md) in any tracked text file;
// - a citation `docs/<page>.md §N` (or `§N.M`) in code or docs whose page does not exist or
//   has no heading numbered N;
// - a mention of a page of docs/ or a file of bench/notes, bench/investigations or bench/tools
//   (paths from the repository root) that does not exist: what a move leaves behind.
//
//   node scripts/check-docs.mjs [--root DIR]      (default: this repository)
//
// Files are those `git ls-files` lists under the root (tracked and untracked, not ignored).
// Exit 0 when all is well; 1 with one line per problem, `file:line: problem`, and a hint.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/**
 * Files allowed to name what lies outside: CI runs with the shared tools beside the clone, and
 * this check must spell out what it looks for.
 */
const ALLOWED_OUTSIDE = new Set([".ci/run", "scripts/check-docs.mjs"]);
/** Text files worth reading; anything else (images, lockfiles) is skipped. */
const TEXT = /\.(md|ts|mts|cts|js|mjs|cjs|json|sh|py|toml|proto|ya?ml|txt)$|(^|\/)run$/;
const OUTSIDE = /\.\.\/shared\b|\b(PROTOCOL|DESIGN|TOOLCHAIN)\.md\b/;
const CITATION = /\bdocs\/([\w-]+\.md) §(\d+)(?:\.(\d+))?/g;
/** Repository paths that files cite in prose and comments; a path inside a package's own folder is not one. */
const MENTION = /(?<![\w./-])(docs\/[\w-]+\.md|bench\/(?:notes|investigations|tools)\/[\w.-]+\.(?:md|mjs))\b/g;

/** The root to check, from `--root DIR` or this script's repository. */
function rootFromArgs(argv) {
  const i = argv.indexOf("--root");
  if (i >= 0) {
    if (!argv[i + 1]) usage("--root needs a folder");
    return resolve(argv[i + 1]);
  }
  return resolve(new URL("..", import.meta.url).pathname);
}

function usage(problem) {
  console.error(`check-docs: ${problem}\nusage: node scripts/check-docs.mjs [--root DIR]`);
  process.exit(2);
}

/** Tracked and untracked (not ignored) files under root, as paths relative to it. */
function listFiles(root) {
  try {
    const out = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: root, encoding: "utf8" });
    return [...new Set(out.split("\0").filter(Boolean))].filter((f) => existsSync(join(root, f)));
  } catch (error) {
    console.error(`check-docs: cannot list files in ${root}: ${error.message}\ncheck-docs: hint: run it inside a git checkout`);
    process.exit(2);
  }
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading) {
  return heading
    .replace(/`/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The lines of a markdown text outside code fences, each with its 1-based number. */
function* proseLines(text) {
  let fence = null;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const f = /^\s*(```|~~~)/.exec(lines[i]);
    if (f) {
      if (fence === null) fence = f[1];
      else if (f[1] === fence) fence = null;
      continue;
    }
    if (fence === null) yield [lines[i], i + 1];
  }
}

/** Headings of a markdown text: their anchors (numbered as GitHub does when repeated) and their numbers. */
function headingsOf(text) {
  const anchors = new Set();
  const numbers = new Set();
  const seen = new Map();
  for (const [line] of proseLines(text)) {
    const h = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = slug(h[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
    const num = /^(\d+(?:\.\d+)*)\.?\s/.exec(h[1]);
    if (num) numbers.add(num[1]);
  }
  return { anchors, numbers };
}

/** Markdown links `[text](target)` outside code fences and code spans, with their line. */
function linksOf(text) {
  const links = [];
  for (const [line, number] of proseLines(text)) {
    const bare = line.replace(/`[^`]*`/g, "``");
    for (const m of bare.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ target: m[1], line: number });
  }
  return links;
}

/** Every problem found under root, as `file:line: problem` lines. */
export function checkDocs(root) {
  const files = listFiles(root);
  const problems = [];
  const headingCache = new Map();
  const headings = (abs) => {
    if (!headingCache.has(abs)) headingCache.set(abs, headingsOf(readFileSync(abs, "utf8")));
    return headingCache.get(abs);
  };
  const inside = (abs) => abs === root || abs.startsWith(root + sep);

  for (const file of files) {
    if (!TEXT.test(file)) continue;
    const abs = join(root, file);
    if (!statSync(abs).isFile()) continue;
    const text = readFileSync(abs, "utf8");
    const lines = text.split("\n");

    if (!ALLOWED_OUTSIDE.has(file)) {
      lines.forEach((line, i) => {
        const m = OUTSIDE.exec(line);
        if (m) problems.push(`${file}:${i + 1}: points outside the repository (${m[0]}); hint: cite the repository's own page instead (docs/protocol.md, docs/architecture.md, docs/development.md …)`);
      });
    }

    lines.forEach((line, i) => {
      // A link's target is checked below, as a link.
      for (const m of line.replace(/\]\([^)]*\)/g, "]").matchAll(MENTION)) {
        if (!existsSync(join(root, m[1]))) problems.push(`${file}:${i + 1}: mentions ${m[1]}, which does not exist; hint: it may have moved (see bench/README.md and docs/)`);
      }
      for (const m of line.matchAll(CITATION)) {
        const page = join(root, "docs", m[1]);
        const section = m[3] ? `${m[2]}.${m[3]}` : m[2];
        // A page that does not exist is reported once, as a mention above.
        if (existsSync(page) && !headings(page).numbers.has(section)) problems.push(`${file}:${i + 1}: cites docs/${m[1]} §${section}, which has no heading numbered ${section}; hint: check the page's numbered headings`);
      }
    });

    if (!file.endsWith(".md")) continue;
    for (const { target, line } of linksOf(text)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
      const [pathPart, anchor] = target.split("#", 2);
      const targetAbs = pathPart === "" ? abs : resolve(dirname(abs), decodeURIComponent(pathPart));
      const shown = pathPart === "" ? `#${anchor}` : target;
      if (!inside(targetAbs)) {
        problems.push(`${file}:${line}: links outside the repository (${shown}); hint: link a page of this repository`);
        continue;
      }
      if (!existsSync(targetAbs)) {
        problems.push(`${file}:${line}: links ${shown}, which does not exist (${relative(root, targetAbs)}); hint: fix the path, relative to ${dirname(file) === "." ? "the repository root" : dirname(file) + "/"}`);
        continue;
      }
      if (anchor && targetAbs.endsWith(".md") && !headings(targetAbs).anchors.has(anchor)) {
        problems.push(`${file}:${line}: links ${shown}, but ${relative(root, targetAbs)} has no heading with that anchor; hint: anchors are headings in lower case, punctuation dropped, spaces as hyphens`);
      }
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const root = rootFromArgs(process.argv.slice(2));
  if (!existsSync(root)) usage(`${root} does not exist`);
  const problems = checkDocs(root);
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`check-docs: ${problems.length} problem${problems.length === 1 ? "" : "s"}`);
    process.exit(1);
  }
  console.log("check-docs: every link and citation resolves inside the repository");
}
