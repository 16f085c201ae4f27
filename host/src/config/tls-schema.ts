/**
 * Certificate keys of the config: a plugin's `tls` and `sha256`, and `[host] grpc_tls` and
 * `tls`. Certificate files are read when the config loads, so a missing, unreadable or
 * malformed file, or a key that does not belong to its certificate, is an error at `file:line`
 * before anything starts. The entry keeps only the paths: the files are read again whenever a
 * channel or server is made, so renewed certificates are taken at the next (re)start.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { isTable, typeName, type Checker } from "./checker.js";
import type { ResolveContext } from "./host-schema.js";
import { resolvePath } from "./paths.js";
import type { HttpsFiles, TlsFiles } from "./types.js";

const READ_HINT = "check the path (relative paths are resolved against the config file's folder) and that the host can read it";

/** `tls = { ca, cert, key }`: all three required. Undefined after reporting. */
export function checkTlsFiles(path: readonly string[], value: unknown, check: Checker, ctx: ResolveContext): TlsFiles | undefined {
  const table = checkTable(path, value, check, ["ca", "cert", "key"], 'write it like tls = { ca = "ca.pem", cert = "host.pem", key = "host-key.pem" }');
  if (!table) return undefined;
  const ca = certFile(path, "ca", table.ca, check, ctx, true);
  const pair = certAndKey(path, table, check, ctx, true);
  return ca === undefined || pair === undefined ? undefined : { ca, ...pair };
}

/** `[host] tls = { cert, key, ca? }`: the HTTPS certificate (`ca` optional). Undefined after reporting. */
export function checkHttpsFiles(path: readonly string[], value: unknown, check: Checker, ctx: ResolveContext): HttpsFiles | undefined {
  const table = checkTable(path, value, check, ["cert", "key", "ca"], 'write it like tls = { cert = "host.pem", key = "host-key.pem" }');
  if (!table) return undefined;
  const pair = certAndKey(path, table, check, ctx, false);
  const ca = table.ca === undefined ? undefined : certFile(path, "ca", table.ca, check, ctx, true);
  if (table.ca !== undefined && ca === undefined) return undefined;
  return pair === undefined ? undefined : { ...pair, ca };
}

/** `sha256 = "<64 hex digits>"`, lowercased; undefined after reporting. */
export function checkSha256(path: readonly string[], value: unknown, check: Checker): string | undefined {
  const text = check.string(path, value);
  if (text === undefined) return undefined;
  const hex = text.trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    check.report(path, `must be 64 hexadecimal digits (got ${JSON.stringify(text)})`, "print it with: sha256sum <file>");
    return undefined;
  }
  return hex;
}

function checkTable(path: readonly string[], value: unknown, check: Checker, keys: readonly string[], example: string): Record<string, unknown> | undefined {
  if (!isTable(value)) {
    check.report(path, `must be a table (got ${typeName(value)})`, example);
    return undefined;
  }
  check.unknownKeys(path, value, keys, path[path.length - 1]!);
  return value;
}

/** `cert` and `key`, both readable, and the key the certificate's. */
function certAndKey(path: readonly string[], table: Record<string, unknown>, check: Checker, ctx: ResolveContext, required: boolean): { cert: string; key: string } | undefined {
  const cert = certFile(path, "cert", table.cert, check, ctx, required);
  const keyPath = fileKey(path, "key", table.key, check, ctx, required);
  if (cert === undefined || keyPath === undefined) return undefined;
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPath.text);
  } catch (error) {
    check.report([...path, "key"], `${keyPath.file} is not a PEM private key (${reason(error)})`, "an unencrypted PEM key is needed (PKCS#8, PKCS#1 or SEC1)");
    return undefined;
  }
  if (!new X509Certificate(readFileSync(cert)).checkPrivateKey(key)) {
    check.report([...path, "key"], `${keyPath.file} is not the key of the certificate ${cert}`, "give the key the certificate was issued for");
    return undefined;
  }
  return { cert, key: keyPath.file };
}

/** A readable PEM certificate file; its absolute path. */
function certFile(path: readonly string[], k: string, value: unknown, check: Checker, ctx: ResolveContext, required: boolean): string | undefined {
  const read = fileKey(path, k, value, check, ctx, required);
  if (!read) return undefined;
  try {
    new X509Certificate(read.text);
  } catch (error) {
    check.report([...path, k], `${read.file} is not a PEM certificate (${reason(error)})`, "give a file that starts with -----BEGIN CERTIFICATE-----");
    return undefined;
  }
  return read.file;
}

function fileKey(path: readonly string[], k: string, value: unknown, check: Checker, ctx: ResolveContext, required: boolean): { file: string; text: string } | undefined {
  if (value === undefined) {
    if (required) check.report(path, `needs ${k} (a path to a PEM file)`);
    return undefined;
  }
  const raw = check.string([...path, k], value);
  if (raw === undefined) return undefined;
  const file = resolvePath(raw, ctx.baseDir, ctx.home);
  try {
    return { file, text: readFileSync(file, "utf8") };
  } catch (error) {
    check.report([...path, k], `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? reason(error)}`, READ_HINT);
    return undefined;
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
