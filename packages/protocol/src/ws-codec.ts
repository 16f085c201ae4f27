/**
 * The protobuf codec of `WebSocketMessage` used on `HandleWebSocket` streams, written by hand
 * because the generated one cannot carry the contract's timestamps: `timestamp` is an int64 of
 * unix *nanoseconds* (about 1.7e18), beyond Number.MAX_SAFE_INTEGER, and the ts-proto decoder
 * throws on it (a Go plugin's first PING would break the stream) and would round it on the
 * way out (a PONG must echo the PING's timestamp exactly). Here the timestamp is a bigint.
 * Wire format and field numbers are those of `proto/domain.proto`. Host and SDK both use it.
 */
import { DomainPluginServiceService, type WebSocketMessage_Type } from "./gen/domain.js";

/** One `WebSocketMessage`; `timestamp` (unix nanoseconds, int64) is a bigint so it stays exact. */
export interface WebSocketFrame {
  readonly type: WebSocketMessage_Type;
  readonly data: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: bigint;
}

const EMPTY = Buffer.alloc(0);
const UINT64 = (1n << 64n) - 1n;

/** The current time in unix nanoseconds (microsecond resolution). */
export function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/** A frame with empty data and headers, stamped now unless `timestamp` is given. */
export function frame(type: WebSocketMessage_Type, data: Buffer = EMPTY, headers: Readonly<Record<string, string>> = {}, timestamp: bigint = nowNs()): WebSocketFrame {
  return { type, data, headers, timestamp };
}

function varint(value: bigint): Buffer {
  let v = value & UINT64;
  const bytes: number[] = [];
  while (v > 0x7fn) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return Buffer.from(bytes);
}

function lengthDelimited(field: number, payload: Buffer): Buffer[] {
  return [varint(BigInt((field << 3) | 2)), varint(BigInt(payload.length)), payload];
}

/** Encodes a frame (any object with a number or bigint timestamp) as a `WebSocketMessage`. */
export function encodeWebSocketFrame(message: { type: number; data: Uint8Array; headers: Readonly<Record<string, string>>; timestamp: bigint | number }): Buffer {
  const parts: Buffer[] = [];
  if (message.type !== 0) parts.push(varint(8n), varint(BigInt(message.type)));
  if (message.data.length > 0) parts.push(...lengthDelimited(2, Buffer.from(message.data.buffer, message.data.byteOffset, message.data.length)));
  for (const [key, value] of Object.entries(message.headers)) {
    const entry = Buffer.concat([...lengthDelimited(1, Buffer.from(key, "utf8")), ...lengthDelimited(2, Buffer.from(String(value), "utf8"))]);
    parts.push(...lengthDelimited(3, entry));
  }
  const timestamp = BigInt(message.timestamp);
  if (timestamp !== 0n) parts.push(varint(32n), varint(timestamp));
  return Buffer.concat(parts);
}

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer, readonly end: number = buf.length) {}

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new Error("WebSocketMessage: truncated varint");
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result & UINT64;
    }
    throw new Error("WebSocketMessage: varint longer than 10 bytes");
  }

  bytes(): Buffer {
    const length = Number(this.varint());
    if (length > this.end - this.pos) throw new Error("WebSocketMessage: truncated field");
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.bytes();
    else if (wireType === 1 || wireType === 5) {
      this.pos += wireType === 1 ? 8 : 4;
      if (this.pos > this.end) throw new Error("WebSocketMessage: truncated field");
    } else throw new Error(`WebSocketMessage: unsupported wire type ${wireType}`);
  }
}

function decodeEntry(buf: Buffer): [string, string] {
  const reader = new Reader(buf);
  let key = "";
  let value = "";
  while (reader.pos < reader.end) {
    const tag = Number(reader.varint());
    if (tag === 10) key = reader.bytes().toString("utf8");
    else if (tag === 18) value = reader.bytes().toString("utf8");
    else reader.skip(tag & 7);
  }
  return [key, value];
}

/** Decodes a `WebSocketMessage`; throws on malformed input (grpc-js then fails the call). */
export function decodeWebSocketFrame(buf: Buffer): WebSocketFrame {
  const reader = new Reader(buf);
  let type = 0;
  let data: Buffer = EMPTY;
  const headers: Array<[string, string]> = [];
  let timestamp = 0n;
  while (reader.pos < reader.end) {
    const tag = Number(reader.varint());
    if (tag === 8) type = Number(BigInt.asIntN(32, reader.varint()));
    else if (tag === 18) data = Buffer.from(reader.bytes());
    else if (tag === 26) headers.push(decodeEntry(reader.bytes()));
    else if (tag === 32) timestamp = BigInt.asIntN(64, reader.varint());
    else reader.skip(tag & 7);
  }
  // fromEntries defines own properties: a "__proto__" header stays a header.
  return { type: type as WebSocketMessage_Type, data, headers: Object.fromEntries(headers), timestamp };
}

/**
 * `DomainPluginServiceService` with `HandleWebSocket` on this codec. Register it (rather than
 * the generated definition) with `createDomainService`; `startPlugin` does.
 */
export const domainServiceDefinition = {
  ...DomainPluginServiceService,
  handleWebSocket: {
    ...DomainPluginServiceService.handleWebSocket,
    requestSerialize: encodeWebSocketFrame,
    requestDeserialize: decodeWebSocketFrame,
    responseSerialize: encodeWebSocketFrame,
    responseDeserialize: decodeWebSocketFrame,
  },
} as const;
