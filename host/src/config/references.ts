/**
 * References in config values, resolved when a plugin starts so a secret reaches the plugin
 * without ever being written in a config file: QNTX's secret references (`env:VAR`; its
 * `ssm://` form needs AWS and is refused here with a clear error) and this host's `${VAR}` /
 * `${VAR:-default}` expansion inside values. A missing variable is an error naming the plugin,
 * the key and the variable — never a value, which may be a secret.
 */
import { QntxError } from "@qntx/protocol";

const ENV_REF = "env:";
const SSM_REF = "ssm://";

/**
 * Resolves every value of `config`: a whole value `env:VAR` becomes `$VAR` (which must be set
 * and not empty, as QNTX requires), `ssm://…` is refused, and `${VAR}` inside other values is
 * expanded. `where` says where the config comes from, for the message.
 * @throws QntxError CONFIG_INVALID listing every key that cannot be resolved
 */
export function resolveConfigValues(config: Readonly<Record<string, string>>, env: NodeJS.ProcessEnv, plugin: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  const problems: string[] = [];
  const variables = new Set<string>();
  for (const [key, value] of Object.entries(config)) {
    if (value.startsWith(ENV_REF)) {
      const name = value.slice(ENV_REF.length).trim();
      const found = name === "" ? undefined : env[name];
      if (name === "") problems.push(`${key} is an env: reference without a variable name`);
      else if (found === undefined || found === "") {
        problems.push(`${key} references env:${name}, which is unset or empty`);
        variables.add(name);
      } else out[key] = found;
    } else if (value.startsWith(SSM_REF)) {
      problems.push(`${key} is an ssm:// reference, which this host cannot read (it has no AWS Parameter Store client)`);
    } else {
      out[key] = value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_match, name: string, fallback: string | undefined) => {
        const found = env[name];
        if (found !== undefined && found !== "") return found;
        if (fallback !== undefined) return fallback;
        problems.push(`${key} uses \${${name}}, which is not set`);
        variables.add(name);
        return "";
      });
    }
  }
  if (problems.length) {
    const exports = [...variables].join(", ");
    throw new QntxError("CONFIG_INVALID", `plugin ${plugin} config (${where}): ${problems.join("; ")}`, {
      hint: exports
        ? `export ${exports} before starting the host, then qntx plugin start ${plugin}; or write \${VAR:-default}`
        : "use env:VAR for a secret held in the environment",
    });
  }
  return out;
}
