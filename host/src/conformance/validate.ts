/**
 * Checks of what a plugin announces, beyond "it answered": a ConfigSchema the host can apply,
 * an InitializeResponse whose routes, handlers, schedules and watchers the host can register,
 * and CLI commands the CLI can offer. Each returns one message per problem (empty when fine).
 */
import type { CommandsResponse, ConfigSchemaResponse, InitializeResponse } from "@qntx/protocol";
import { validateConfig } from "../plugin/plugin-config.js";

const FIELD_TYPES = ["string", "number", "boolean", "array"];
const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "*"];

/** Problems of a ConfigSchemaResponse: unknown types, bad element types, patterns, bounds or defaults. */
export function schemaProblems(schema: ConfigSchemaResponse): string[] {
  const problems: string[] = [];
  for (const [key, field] of Object.entries(schema.fields).sort(([a], [b]) => a.localeCompare(b))) {
    const type = field.type || "string";
    if (!FIELD_TYPES.includes(type)) {
      problems.push(`${key}: type "${field.type}" is not one of ${FIELD_TYPES.join(", ")}`);
      continue;
    }
    if (field.elementType && (type !== "array" || !["string", "number", "boolean"].includes(field.elementType))) {
      problems.push(`${key}: element_type "${field.elementType}" needs type array and a string, number or boolean element`);
    }
    if (field.pattern) {
      try {
        new RegExp(field.pattern);
      } catch {
        problems.push(`${key}: pattern ${field.pattern} is not a valid regular expression`);
      }
    }
    for (const [name, bound] of [["min_value", field.minValue], ["max_value", field.maxValue]] as const) {
      if (bound !== "" && !Number.isFinite(Number(bound))) problems.push(`${key}: ${name} "${bound}" is not a number`);
    }
    if (field.defaultValue !== "") {
      // A default the host fills in must pass the field's own rule, or every start fails.
      const { errors } = validateConfig({ [key]: field.defaultValue }, { fields: { [key]: field } });
      if (errors.length) problems.push(`default of ${errors[0]}`);
    }
  }
  return problems;
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
