/**
 * `LlmClient`: the host's LLMService (llm.proto), which the host forwards to the plugin that
 * provides it. `chat` answers once; `stream` yields the reply's chunks as the provider makes
 * them. Errors are `HOST_CALL_FAILED` with the gRPC status: UNAVAILABLE when no provider runs,
 * RESOURCE_EXHAUSTED over budget.
 */
import { LLMChatRequest, LLMServiceClient, type ChatMessage, type LLMChatChunk, type LLMChatResponse } from "@qntx/protocol";
import { streamCall, unaryCall, hostClient, type HostCallOptions, type HostClientOptions } from "./call.js";

/** Default deadline of a chat: models take their time. */
export const DEFAULT_LLM_TIMEOUT_MS = 120_000;

/** A chat request: a prompt, or the conversation and any other `LLMChatRequest` field. */
export type ChatInput = string | (Partial<Omit<LLMChatRequest, "messages" | "authToken">> & { messages?: ChatMessage[] });

/** The host's language models. */
export interface LlmClient {
  readonly endpoint: string;
  chat(input: ChatInput, options?: HostCallOptions): Promise<LLMChatResponse>;
  /** The reply chunk by chunk; the last has `done` and the token usage. Breaking out cancels the call. */
  stream(input: ChatInput, options?: HostCallOptions): AsyncIterable<LLMChatChunk>;
  close(): void;
}

/** The request for `input`: a bare prompt is one user message. */
export function chatRequest(input: ChatInput, authToken: string): LLMChatRequest {
  const fields = typeof input === "string" ? { messages: [{ role: "user", content: input }] } : input;
  return LLMChatRequest.fromPartial({ ...fields, authToken });
}

/** A client of the LLMService at `endpoint` that sends `authToken` with every call. */
export function createLlmClient(endpoint: string, authToken: string, options: HostClientOptions = {}): LlmClient {
  const client = hostClient(LLMServiceClient, endpoint, options);
  const timeoutMs = options.timeoutMs ?? DEFAULT_LLM_TIMEOUT_MS;
  return {
    endpoint,
    chat: (input, callOptions) => unaryCall(client, client.chat, "LLMService/Chat", chatRequest(input, authToken), timeoutMs, callOptions),
    stream: (input, callOptions) => streamCall(client, client.streamChat, "LLMService/StreamChat", chatRequest(input, authToken), timeoutMs, callOptions),
    close: () => client.close(),
  };
}
