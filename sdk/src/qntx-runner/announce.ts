/**
 * What a QNTX module announces in InitializeResponse besides routes: `handler_names` and
 * `schedules`, each an array or a function returning one (read after `init`, so `init` may
 * decide them). Schedules take ScheduleInfo's fields in snake_case (as QNTX's runtime passed
 * them to proto-loader) or camelCase; a missing `enabled_by_default` is false, the proto
 * default QNTX saw.
 */
import type { ScheduleInfo } from "@qntx/protocol";
import { checkHandlerName } from "../define.js";
import type { QntxModule } from "./types.js";

async function valueOf(mod: QntxModule, field: "handler_names" | "schedules"): Promise<unknown> {
  const value = mod[field];
  return typeof value === "function" ? await (value as () => unknown).call(mod) : value;
}

/** The module's handler names, validated (no `/`, no whitespace, no duplicates). */
export async function handlerNamesOf(mod: QntxModule): Promise<string[]> {
  const value = await valueOf(mod, "handler_names");
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TypeError(`handler_names must be an array of names (or a function returning one), got ${typeof value}`);
  const names = new Set<string>();
  for (const name of value) {
    checkHandlerName(name, "handler_names");
    names.add(name);
  }
  return [...names];
}

function field(record: Record<string, unknown>, snake: string, camel: string): unknown {
  return record[snake] ?? record[camel];
}

function text(value: unknown, where: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value !== "string") throw new TypeError(`${where} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

/** The module's schedules as ScheduleInfo; each must name one of `handlerNames`. */
export async function schedulesOf(mod: QntxModule, handlerNames: readonly string[]): Promise<ScheduleInfo[]> {
  const value = await valueOf(mod, "schedules");
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new TypeError(`schedules must be an array (or a function returning one), got ${typeof value}`);
  return value.map((raw: unknown, i): ScheduleInfo => {
    const where = `schedules[${i}]`;
    if (typeof raw !== "object" || raw === null) throw new TypeError(`${where} must be an object`);
    const record = raw as Record<string, unknown>;
    const handler = field(record, "handler_name", "handlerName");
    if (typeof handler !== "string" || !handlerNames.includes(handler)) {
      throw new TypeError(`${where}: handler_name ${JSON.stringify(handler)} is not in handler_names (${handlerNames.join(", ") || "none"})`);
    }
    const interval = field(record, "interval_seconds", "intervalSeconds") ?? 0;
    if (typeof interval !== "number" || !Number.isInteger(interval) || interval < 0 || interval > 2_147_483_647) {
      throw new TypeError(`${where}: interval_seconds must be a whole number >= 0 (0 = off), got ${JSON.stringify(interval)}`);
    }
    const enabled = field(record, "enabled_by_default", "enabledByDefault") ?? false;
    if (typeof enabled !== "boolean") throw new TypeError(`${where}: enabled_by_default must be true or false, got ${JSON.stringify(enabled)}`);
    return {
      handlerName: handler,
      intervalSeconds: interval,
      enabledByDefault: enabled,
      description: text(record.description, `${where}.description`),
      atsCode: text(field(record, "ats_code", "atsCode"), `${where}.ats_code`),
    };
  });
}
