/**
 * How the host's channel to a plugin is secured: plaintext (QNTX's way, loopback), the mutual
 * TLS of a dialed plugin's `tls` table, or auto-mTLS pinning of a spawned plugin's one-time
 * certificate. Also turns a failed TLS handshake into an error that says what is wrong (which
 * certificate, which name, expired, a plaintext peer), so a start fails with the reason at once
 * instead of a "did not answer Metadata" timeout.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import * as grpc from "@grpc/grpc-js";
import { QntxError, type CertificatePair } from "@qntx/protocol";
import type { AddressSource } from "../config/types.js";
import type { ProxyChannelOptions } from "./external-proxy.js";

/** Where and how to dial a plugin, and how to read its handshake failures. */
export interface PluginChannel extends ProxyChannelOptions {
  /** grpc-js target: `host:port` or `unix:///path`. */
  readonly target: string;
  /**
   * Given a failed call's message: the TLS error it means, if any. `final` is the last try of
   * the readiness wait: vaguer signs count then (see {@link tlsFailure}).
   */
  readonly classify?: (message: string, final: boolean) => QntxError | undefined;
}

/**
 * The channel of a dialed plugin: plaintext, or mutual TLS with the files of its `tls` table
 * (read now, so renewed files are taken at each start) and `server_name` as the name checked.
 * @throws QntxError TLS_FAILED when a file cannot be read or the host's certificate has expired
 */
