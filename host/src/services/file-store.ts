/**
 * Files the host keeps for plugins (FileService, `POST /api/files`, `qntx file put`): each is
 * `<data_dir>/files/<id>` with a `<id>.json` beside it holding its MIME type, size, name and
 * time. An id is a UUID, plus the file's extension when it had one (QNTX's ids look the same:
 * `<uuid>.pdf`), and a read accepts the id with or without the extension. Ids are checked
 * against that shape before any path is built, so no id reaches outside the folder.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { QntxError } from "@qntx/protocol";
import { writeFileAtomicSync } from "../atomic-file.js";

/** What the host knows of a stored file. */
export interface StoredFile {
  readonly id: string;
  /** The name it was uploaded with ("" when none). */
  readonly name: string;
  readonly mimeType: string;
  readonly size: number;
  /** ISO time of the upload. */
  readonly createdAt: string;
}

/** `<uuid>` or `<uuid>.<ext>`, lower case. */
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.[a-z0-9]{1,16})?$/;

/** MIME types by extension, as QNTX's FileService maps them, plus a few common ones. */
const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  ".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
  ".webp": "image/webp", ".svg": "image/svg+xml", ".txt": "text/plain", ".md": "text/markdown", ".json": "application/json",
  ".csv": "text/csv", ".html": "text/html",
};

/** The store under one folder. */
export class FileStore {
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  /**
   * Stores `data`. The MIME type is `mimeType` when given (a type without parameters; the
   * generic `application/octet-stream` counts as not given), else guessed from `name`'s
   * extension, else `application/octet-stream`.
   * @throws QntxError PAYLOAD_TOO_LARGE over `maxBytes`, INVALID_ARGUMENT for an empty file
   */
  put(data: Buffer, options: { name?: string; mimeType?: string } = {}): StoredFile {
    if (data.length > this.maxBytes) {
      throw new QntxError("PAYLOAD_TOO_LARGE", `the file has ${data.length} bytes; the host stores files of at most ${this.maxBytes} bytes`, { hint: "raise [host] file_max_bytes (at most 12 MiB: a file travels whole, in base64, in one gRPC answer)" });
    }
    if (data.length === 0) throw new QntxError("INVALID_ARGUMENT", "the file is empty", { hint: "send the file's bytes as the request body" });
    const name = (options.name ?? "").replace(/[\\/]/g, "_").slice(0, 255);
    const ext = extname(name).toLowerCase();
    const id = /^\.[a-z0-9]{1,16}$/.test(ext) ? `${randomUUID()}${ext}` : randomUUID();
    const mimeType = cleanMime(options.mimeType) ?? MIME_BY_EXTENSION[ext] ?? "application/octet-stream";
    const file: StoredFile = { id, name, mimeType, size: data.length, createdAt: new Date().toISOString() };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileAtomicSync(join(this.dir, id), data, { mode: 0o600 });
    writeFileAtomicSync(join(this.dir, `${id}.json`), `${JSON.stringify(file)}\n`, { mode: 0o600 });
    return file;
  }

  /**
   * The file and its bytes.
   * @throws QntxError INVALID_ARGUMENT for an id that is not one this store gives, NOT_FOUND for an unknown one
   */
  read(fileId: string): { file: StoredFile; data: Buffer } {
    const id = this.resolve(fileId);
    const file = JSON.parse(readFileSync(join(this.dir, `${id}.json`), "utf8")) as StoredFile;
    return { file, data: readFileSync(join(this.dir, id)) };
  }

  /** Every stored file, oldest first. */
  list(): StoredFile[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith(".json") && ID.test(n.slice(0, -5)))
      .map((n) => JSON.parse(readFileSync(join(this.dir, n), "utf8")) as StoredFile)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  /** The stored id for `fileId` (with or without its extension). */
  private resolve(fileId: string): string {
    const wanted = fileId.trim().toLowerCase();
    if (!ID.test(wanted)) {
      throw new QntxError("INVALID_ARGUMENT", `invalid file id ${JSON.stringify(fileId.slice(0, 80))}: ids are a UUID with an optional extension`, { hint: "use the id the upload answered (qntx file put, POST /api/files)" });
    }
    if (exists(join(this.dir, `${wanted}.json`))) return wanted;
    // A bare UUID names the file with whatever extension it was stored with (as QNTX globs id.*).
    if (!wanted.includes(".")) {
      const match = this.list().find((f) => f.id.startsWith(`${wanted}.`));
      if (match) return match.id;
    }
    throw new QntxError("NOT_FOUND", `file not found: ${fileId}`, { hint: "qntx file list shows the stored files" });
  }
}

function cleanMime(mime: string | undefined): string | undefined {
  const base = mime?.split(";")[0]?.trim().toLowerCase();
  return base && base !== "application/octet-stream" && /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(base) ? base : undefined;
}

function exists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
