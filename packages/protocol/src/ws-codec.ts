/**
 * Kept hand-written for speed: ts-proto with `forceLong=bigint` would carry the timestamps, but
 * costs 1.1–5× this codec's CPU per frame (bench/investigations/ws-codec.mjs, bench note 05).
 *
 * The protobuf codec of `WebSocketMessage` used on `HandleWebSocket` streams. `timestamp` is an
 * int64 of unix *nanoseconds* (about 1.7e18), beyond Number.MAX_SAFE_INTEGER: the repository's
 * generated code (no `forceLong`, as every other int64 field is a number) throws on it (a Go
 * plugin's first PING would break the stream) and would round it on the way out (a PONG must
 * echo the PING's timestamp exactly). Here the timestamp is a bigint.
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

/** The current time in unix nanoseconds (microsecond resolution). */
export function nowNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

/** A frame with empty data and headers, stamped now unless `timestamp` is given. */
export function frame(type: WebSocketMessage_Type, data: Buffer = EMPTY, headers: Readonly<Record<string, string>> = {}, timestamp: bigint = nowNs()): WebSocketFrame {
  return { type, data, headers, timestamp };
}

/** Bytes a varint of the unsigned 32-bit `value` takes. */
function varintSize32(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** Bytes a varint of the 64-bit value `lo` + `hi`·2³² (both unsigned 32-bit) takes. */
function varintSize64(lo: number, hi: number): number {
  if (hi === 0) return varintSize32(lo);
  // Bits above the first 35 come 7 to a byte.
  let size = 5;
  for (let rest = hi >>> 3; rest > 0; rest >>>= 7) size++;
  return size;
}

/**
 * The encoder writes into one buffer sized up front (no per-field buffers, no bigint per byte:
 * the timestamp's 64 bits are split once into two 32-bit halves, as protobuf runtimes do).
 */
class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint32(value: number): void {
    while (value > 0x7f) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.buf[this.pos++] = value;
  }

  varint64(lo: number, hi: number): void {
    while (hi > 0 || lo > 0x7f) {
      this.buf[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    this.buf[this.pos++] = lo;
  }

  string(text: string, bytes: number): void {
    this.varint32(bytes);
    this.pos += this.buf.write(text, this.pos, bytes, "utf8");
  }
}

/** The low and high 32 bits of a 64-bit two's complement integer. */
function halves64(value: bigint): [number, number] {
  const v = BigInt.asUintN(64, value);
  return [Number(v & 0xffffffffn), Number(v >> 32n)];
}

/** Encodes a frame (any object with a number or bigint timestamp) as a `WebSocketMessage`. */
export function encodeWebSocketFrame(message: { type: number; data: Uint8Array; headers: Readonly<Record<string, string>>; timestamp: bigint | number }): Buffer {
  const { type, data, headers } = message;
  // A negative enum value is an int32 sign-extended to 64 bits (ten bytes), as protobuf says.
  const typeSize = type === 0 ? 0 : 1 + (type > 0 ? varintSize32(type) : 10);
  const dataSize = data.length === 0 ? 0 : 1 + varintSize32(data.length) + data.length;
  const keys = Object.keys(headers);
  // Per header: key bytes, value text and its bytes (measured once, reused when writing).
  let entries: Array<[string, number, string, number, number]> | undefined;
  let headersSize = 0;
  if (keys.length > 0) {
    entries = [];
    for (const key of keys) {
      const value = String(headers[key]);
      const keyBytes = Buffer.byteLength(key, "utf8");
      const valueBytes = Buffer.byteLength(value, "utf8");
      const entrySize = 1 + varintSize32(keyBytes) + keyBytes + 1 + varintSize32(valueBytes) + valueBytes;
      entries.push([key, keyBytes, value, valueBytes, entrySize]);
      headersSize += 1 + varintSize32(entrySize) + entrySize;
    }
  }
  const timestamp = BigInt(message.timestamp);
  const [tsLo, tsHi] = timestamp === 0n ? [0, 0] : halves64(timestamp);
  const timestampSize = timestamp === 0n ? 0 : 1 + varintSize64(tsLo, tsHi);

  const out = new Writer(Buffer.allocUnsafe(typeSize + dataSize + headersSize + timestampSize));
  if (typeSize > 0) {
    out.buf[out.pos++] = 0x08;
    if (type > 0) out.varint32(type);
    else out.varint64(type >>> 0, 0xffffffff);
  }
  if (dataSize > 0) {
    out.buf[out.pos++] = 0x12;
    out.varint32(data.length);
    out.buf.set(data, out.pos);
    out.pos += data.length;
  }
  if (entries) {
    for (const [key, keyBytes, value, valueBytes, entrySize] of entries) {
      out.buf[out.pos++] = 0x1a;
      out.varint32(entrySize);
      out.buf[out.pos++] = 0x0a;
      out.string(key, keyBytes);
      out.buf[out.pos++] = 0x12;
      out.string(value, valueBytes);
    }
  }
  if (timestampSize > 0) {
    out.buf[out.pos++] = 0x20;
    out.varint64(tsLo, tsHi);
  }
  return out.buf;
}

/** Reads varints as two 32-bit halves (numbers), not bigints: the hot path of every frame. */
class Reader {
  pos = 0;
  /** Low and high 32 bits (unsigned) of the last varint read. */
  lo = 0;
  hi = 0;
  constructor(readonly buf: Buffer, readonly end: number = buf.length, start = 0) {
    this.pos = start;
  }

  private byte(): number {
    if (this.pos >= this.end) throw new Error("WebSocketMessage: truncated varint");
    return this.buf[this.pos++]!;
  }

  /** Reads a varint into `lo`/`hi`; bits past the 64th are dropped, as protobuf does. */
  varint(): void {
    let lo = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      b = this.byte();
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) return this.set(lo, 0);
    }
    b = this.byte();
    lo |= (b & 0x7f) << 28;
    let hi = (b & 0x7f) >>> 4;
    if (b < 0x80) return this.set(lo, hi);
    for (let shift = 3; shift < 31; shift += 7) {
      b = this.byte();
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) return this.set(lo, hi);
    }
    b = this.byte();
    hi |= (b & 0x7f) << 31;
    if (b < 0x80) return this.set(lo, hi);
    throw new Error("WebSocketMessage: varint longer than 10 bytes");
  }

  private set(lo: number, hi: number): void {
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** A varint as a number (exact below 2^53: tags and lengths). */
  number(): number {
    this.varint();
    return this.lo + this.hi * 0x1_0000_0000;
  }

  /** Reads a length prefix; returns where the field ends (the field starts at `pos`). */
  fieldEnd(): number {
    const length = this.number();
    if (length > this.end - this.pos) throw new Error("WebSocketMessage: truncated field");
    return this.pos + length;
  }

  bytes(): Buffer {
    const end = this.fieldEnd();
    const out = this.buf.subarray(this.pos, end);
    this.pos = end;
    return out;
  }

  /** A length-delimited UTF-8 string, decoded in place (no intermediate Buffer). */
  string(): string {
    const end = this.fieldEnd();
    const out = this.buf.toString("utf8", this.pos, end);
    this.pos = end;
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

/** Decodes the map entry between `start` and `end` of `buf`, in place. */
function decodeEntry(buf: Buffer, start: number, end: number): [string, string] {
  const reader = new Reader(buf, end, start);
  let key = "";
  let value = "";
  while (reader.pos < reader.end) {
    const tag = reader.number();
    if (tag === 10) key = reader.string();
    else if (tag === 18) value = reader.string();
    else reader.skip(tag & 7);
  }
  return [key, value];
}

/** Decodes a `WebSocketMessage`; throws on malformed input (grpc-js then fails the call). */
export function decodeWebSocketFrame(buf: Buffer): WebSocketFrame {
  const reader = new Reader(buf);
  let type = 0;
  let data: Buffer = EMPTY;
  const headers: Record<string, string> = {};
  let timestamp = 0n;
  while (reader.pos < reader.end) {
    const tag = reader.number();
    if (tag === 8) {
      reader.varint();
      // int32: the low 32 bits, signed.
      type = reader.lo | 0;
    } else if (tag === 18) data = Buffer.from(reader.bytes());
    else if (tag === 26) {
      const end = reader.fieldEnd();
      const [key, value] = decodeEntry(buf, reader.pos, end);
      // A "__proto__" header stays a header (an assignment would try to set the prototype).
      if (key === "__proto__") Object.defineProperty(headers, key, { value, enumerable: true, writable: true, configurable: true });
      else headers[key] = value;
      reader.pos = end;
    }
    else if (tag === 32) {
      reader.varint();
      timestamp = reader.hi === 0 ? BigInt(reader.lo) : BigInt.asIntN(64, (BigInt(reader.hi) << 32n) | BigInt(reader.lo));
    } else reader.skip(tag & 7);
  }
  return { type: type as WebSocketMessage_Type, data, headers, timestamp };
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