export function dialedChannel(name: string, source: AddressSource): PluginChannel {
  if (!source.tls) {
    const closed = closedConnections();
    return { target: source.address, classify: (message, final) => (final ? plaintextToTls(name, source.address, closed(message, final)) : (closed(message, final), undefined)) };
  }
  const { tls, serverName } = source;
  const read = (key: "ca" | "cert" | "key"): Buffer => {
    try {
      return readFileSync(tls[key]);
    } catch (error) {
      throw new QntxError("TLS_FAILED", `plugin ${name}: cannot read tls.${key} ${tls[key]}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        hint: `the file was readable when the config loaded; restore it or fix tls in [plugins.${name}]`,
      });
    }
  };
  const ca = read("ca");
  const cert = read("cert");
  const key = read("key");
  checkValidity(name, new X509Certificate(cert), `the host's certificate tls.cert (${tls.cert})`, `renew it, then restart the plugin: qntx plugin restart ${name}`);
  try {
    createPrivateKey(key);
  } catch (error) {
    throw new QntxError("TLS_FAILED", `plugin ${name}: tls.key ${tls.key} is no longer a PEM private key (${(error as Error).message})`, { hint: `restore the key, or fix tls in [plugins.${name}]` });
  }
  const checkedName = serverName ?? hostOf(source.address);
  const closed = closedConnections();
  return {
    target: source.address,
    credentials: grpc.credentials.createSsl(ca, key, cert),
    channelOptions: serverName ? { "grpc.ssl_target_name_override": serverName, "grpc.default_authority": serverName } : {},
    classify: (message, final) => tlsFailure(name, source.address, closed(message, final), final, { caFile: tls.ca, checkedName, configured: true }),
  };
}

/**
 * The channel of a spawned plugin under auto-mTLS: the plugin's own announced certificate is
 * the only one trusted (pinned), and the host presents its one-time client certificate. The
 * name checked is `localhost`, which the plugin's certificate carries (an IP as TLS server
 * name draws a deprecation warning from Node).
 */
export function pinnedChannel(name: string, target: string, pluginCert: X509Certificate, host: CertificatePair): PluginChannel {
  checkValidity(name, pluginCert, "the certificate the plugin announced", "the plugin made a certificate that is not valid now: check the machine's clock");
  const closed = closedConnections();
  return {
    target,
    credentials: grpc.credentials.createSsl(Buffer.from(pluginCert.toString()), Buffer.from(host.key), Buffer.from(host.cert)),
    channelOptions: { "grpc.ssl_target_name_override": "localhost", "grpc.default_authority": "localhost" },
    classify: (message, final) => tlsFailure(name, target, closed(message, final), final, { caFile: undefined, checkedName: "localhost", configured: false }),
  };
}

/** What {@link tlsFailure} knows of the channel. */
interface TlsContext {
  /** The `tls.ca` file of a dialed plugin; undefined under auto-mTLS. */
  readonly caFile: string | undefined;
  /** The name the plugin's certificate must carry. */
  readonly checkedName: string;
  /** A dialed plugin's `tls` table (hints name its keys), or auto-mTLS. */
  readonly configured: boolean;
}

/**
 * The TLS error a failed connection's message shows, or undefined when it shows none. Certain
 * signs (an untrusted, expired or misnamed certificate, a plaintext answer) count at once: they
 * do not get better by waiting. A connection closed during the handshake with no reason (what
 * a plugin that refuses the host's client certificate causes) counts only when `final`.
 */
export function tlsFailure(name: string, where: string, message: string, final: boolean, ctx: TlsContext): QntxError | undefined {
  const fix = (text: string): string => (ctx.configured ? text : "auto-mTLS certificates are made by the host and the plugin; this is a bug of the plugin's TLS support");
  const altnames = /altnames: (.*?)(\. Resolution note|$)/.exec(message)?.[1];
  if (/ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate's altnames/.test(message)) {
    return new QntxError("TLS_FAILED", `plugin ${name} at ${where}: its certificate is not for the name "${ctx.checkedName}" (it is for ${altnames ?? "other names"})`, {
      hint: fix(`set server_name in [plugins.${name}] to a name the certificate carries, or give the plugin a certificate for "${ctx.checkedName}"`),
    });
  }
  if (/certificate has expired|CERT_HAS_EXPIRED|certificate is not yet valid/.test(message)) {
    return new QntxError("TLS_FAILED", `plugin ${name} at ${where}: its certificate ${/not yet/.test(message) ? "is not valid yet" : "has expired"}`, {
      hint: fix(`renew the plugin's certificate (openssl x509 -noout -dates -in <its cert> shows the dates), then: qntx plugin restart ${name}`),
    });
  }
  if (/self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate|certificate signature failure|UNABLE_TO_VERIFY|unknown ca/i.test(message)) {
    return new QntxError("TLS_FAILED", `plugin ${name} at ${where}: its certificate is not signed by ${ctx.caFile ? `the CA in tls.ca (${ctx.caFile})` : "the certificate it announced"} (${firstLine(message)})`, {
      hint: fix(`set tls.ca in [plugins.${name}] to the CA that issued the plugin's certificate`),
    });
  }
  if (/wrong version number|packet length too long|WRONG_VERSION_NUMBER|http request/i.test(message)) {
    return new QntxError("TLS_FAILED", `plugin ${name} at ${where} does not speak TLS: it answered in plaintext`, {
      hint: ctx.configured
        ? `start the plugin with TLS (an SDK plugin: QNTX_TLS_CERT, QNTX_TLS_KEY and QNTX_TLS_CLIENT_CA), or remove tls from [plugins.${name}]`
        : "the plugin announced a certificate but serves plaintext: a bug of the plugin's auto-mTLS support",
    });
  }
  if (final && CLOSED_CONNECTION.test(message) && !/ECONNREFUSED|ENOENT/.test(message)) {
    return new QntxError("TLS_FAILED", `plugin ${name} at ${where} closed every TLS connection during the handshake (${firstLine(message)})`, {
      hint: ctx.configured
        ? `the plugin probably refuses the host's client certificate: tls.cert in [plugins.${name}] must be issued by the CA the plugin trusts for clients (QNTX_TLS_CLIENT_CA of an SDK plugin)`
        : "the plugin refused the host's one-time client certificate: check the plugin's auto-mTLS support",
    });
  }
  return undefined;
}

/** A connection accepted, then closed during the handshake (not refused: something listens). */
const CLOSED_CONNECTION = /Failed to connect|ECONNRESET|socket disconnected|certificate required|bad certificate/i;

/**
 * Remembers the last failure that showed a connection closed during the handshake, so the
 * final verdict does not depend on the last try alone: on a busy machine that one may have
 * run out of its deadline instead. Returns the message to judge.
 */
function closedConnections(): (message: string, final: boolean) => string {
  let seen: string | undefined;
  return (message, final) => {
    if (CLOSED_CONNECTION.test(message) && !/ECONNREFUSED|ENOENT/.test(message)) seen = message;
    return final ? (seen ?? message) : message;
  };
}

/**
 * A plaintext channel whose connections are accepted and then closed without an answer: most
 * likely a plugin that serves TLS. Only a hint on the timeout's error: the code stays NOT_READY.
 */
function plaintextToTls(name: string, where: string, message: string): QntxError | undefined {
  if (!/Failed to connect/.test(message) || /ECONNREFUSED|ENOENT/.test(message)) return undefined;
  return new QntxError("NOT_READY", `plugin ${name} did not answer Metadata at ${where} (${firstLine(message.replace(/^[A-Z_]+: /, ""))})`, {
    hint: `the plugin accepts connections but closes them: if it serves TLS, add tls = { ca, cert, key } to [plugins.${name}]`,
  });
}

/** Throws TLS_FAILED when `cert` is not valid now. */
function checkValidity(name: string, cert: X509Certificate, what: string, hint: string): void {
  const now = Date.now();
  if (now > Date.parse(cert.validTo)) throw new QntxError("TLS_FAILED", `plugin ${name}: ${what} expired on ${cert.validTo}`, { hint });
  if (now < Date.parse(cert.validFrom)) throw new QntxError("TLS_FAILED", `plugin ${name}: ${what} is not valid before ${cert.validFrom}`, { hint });
}

function hostOf(address: string): string {
  if (address.startsWith("unix:")) return "localhost";
  return address.slice(0, address.lastIndexOf(":")).replace(/^\[(.*)\]$/, "$1");
}

function firstLine(message: string): string {
  return message.replace(/^No connection established\. Last error: /, "").replace(/\. Resolution note:.*$/s, "").split("\n")[0]!.trim();
}
