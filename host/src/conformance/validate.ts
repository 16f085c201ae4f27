/**
 * Checks of what a plugin announces, beyond "it answered": a ConfigSchema the host can apply,
 * an InitializeResponse whose routes, handlers, schedules and watchers the host can register,
 * and CLI commands the CLI can offer. Each returns one message per problem (empty when fine).
 */
import { schemaFieldProblems, type CommandsResponse, type ConfigSchemaResponse, type InitializeResponse } from "@qntx/protocol";

const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*"];

/** Problems of a ConfigSchemaResponse: unknown types, bad element types, patterns, bounds or defaults. */
export function schemaProblems(schema: ConfigSchemaResponse): string[] {
  return Object.entries(schema.fields)
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([key, field]) => schemaFieldProblems(key, field));
}

/** "3 routes, 1 handler, 0 schedules, 0 watchers". */
export function describeInit(init: InitializeResponse): string {
  const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? "" : "s"}`;
  return [count(init.httpRoutes.length, "route"), count(init.handlerNames.length, "handler"), count(init.schedules.length, "schedule"), count(init.watchers.length, "watcher")].join(", ");
}

/** Problems of an InitializeResponse the host would register. */
export function initProblems(init: InitializeResponse): string[] {
  const problems: string[] = [];
  const seenRoutes = new Set<string>();
  for (const route of init.httpRoutes) {
    const method = route.method.toUpperCase();
    if (!HTTP_METHODS.includes(method)) problems.push(`route "${route.method} ${route.path}" has an unknown method`);
    if (!route.path.startsWith("/")) problems.push(`route path "${route.path}" does not start with "/" (paths are relative to /api/<name>)`);
    const key = `${method} ${route.path}`;
    if (seenRoutes.has(key)) problems.push(`route ${key} is announced twice`);
    seenRoutes.add(key);
  }
  const handlers = new Set<string>();
  for (const name of init.handlerNames) {
    if (!name.trim()) problems.push("an empty handler name");
    else if (/[\s/]/.test(name)) problems.push(`handler name "${name}" holds a space or "/" (the host registers it as <plugin>/<handler>)`);
    if (handlers.has(name)) problems.push(`handler ${name} is announced twice`);
    handlers.add(name);
  }
  for (const schedule of init.schedules) {
    if (!handlers.has(schedule.handlerName)) problems.push(`schedule for "${schedule.handlerName}", which is not an announced handler`);
    if (schedule.intervalSeconds < 0) problems.push(`schedule for ${schedule.handlerName} has a negative interval`);
  }
  for (const watcher of init.watchers) {
    if (!handlers.has(watcher.handlerName)) problems.push(`watcher ${watcher.id || "(no id)"} runs "${watcher.handlerName}", which is not an announced handler`);
  }
  return problems;
}

/** Problems of a CommandsResponse the CLI would offer as `qntx <plugin> <command>`. */
export function commandProblems(answer: CommandsResponse): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const command of answer.commands) {
    if (!command.name || /\s/.test(command.name) || command.name.startsWith("-")) problems.push(`command name "${command.name}" is empty, holds whitespace or starts with "-"`);
    if (names.has(command.name)) problems.push(`command ${command.name} is announced twice`);
    names.add(command.name);
    const flags = new Set<string>();
    for (const flag of command.flags) {
      if (!flag.name || /[\s=]/.test(flag.name) || flag.name.startsWith("-")) problems.push(`${command.name}: flag name "${flag.name}" is empty, holds whitespace or "=", or starts with "-"`);
      if (flag.short && !/^[A-Za-z0-9]$/.test(flag.short)) problems.push(`${command.name}: short alias "${flag.short}" of --${flag.name} is not one letter or digit`);
      if (flags.has(flag.name)) problems.push(`${command.name}: flag --${flag.name} is declared twice`);
      flags.add(flag.name);
    }
  }
  return problems;
}

/** Whether an announced route path has parameters (`:id`, `{id}`, `*`): the check cannot call it blind. */
export function hasParams(path: string): boolean {
  return /[:{*]/.test(path);
}
