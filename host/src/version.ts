import { readFileSync } from "node:fs";

/** The host's version (from host/package.json): what plugins' `qntx_version` ranges are checked against. */
export const HOST_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
