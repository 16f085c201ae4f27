/**
 * The transport of a spawned plugin: plaintext TCP on loopback (QNTX's way, the default),
 * automatic mutual TLS (`auto_mtls`), and/or a unix socket (`transport = "unix"`). The host
 * asks through the environment (@qntx/protocol transport.ts) and the plugin answers on stdout
 * before (certificate) or instead of (socket) its port line. A plugin that does not answer
 * what was asked fails to start with TRANSPORT_UNSUPPORTED: the config asked for a protected
 * channel, and silently running an unprotected one would hide that.
 */
import { X509Certificate } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { CLIENT_CERT_ENV, QntxError, SOCKET_ENV, makeSelfSignedCertificate, unixTarget, type CertificatePair } from "@qntx/protocol";
import type { BinarySource } from "../config/types.js";
import { ensurePrivateDir } from "../data-dir.js";
import { pinnedChannel, type PluginChannel } from "./plugin-channel.js";

/** Longest unix socket path Linux takes (sun_path is 108 bytes with the terminating NUL). */
const MAX_SOCKET_PATH = 107;

/** What the plugin printed besides its port line (see PluginProcess). */
export interface Announced {
  /** DER of the certificate of a `QNTX_PLUGIN_CERT=` line before the port line. */
  readonly cert: Buffer | undefined;
  /** Path of a `QNTX_PLUGIN_SOCKET=` line. */
  readonly socket: string | undefined;
}

/** One spawn's transport: what to add to the environment, then how to dial what the plugin announced. */
export interface PreparedTransport {
  /** Environment variables asking for it ({} for plain TCP). */
  readonly env: Readonly<Record<string, string>>;
  /** True when the plugin must answer with a certificate or socket line (no "assume the port"). */
  readonly needsAnnouncement: boolean;
  /** The socket path asked for, removed when the plugin stops. */
  readonly socket: string | undefined;
  /**
   * The channel to the plugin, from what it announced.
   * @throws QntxError TRANSPORT_UNSUPPORTED when it did not answer what was asked
   */
  channel(port: number, announced: Announced): PluginChannel;
}

/** Makes the transports of spawned plugins; holds the host's one-time auto-mTLS client certificate. */
export class SpawnTransports {
  private identity: Promise<CertificatePair> | undefined;

  constructor(private readonly dataDir: string, private readonly autoMtlsDefault: boolean) {}

  /** The folder of plugin sockets: `<data_dir>/sockets`, 0700. */
  get socketDir(): string {
    return join(this.dataDir, "sockets");
  }

  /** Prepares the transport of plugin `name` from its source (and `[host] auto_mtls`). */
  async prepare(name: string, source: BinarySource): Promise<PreparedTransport> {
    const autoMtls = source.autoMtls ?? this.autoMtlsDefault;
    const socket = source.transport === "unix" ? this.socketPath(name) : undefined;
    const identity = autoMtls ? await this.hostIdentity() : undefined;
    const env: Record<string, string> = {};
    if (identity) env[CLIENT_CERT_ENV] = identity.cert;
    if (socket) env[SOCKET_ENV] = socket;
    return {
      env,
      needsAnnouncement: autoMtls || socket !== undefined,
      socket,
      channel: (port, announced) => {
        if (socket && announced.socket !== socket) {
          throw new QntxError("TRANSPORT_UNSUPPORTED", announced.socket
            ? `plugin ${name} announced the socket ${announced.socket}, but the host asked for ${socket}`
            : `plugin ${name} was asked to listen on a unix socket (${SOCKET_ENV}) but announced a TCP port`, {
            hint: `the plugin does not support unix sockets (plugins of the qntx SDK do): remove transport = "unix" from [plugins.${name}]`,
          });
        }
        const target = socket ? unixTarget(socket) : `127.0.0.1:${port}`;
        if (!identity) return { target };
        if (!announced.cert) {
          throw new QntxError("TRANSPORT_UNSUPPORTED", `plugin ${name} did not announce a certificate (a QNTX_PLUGIN_CERT= line before its port line): it does not support auto-mTLS`, {
            hint: `update the plugin to a qntx SDK with auto-mTLS, or let it run in plaintext on loopback: auto_mtls = false in [plugins.${name}]`,
          });
        }
        let cert: X509Certificate;
        try {
          cert = new X509Certificate(announced.cert);
        } catch (error) {
          throw new QntxError("TRANSPORT_UNSUPPORTED", `plugin ${name} announced a certificate that is not X.509 DER (${(error as Error).message})`, {
            hint: "the QNTX_PLUGIN_CERT= line carries the certificate as base64 DER on one line",
          });
        }
        return pinnedChannel(name, target, cert, identity);
      },
    };
  }

  /** Removes a socket left by a plugin that stopped (a stopped SDK plugin removes its own). */
  removeSocket(path: string | undefined): void {
    if (path) rmSync(path, { force: true });
  }

  /**
   * The host's client certificate for auto-mTLS: made once per host process, on first use,
   * kept in memory only (its key never touches the disk or a plugin).
   */
  private hostIdentity(): Promise<CertificatePair> {
    this.identity ??= makeSelfSignedCertificate({ commonName: "qntx-host" });
    return this.identity;
  }

  /** `<data_dir>/sockets/<name>.sock`, its folder 0700, a stale file removed. */
  private socketPath(name: string): string {
    const path = join(this.socketDir, `${name}.sock`);
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
      throw new QntxError("CONFIG_INVALID", `plugin ${name}: its socket path ${path} is ${Buffer.byteLength(path)} bytes, longer than the ${MAX_SOCKET_PATH} a unix socket takes`, {
        hint: "use a shorter data_dir, or transport = \"tcp\"",
      });
    }
    ensurePrivateDir(this.socketDir);
    rmSync(path, { force: true });
    return path;
  }
}
