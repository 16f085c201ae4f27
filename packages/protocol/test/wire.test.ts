import { describe, expect, it } from "@jest/globals";
import { status } from "@grpc/grpc-js";
import { formatPortLine, parsePortLine } from "../src/port-line.js";
import { canonicalHeaderName, fromWireHeaders, toWireHeaders } from "../src/headers.js";
import { grpcStatusToHttp } from "../src/status.js";
import { ExecuteJobRequest, HTTPResponse } from "../src/index.js";

describe("port line", () => {
  it("round-trips a port", () => {
    expect(parsePortLine(formatPortLine(38701))).toBe(38701);
    expect(parsePortLine("QNTX_PLUGIN_PORT=38702\r")).toBe(38702);
  });
  it("rejects lines that are not port lines", () => {
    for (const line of ["", "hello", "QNTX_PLUGIN_PORT=", "QNTX_PLUGIN_PORT=abc", "QNTX_PLUGIN_PORT=70000", "x QNTX_PLUGIN_PORT=1"]) {
      expect(parsePortLine(line)).toBeUndefined();
    }
  });
});

describe("headers", () => {
  it("keeps every value of a repeated header both ways", () => {
    const wire = toWireHeaders({ "set-cookie": ["a=1", "b=2"], "content-type": "text/plain", "x-none": undefined });
    expect(wire).toEqual([
      { name: "set-cookie", values: ["a=1", "b=2"] },
      { name: "content-type", values: ["text/plain"] },
    ]);
    expect(fromWireHeaders([...wire, { name: "Set-Cookie", values: ["c=3"] }])).toEqual({
      "set-cookie": ["a=1", "b=2", "c=3"],
      "content-type": ["text/plain"],
    });
  });
});

describe("canonicalHeaderName (Go's textproto.CanonicalMIMEHeaderKey)", () => {
  it("upper-cases the first letter and each letter after '-', lower-cases the rest", () => {
    const cases: Array<[string, string]> = [
      ["content-type", "Content-Type"],
      ["CONTENT-TYPE", "Content-Type"],
      ["Content-Type", "Content-Type"],
      ["x-request-id", "X-Request-Id"],
      ["www-authenticate", "Www-Authenticate"],
      ["WWW-Authenticate", "Www-Authenticate"],
      ["etag", "Etag"],
      ["ETag", "Etag"],
      ["dnt", "Dnt"],
      ["sec-websocket-key", "Sec-Websocket-Key"],
      ["content-md5", "Content-Md5"],
      ["x-b3-traceid", "X-B3-Traceid"],
      ["x-forwarded-for", "X-Forwarded-For"],
    ];
    for (const [name, canonical] of cases) expect([name, canonicalHeaderName(name)]).toEqual([name, canonical]);
  });

  it("starts a new word only after '-': not after '_', '.', a digit or another token character", () => {
    const cases: Array<[string, string]> = [
      ["x_custom_header", "X_custom_header"],
      ["X_CUSTOM", "X_custom"],
      ["x.y.z", "X.y.z"],
      ["1st-try", "1st-Try"],
      ["a1b-c2d", "A1b-C2d"],
      ["x~y!z", "X~y!z"],
      ["-leading", "-Leading"],
      ["double--dash", "Double--Dash"],
      ["trailing-", "Trailing-"],
      ["-", "-"],
      ["a", "A"],
    ];
    for (const [name, canonical] of cases) expect([name, canonicalHeaderName(name)]).toEqual([name, canonical]);
  });

  it("leaves a name with a byte that is not a token character as it is, like Go", () => {
    for (const name of ["", "has space", "x-bad:colon", "x-tab\there", "x-ünïcode", "x-emoji-🙂", "x-quote\"", "(paren)", "a/b", "a@b", "x-bracket[0]", "a=b"]) {
      expect(canonicalHeaderName(name)).toBe(name);
    }
  });

  it("answers the same when asked again (the cache) and after many distinct names", () => {
    for (let i = 0; i < 3000; i++) expect(canonicalHeaderName(`x-name-${i}`)).toBe(`X-Name-${i}`);
    expect(canonicalHeaderName("accept-encoding")).toBe("Accept-Encoding");
    expect(canonicalHeaderName("accept-encoding")).toBe("Accept-Encoding");
  });
});

describe("grpc → http status", () => {
  it("maps as docs/protocol.md §3 says", () => {
    expect(grpcStatusToHttp(status.NOT_FOUND)).toBe(404);
    expect(grpcStatusToHttp(status.UNIMPLEMENTED)).toBe(404);
    expect(grpcStatusToHttp(status.DEADLINE_EXCEEDED)).toBe(504);
    expect(grpcStatusToHttp(status.INTERNAL)).toBe(502);
    expect(grpcStatusToHttp(status.UNKNOWN)).toBe(502);
  });
});

describe("generated messages", () => {
  it("keeps presence of optional timeout_secs", () => {
    const absent = ExecuteJobRequest.decode(ExecuteJobRequest.encode({ jobId: "j", handlerName: "h", payload: Buffer.alloc(0) }).finish());
    expect(absent.timeoutSecs).toBeUndefined();
    const zero = ExecuteJobRequest.decode(ExecuteJobRequest.encode({ jobId: "j", handlerName: "h", payload: Buffer.alloc(0), timeoutSecs: 0 }).finish());
    expect(zero.timeoutSecs).toBe(0);
  });
  it("encodes field numbers as the contract says", () => {
    // HTTPResponse{1 status_code=200}: tag (1<<3|0)=0x08, varint 200 = 0xc8 0x01.
    const bytes = HTTPResponse.encode({ statusCode: 200, headers: [], body: Buffer.alloc(0) }).finish();
    expect(Buffer.from(bytes).toString("hex")).toBe("08c801");
  });
});
