import semver from "semver";
import { QntxError } from "@qntx/protocol";

/**
 * Checks a plugin's `qntx_version` (a semver range) against the host version. An empty
 * range accepts any host. Prereleases of the host count as satisfying `>=` ranges, because
 * a development build of the host should load the plugins its release will load.
 * @throws QntxError VERSION_MISMATCH naming both versions.
 */
export function checkQntxVersion(pluginName: string, range: string, hostVersion: string): void {
  const wanted = range.trim();
  if (wanted === "" || wanted === "*") return;
  if (semver.validRange(wanted) === null) {
    throw new QntxError("VERSION_MISMATCH", `plugin ${pluginName} declares qntx_version "${wanted}", which is not a semver range (host is ${hostVersion})`, {
      hint: `fix the plugin's metadata, for example qntx_version ">=${hostVersion}"`,
    });
  }
  if (!semver.satisfies(hostVersion, wanted, { includePrerelease: true })) {
    throw new QntxError("VERSION_MISMATCH", `plugin ${pluginName} needs qntx ${wanted}, but this host is ${hostVersion}`, {
      hint: `run a host that satisfies ${wanted}, or use a plugin release built for qntx ${hostVersion}`,
    });
  }
}
