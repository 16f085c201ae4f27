/**
 * FileService as the host serves it: `ReadFileBase64` reads a file the host stores
 * (file-store.ts) by its id. Errors travel in the body, as QNTX's do: a bad token, a missing
 * `files` grant, an id that is not one the store gives (never a path outside it), an unknown id.
 */
import type { FileServiceServer, ReadFileResponse } from "@qntx/protocol";
import type { Logger } from "pino";
import { errorText, type Callers } from "./caller.js";
import type { FileStore } from "./file-store.js";

/** What the service needs. */
export interface FileServiceDeps {
  readonly files: FileStore;
  readonly callers: Callers;
  readonly logger: Logger;
}

/** Builds the grpc-js implementation of FileService. */
export function createFileService({ files, callers, logger }: FileServiceDeps): FileServiceServer {
  const empty: ReadFileResponse = { success: false, error: "", mimeType: "", base64Data: "" };
  return {
    readFileBase64(call, callback) {
      const caller = callers.check(call.request.authToken, "files");
      if (caller.refused) return callback(null, { ...empty, error: caller.refused.message });
      try {
        const { file, data } = files.read(call.request.fileId);
        logger.debug({ plugin: caller.plugin, file: file.id, size: file.size }, "file read");
        callback(null, { success: true, error: "", mimeType: file.mimeType, base64Data: data.toString("base64") });
      } catch (error) {
        callback(null, { ...empty, error: errorText(error) });
      }
    },
  };
}
