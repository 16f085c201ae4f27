/**
 * Finds the line of each key and table header in TOML source text. smol-toml returns values
 * only, without positions, yet a validation error is only useful when it names the line.
 * The document has already been parsed successfully when this runs, so the scanner can be
 * small: it follows table headers, dotted keys and quoted keys, and skips values (strings,
 * multi-line strings, arrays and inline tables spanning lines) so their contents never look
 * like keys. Keys inside inline tables are not indexed; they fall back to the enclosing key.
 *
 * Arrays of tables are indexed too: the i-th `[[plugins]]` header is `["plugins", "[i]"]` and
 * its keys `["plugins", "[i]", key]`, as TOML nests them. A header or key is also recorded under
 * its path as written (`[plugins.hello]` after a `[[plugins]]` is `["plugins", "hello"]` as
 * well as `["plugins", "[0]", "hello"]`), so a caller that treats such a table as what the user
 * meant can still find its line. The first occurrence of a path wins.
 */

/** Positions of the keys and table headers of one TOML document. */
export class SourceIndex {
  private readonly lines = new Map<string, number>();
  private readonly headers = new Map<string, number>();

  constructor(text: string) {
    scan(text, (path, line, header) => {
      const id = pathId(path);
      if (!this.lines.has(id)) this.lines.set(id, line);
      if (header && !this.headers.has(id)) this.headers.set(id, line);
    });
  }

  /** Line of the first table header (`[a.b]` or `[[a.b]]`) whose path, as written, is exactly `path`. */
  headerLine(path: readonly string[]): number | undefined {
    return this.headers.get(pathId(path));
  }

  /** True when some header, as written, starts with `path` (`[plugins.hello.config]` starts with plugins.hello). */
  hasHeaderUnder(path: readonly string[]): boolean {
    const prefix = pathId(path).slice(0, -1);
    for (const id of this.headers.keys()) if (id === pathId(path) || id.startsWith(`${prefix},`)) return true;
    return false;
  }

  /** Line of exactly `path` (a key or a table header), or undefined. */
  exactLine(path: readonly string[]): number | undefined {
    return this.lines.get(pathId(path));
  }

  /** Line of `path`, else of its nearest ancestor that appears in the text, else undefined. */
  lineOf(path: readonly string[]): number | undefined {
    for (let length = path.length; length > 0; length--) {
      const line = this.lines.get(pathId(path.slice(0, length)));
      if (line !== undefined) return line;
    }
    return undefined;
  }
}

function pathId(path: readonly string[]): string {
  return JSON.stringify(path);
}

const BARE_KEY = /[A-Za-z0-9_-]+/y;

/**
 * Calls `record(path, line, header)` for every table header and key (and the prefixes of dotted
 * ones), under the path as written and, inside arrays of tables, under the indexed path.
 */
function scan(text: string, record: (path: readonly string[], line: number, header: boolean) => void): void {
  const n = text.length;
  let i = 0;
  let line = 1;
  let table: string[] = [];
  // Index of the last entry of each array of tables, by its indexed path.
  const arrays = new Map<string, number>();
  /** `path` as written → the path TOML gives it, with `[i]` after each array of tables. */
  const indexed = (path: readonly string[]): string[] => {
    const out: string[] = [];
    for (const part of path) {
      out.push(part);
      const index = arrays.get(pathId(out));
      if (index !== undefined) out.push(`[${index}]`);
    }
    return out;
  };

  const skipSpaces = (): void => {
    while (i < n && (text[i] === " " || text[i] === "\t")) i++;
  };
  const skipToEol = (): void => {
    while (i < n && text[i] !== "\n") i++;
  };
  const recordWithPrefixes = (path: readonly string[], header = false): void => {
    for (let length = 1; length <= path.length; length++) record(path.slice(0, length), line, header && length === path.length);
    const nested = indexed(path);
    for (let length = 1; length <= nested.length; length++) record(nested.slice(0, length), line, false);
  };

  /** Reads a possibly dotted, possibly quoted key; undefined when there is none here. */
  const readKey = (): string[] | undefined => {
    const parts: string[] = [];
    for (;;) {
      skipSpaces();
      const c = text[i];
      if (c === '"') {
        let j = i + 1;
        while (j < n && text[j] !== '"' && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
        parts.push(unescapeBasic(text.slice(i + 1, j)));
        i = j + 1;
      } else if (c === "'") {
        let j = i + 1;
        while (j < n && text[j] !== "'" && text[j] !== "\n") j++;
        parts.push(text.slice(i + 1, j));
        i = j + 1;
      } else {
        BARE_KEY.lastIndex = i;
        const match = BARE_KEY.exec(text);
        if (!match) return parts.length > 0 ? parts : undefined;
        parts.push(match[0]);
        i += match[0].length;
      }
      skipSpaces();
      if (text[i] !== ".") return parts;
      i++;
    }
  };

  /** Skips one string starting at `i` (basic, literal, or their multi-line forms). */
  const skipString = (): void => {
    const quote = text[i]!;
    const triple = quote.repeat(3);
    if (text.startsWith(triple, i)) {
      i += 3;
      while (i < n) {
        if (quote === '"' && text[i] === "\\") {
          if (text[i + 1] === "\n") line++;
          i += 2;
        } else if (text.startsWith(triple, i)) {
          i += 3;
          // Up to two quotes may directly precede the closing delimiter ("""a"""" is legal).
          while (text[i] === quote) i++;
          return;
        } else {
          if (text[i] === "\n") line++;
          i++;
        }
      }
      return;
    }
    i++;
    while (i < n && text[i] !== quote && text[i] !== "\n") i += quote === '"' && text[i] === "\\" ? 2 : 1;
    if (text[i] === quote) i++;
  };

  /** Skips a value up to the end of its (last) line, following brackets across lines. */
  const skipValue = (): void => {
    let depth = 0;
    while (i < n) {
      const c = text[i];
      if (c === '"' || c === "'") skipString();
      else if (c === "#") skipToEol();
      else if (c === "\n") {
        if (depth <= 0) return;
        line++;
        i++;
      } else {
        if (c === "[" || c === "{") depth++;
        else if (c === "]" || c === "}") depth--;
        i++;
      }
    }
  };

  while (i < n) {
    const c = text[i];
    if (c === "\n") {
      line++;
      i++;
    } else if (c === " " || c === "\t" || c === "\r") {
      i++;
    } else if (c === "#") {
      skipToEol();
    } else if (c === "[") {
      const isArray = text[i + 1] === "[";
      i += isArray ? 2 : 1;
      const key = readKey();
      if (key) {
        if (isArray) {
          // A new entry: its parent's entries are already indexed, so only the last part counts.
          const array = pathId([...indexed(key.slice(0, -1)), key[key.length - 1]!]);
          arrays.set(array, (arrays.get(array) ?? -1) + 1);
        }
        table = key;
        recordWithPrefixes(key, true);
      }
      skipToEol();
    } else {
      const key = readKey();
      if (!key) {
        skipToEol();
        continue;
      }
      recordWithPrefixes([...table, ...key]);
      skipSpaces();
      if (text[i] === "=") i++;
      skipValue();
    }
  }
}

/** Unescapes the body of a quoted key; the common escapes are JSON's, others are kept raw. */
function unescapeBasic(raw: string): string {
  if (!raw.includes("\\")) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}
