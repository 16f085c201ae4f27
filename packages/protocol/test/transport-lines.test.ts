/** The auto-mTLS certificate line and the socket line of the process contract (transport.ts). */
import { describe, expect, it } from "@jest/globals";
import { X509Certificate } from "node:crypto";
import { formatCertLine, formatSocketLine, makeSelfSignedCertificate, parseCertLine, parsePortLine, parseSocketLine, unixTarget } from "../src/index.js";

describe("certificate line", () => {
  it("carries a DER certificate as base64 on one line, with or without padding, and is not a port line", async () => {
    const { cert } = await makeSelfSignedCertificate({ commonName: "qntx-plugin" });
    const der = new X509Certificate(cert).raw;
    const line = formatCertLine(der);
    expect(line).toMatch(/^QNTX_PLUGIN_CERT=[A-Za-z0-9+/]+=*$/);
    expect(parseCertLine(`${line}\r`)!.equals(der)).toBe(true);
    expect(parseCertLine(line.replace(/=+$/, ""))!.equals(der)).toBe(true);
    expect(parsePortLine(line)).toBeUndefined();
    expect(new X509Certificate(cert).subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
  });

  it("refuses lines that are not one", () => {
    for (const line of ["QNTX_PLUGIN_CERT=", "QNTX_PLUGIN_CERT=not base64!", "hello", "QNTX_PLUGIN_PORT=1234"]) expect(parseCertLine(line)).toBeUndefined();
  });
});

describe("socket line", () => {
  it("carries an absolute path", () => {
    expect(parseSocketLine(formatSocketLine("/tmp/q/a.sock"))).toBe("/tmp/q/a.sock");
    expect(parseSocketLine("QNTX_PLUGIN_SOCKET=relative.sock")).toBeUndefined();
    expect(parseSocketLine("QNTX_PLUGIN_PORT=1")).toBeUndefined();
    expect(unixTarget("/tmp/q/a.sock")).toBe("unix:///tmp/q/a.sock");
  });
});
