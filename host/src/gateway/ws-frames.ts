/**
 * The browser side of QNTX's WebSocket frame contract (docs/protocol.md §4): every WebSocket
 * message is JSON `{type, data, headers, timestamp}` with `type` the `WebSocketMessage.Type`
 * number (its name is accepted too), `data` base64, `headers` a string map and `timestamp`
 * unix nanoseconds. Also: close reasons that fit a close frame.
 */
import { WebSocketMessage_Type } from "@qntx/protocol";
import { nowNs, type WebSocketFrame } from "@qntx/protocol";

/** Largest close reason a close frame can carry (125-byte control payload minus the code). */
export const MAX_CLOSE_REASON_BYTES = 123;

const TYPE_NAMES: Readonly<Record<string, WebSocketMessage_Type>> = {
  CONNECT: WebSocketMessage_Type.CONNECT,
  DATA: WebSocketMessage_Type.DATA,
  CLOSE: WebSocketMessage_Type.CLOSE,
  PING: WebSocketMessage_Type.PING,
  PONG: WebSocketMessage_Type.PONG,
  ERROR: WebSocketMessage_Type.ERROR,
};
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;
const DECIMAL = /^-?\d{1,19}$/;

/** A parsed browser frame, or why it is not one (the socket is then closed with 1003). */
export type ParsedBrowserFrame = { ok: true; frame: WebSocketFrame } | { ok: false; reason: string };

function fail(reason: string): ParsedBrowserFrame {
  return { ok: false, reason };
}

function parseType(value: unknown): WebSocketMessage_Type | undefined {
  if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 5) return value;
  if (typeof value === "string") return TYPE_NAMES[value.toUpperCase()];
  return undefined;
}

function parseTimestamp(value: unknown): bigint | undefined {
  if (value === undefined || value === null || value === 0 || value === "") return nowNs();
  // A JSON number of nanoseconds is rarely exact in a browser, but it is an integer.
  if (typeof value === "number" && Number.isInteger(value)) return BigInt(value);
  // A decimal string lets a client send exact nanoseconds.
  if (typeof value === "string" && DECIMAL.test(value)) return BigInt.asIntN(64, BigInt(value));
  return undefined;
}

function parseHeaders(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) return undefined;
  const out: Array<[string, string]> = [];
  for (const [key, v] of Object.entries(value)) {
    // Numbers and booleans are stringified: a resize `{cols: 80, rows: 24}` is common.
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") return undefined;
    out.push([key, String(v)]);
  }
  return Object.fromEntries(out);
}

/** Parses one browser WebSocket message (text or binary, holding JSON). */
export function parseBrowserFrame(raw: Buffer): ParsedBrowserFrame {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch {
    return fail("frame is not JSON: send {type, data (base64), headers, timestamp}");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return fail("frame must be a JSON object {type, data, headers, timestamp}");
  const object = value as Record<string, unknown>;
  const type = parseType(object.type);
  if (type === undefined) return fail("frame type must be 0-5 (CONNECT, DATA, CLOSE, PING, PONG, ERROR)");
  const data = object.data ?? "";
  if (typeof data !== "string" || !BASE64.test(data)) return fail("frame data must be a base64 string");
  const headers = parseHeaders(object.headers);
  if (!headers) return fail("frame headers must be an object of strings");
  const timestamp = parseTimestamp(object.timestamp);
  if (timestamp === undefined) return fail("frame timestamp must be an integer (unix ns)");
  return { ok: true, frame: { type, data: Buffer.from(data, "base64"), headers, timestamp } };
}

/**
 * The browser JSON of a plugin frame (headers always present, timestamp as a JSON number):
 * the text `JSON.stringify({type, data, headers, timestamp})` gives, built directly (no object
 * per frame; base64 and a finite number need no escaping). Used once per frame to the browser.
 */
export function browserJson(frame: WebSocketFrame): string {
  const headers = hasOwnKeys(frame.headers) ? JSON.stringify(frame.headers) : "{}";
  return `{"type":${JSON.stringify(frame.type)},"data":"${frame.data.toString("base64")}","headers":${headers},"timestamp":${JSON.stringify(Number(frame.timestamp))}}`;
}

function hasOwnKeys(object: object): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return true;
  return false;
}

/** `text` cut to fit a close frame (123 bytes of UTF-8), never inside a character. */
export function closeReason(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return text;
  let end = MAX_CLOSE_REASON_BYTES;
  // Back up over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8");
}

/** Whether a close code may be sent in a close frame (RFC 6455 §7.4; what `ws` accepts). */
export function isSendableCloseCode(code: number): boolean {
  return Number.isInteger(code) && ((code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999));
}
