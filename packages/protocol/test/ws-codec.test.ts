/**
 * The hand-written `WebSocketMessage` codec against two references: the generated ts-proto
 * codec (byte for byte, where its numbers are exact) and a plain bigint encoder written here
 * from the protobuf encoding rules (for the int64 nanosecond timestamps the generated one
 * cannot carry, and for negative enum values).
 */
import { describe, expect, it } from "@jest/globals";
import { WebSocketMessage, WebSocketMessage_Type as T } from "../src/index.js";
import { decodeWebSocketFrame, encodeWebSocketFrame, type WebSocketFrame } from "../src/ws-codec.js";

/** Reference varint: a two's complement 64-bit value, seven bits a byte. */
function refVarint(value: bigint): number[] {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function refDelimited(field: number, payload: number[]): number[] {
  return [...refVarint(BigInt((field << 3) | 2)), ...refVarint(BigInt(payload.length)), ...payload];
}

/** Reference encoder: fields in number order, defaults left out, as proto3 writes them. */
function refEncode(frame: WebSocketFrame): Buffer {
  const out: number[] = [];
  if (frame.type !== 0) out.push(0x08, ...refVarint(BigInt(frame.type)));
  if (frame.data.length > 0) out.push(...refDelimited(2, [...frame.data]));
  for (const [key, value] of Object.entries(frame.headers)) {
    out.push(...refDelimited(3, [...refDelimited(1, [...Buffer.from(key)]), ...refDelimited(2, [...Buffer.from(value)])]));
  }
  if (frame.timestamp !== 0n) out.push(0x20, ...refVarint(frame.timestamp));
  return Buffer.from(out);
}

const f = (type: number, data: string | Buffer, headers: Record<string, string>, timestamp: bigint): WebSocketFrame => ({
  type: type as T,
  data: typeof data === "string" ? Buffer.from(data) : data,
  headers,
  timestamp,
});

const TIMESTAMPS = [0n, 1n, 127n, 128n, 16_383n, 16_384n, (1n << 32n) - 1n, 1n << 32n, (1n << 35n) - 1n, 1n << 35n, 1_764_000_000_123_456_789n, (1n << 63n) - 1n, -1n, -5n, -(1n << 63n)];
const DATA = ["", "x", "a".repeat(127), "b".repeat(128), "c".repeat(20_000)];
const HEADERS: Array<Record<string, string>> = [{}, { a: "1" }, { cols: "80", rows: "24" }, { "ключ": "värde 日本", empty: "" }, { long: "z".repeat(300) }];

describe("WebSocketMessage codec", () => {
  it("writes the bytes of the reference encoder, int64 timestamps and negative types included", () => {
    let count = 0;
    for (const type of [0, 1, 5, 300, -1, -2_147_483_648]) {
      for (const data of DATA) {
        for (const headers of HEADERS) {
          for (const timestamp of TIMESTAMPS) {
            const frame = f(type, data, headers, timestamp);
            const bytes = encodeWebSocketFrame(frame);
            expect(bytes.equals(refEncode(frame))).toBe(true);
            expect(decodeWebSocketFrame(bytes)).toEqual(frame);
            count++;
          }
        }
      }
    }
    expect(count).toBe(6 * DATA.length * HEADERS.length * TIMESTAMPS.length);
  });

  it("writes and reads what the generated codec does for exact values", () => {
    // ts-proto leaves an empty map value out of its entry; this codec writes it (as before):
    // both are valid protobuf and decode alike, so that one case is compared decoded only.
    for (const timestamp of [0, 1, 1_700_000_000_000, Number.MAX_SAFE_INTEGER]) {
      for (const headers of HEADERS.filter((h) => !Object.values(h).includes(""))) {
        const message: WebSocketMessage = { type: T.PING, data: Buffer.from("hi"), headers, timestamp };
        const generated = Buffer.from(WebSocketMessage.encode(message).finish());
        expect(encodeWebSocketFrame(message).equals(generated)).toBe(true);
        expect(decodeWebSocketFrame(generated)).toEqual({ ...message, timestamp: BigInt(timestamp) });
      }
    }
  });

  it("reads the generated codec's entry without an empty value", () => {
    const message: WebSocketMessage = { type: T.DATA, data: Buffer.alloc(0), headers: { empty: "", a: "b" }, timestamp: 5 };
    expect(decodeWebSocketFrame(Buffer.from(WebSocketMessage.encode(message).finish()))).toEqual({ ...message, timestamp: 5n });
  });

  it("accepts a number timestamp and encodes it like the same bigint", () => {
    expect(encodeWebSocketFrame({ ...f(1, "x", {}, 0n), timestamp: 1_234_567 }).equals(encodeWebSocketFrame(f(1, "x", {}, 1_234_567n)))).toBe(true);
  });

  it("keeps the low 64 bits of an over-long (ten-byte) varint, as protobuf does", () => {
    // Ten bytes whose last carries bits past the 64th: only bit 63 survives.
    const bytes = Buffer.from([0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    expect(decodeWebSocketFrame(bytes).timestamp).toBe(-1n);
    expect(decodeWebSocketFrame(Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0x0f])).type).toBe(-1);
  });

  it("skips unknown fields of every wire type", () => {
    const known = encodeWebSocketFrame(f(1, "ok", { a: "b" }, 7n));
    const unknown = Buffer.from([0x28, 0x96, 0x01, 0x31, 1, 2, 3, 4, 5, 6, 7, 8, 0x3a, 0x02, 0x01, 0x02, 0x45, 1, 2, 3, 4]);
    expect(decodeWebSocketFrame(Buffer.concat([unknown, known]))).toEqual(f(1, "ok", { a: "b" }, 7n));
  });

  it("rejects truncated and malformed input with a message that says what is wrong", () => {
    expect(() => decodeWebSocketFrame(Buffer.from([0x12, 0x05, 0x61]))).toThrow(/truncated field/);
    expect(() => decodeWebSocketFrame(Buffer.from([0x20, 0x80]))).toThrow(/truncated varint/);
    expect(() => decodeWebSocketFrame(Buffer.from([0x20, ...Array(10).fill(0xff), 0x01]))).toThrow(/longer than 10 bytes/);
    expect(() => decodeWebSocketFrame(Buffer.from([0x31, 1, 2]))).toThrow(/truncated field/);
    expect(() => decodeWebSocketFrame(Buffer.from([0x33]))).toThrow(/unsupported wire type 3/);
    expect(() => decodeWebSocketFrame(Buffer.from([0x1a, 0x02, 0x0a, 0x05]))).toThrow(/truncated field/);
  });

  it("gives decoded data its own memory, not a view of the received buffer", () => {
    const bytes = encodeWebSocketFrame(f(1, "abc", {}, 0n));
    const frame = decodeWebSocketFrame(bytes);
    bytes.fill(0);
    expect(frame.data.toString()).toBe("abc");
  });
});
