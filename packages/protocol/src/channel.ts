import type { ChannelOptions } from "@grpc/grpc-js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "./constants.js";

/**
 * Channel and server options both sides use, so message limits match: a message one side
 * accepts is never refused by the other. Keepalive lets the host notice a dead plugin
 * connection without waiting for the next call.
 */
export function grpcOptions(maxMessageBytes: number = DEFAULT_MAX_MESSAGE_BYTES): ChannelOptions {
  return {
    "grpc.max_receive_message_length": maxMessageBytes,
    "grpc.max_send_message_length": maxMessageBytes,
    "grpc.keepalive_time_ms": 30_000,
    "grpc.keepalive_timeout_ms": 10_000,
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.http2.min_time_between_pings_ms": 10_000,
    "grpc.http2.max_pings_without_data": 0,
  };
}
