/**
 * `FileClient`: the host's FileService (fileservice.proto): files the host stores (uploaded
 * with `qntx file put` or `POST /api/files`), read by id.
 */
import { FileServiceClient } from "@qntx/protocol";
import { checkBody, DEFAULT_HOST_CALL_TIMEOUT_MS, unaryCall, hostClient, type HostCallOptions, type HostClientOptions } from "./call.js";

/** A file read from the host. */
export interface HostFile {
  mimeType: string;
  data: Buffer;
}

/** The host's stored files. */
export interface FileClient {
  readonly endpoint: string;
  /** The file with this id (`ReadFileBase64`); an unknown or malformed id is a `HOST_ERROR`. */
  read(fileId: string, options?: HostCallOptions): Promise<HostFile>;
  close(): void;
}

/** A client of the FileService at `endpoint` that sends `authToken` with every call. */
export function createFileClient(endpoint: string, authToken: string, options: HostClientOptions = {}): FileClient {
  const client = hostClient(FileServiceClient, endpoint, options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_HOST_CALL_TIMEOUT_MS;
  return {
    endpoint,
    async read(fileId, callOptions) {
      const method = "FileService/ReadFileBase64";
      const res = await unaryCall(client, client.readFileBase64, method, { authToken, fileId }, timeoutMs, callOptions);
      checkBody(method, res);
      return { mimeType: res.mimeType, data: Buffer.from(res.base64Data, "base64") };
    },
    close: () => client.close(),
  };
}
