/**
 * `qntx file put <path>` and `qntx file list`: files the host stores for plugins, which they
 * read by id with FileService (`ReadFileBase64`). `put` prints the new file's id.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { Command } from "commander";
import { QntxError } from "@qntx/protocol";
import { ControlClient } from "./client.js";
import { clientLocation, runAction } from "./common.js";
import { renderTable } from "./table.js";

/** A stored file as the HTTP API returns it. */
interface FileJson {
  id: string;
  name: string;
  mimeType: string;
  size: number;
  createdAt: string;
}

/** Adds the `file` command group to `program`. */
export function addFileCommands(program: Command): void {
  const file = program.command("file").description("files the host stores for plugins (FileService)");

  file
    .command("put <path>")
    .description("store a file on the running host and print its id (plugins read it with FileService)")
    .option("--type <mime>", "its MIME type (default: from the file name's extension)")
    .option("--name <name>", "the name to store it under (default: the file's own)")
    .option("--json", "print the stored file as JSON")
    .action(runAction(async (path: string, options: { type?: string; name?: string; json?: boolean }, command: Command) => {
      let data: Buffer;
      try {
        data = readFileSync(path);
      } catch (error) {
        throw new QntxError("INVALID_ARGUMENT", `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { hint: "give the path of a readable file" });
      }
      const client = ControlClient.locate(clientLocation(command));
      const name = options.name ?? basename(path);
      const { file: stored } = await client.postBytes<{ file: FileJson }>(`/api/files?name=${encodeURIComponent(name)}`, data, options.type ?? "application/octet-stream");
      if (options.json) return void console.log(JSON.stringify(stored, null, 2));
      console.log(stored.id);
    }));

  file
    .command("list")
    .description("list the stored files")
    .option("--json", "print JSON")
    .action(runAction(async (options: { json?: boolean }, command: Command) => {
      const client = ControlClient.locate(clientLocation(command));
      const { files } = await client.get<{ files: FileJson[] }>("/api/files");
      if (options.json) return void console.log(JSON.stringify(files, null, 2));
      if (files.length === 0) return void console.log("No files. Store one with: qntx file put <path>");
      console.log(renderTable(["ID", "NAME", "TYPE", "SIZE", "STORED"], files.map((f) => [f.id, f.name, f.mimeType, String(f.size), f.createdAt])));
    }));
}
