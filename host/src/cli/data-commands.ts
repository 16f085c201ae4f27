/**
 * `qntx as` (write one attestation), `qntx ax` (query attestations) and `qntx handler …`
 * (dynamic handlers stored as attestations, ADR-004), all through the running host's HTTP API.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { QntxError } from "@qntx/protocol";
import { ControlClient } from "./client.js";
import { clientLocation, runAction } from "./common.js";
import { renderTable } from "./table.js";

/** An attestation as the HTTP API returns it. */
interface AttestationJson {
  id: string;
  subjects: string[];
  predicates: string[];
  contexts: string[];
  actors: string[];
  timestamp: number;
  source: string;
  attributes: Record<string, unknown>;
  createdAt: number;
}

/** Adds `as`, `ax` and `handler` to `program`. */
export function addDataCommands(program: Command): void {
  program
    .command("as <subject> <predicate> [context]")
    .description("write one attestation: <subject> <predicate> [context]")
    .option("--attr <key=value>", "an attribute (repeatable); JSON values such as 3, true or [1] keep their type", collect, [])
    .option("--actor <actor>", "who attests (repeatable)", collect, [])
    .option("--json", "print the stored attestation as JSON")
    .action(runAction(async (subject: string, predicate: string, context: string | undefined, options: { attr: string[]; actor: string[]; json?: boolean }, command: Command) => {
      const client = ControlClient.locate(clientLocation(command));
      const body = { subjects: [subject], predicates: [predicate], contexts: context ? [context] : [], actors: options.actor, attributes: parseAttrs(options.attr), source: "cli" };
      const { attestation } = await client.post<{ attestation: AttestationJson }>("/api/attestations", body);
      console.log(options.json ? JSON.stringify(attestation, null, 2) : attestation.id);
    }));

  program
    .command("ax")
    .description("query attestations (OR within an option, AND across options), newest first")
    .option("--subject <s>", "match a subject (repeatable)", collect, [])
    .option("--predicate <p>", "match a predicate (repeatable)", collect, [])
    .option("--context <c>", "match a context (repeatable)", collect, [])
    .option("--actor <a>", "match an actor (repeatable)", collect, [])
    .option("--since <time>", "timestamp at or after: unix ms or ISO 8601")
    .option("--until <time>", "timestamp at or before: unix ms or ISO 8601")
    .option("--limit <n>", "at most n results", "100")
    .option("--json", "print JSON")
    .action(runAction(async (options: { subject: string[]; predicate: string[]; context: string[]; actor: string[]; since?: string; until?: string; limit: string; json?: boolean }, command: Command) => {
      const client = ControlClient.locate(clientLocation(command));
      const query = new URLSearchParams();
      for (const [key, values] of [["subject", options.subject], ["predicate", options.predicate], ["context", options.context], ["actor", options.actor]] as const) {
        for (const value of values) query.append(key, value);
      }
      if (options.since) query.set("since", options.since);
      if (options.until) query.set("until", options.until);
      query.set("limit", options.limit);
      const { attestations } = await client.get<{ attestations: AttestationJson[] }>(`/api/attestations?${query}`);
      if (options.json) return void console.log(JSON.stringify(attestations, null, 2));
      if (attestations.length === 0) return void console.log("No attestations match.");
      console.log(renderTable(
        ["ID", "SUBJECTS", "PREDICATES", "CONTEXTS", "ACTORS", "SOURCE", "TIME"],
        attestations.map((a) => [a.id, a.subjects.join(","), a.predicates.join(","), a.contexts.join(","), a.actors.join(",") || "-", a.source, new Date(a.timestamp).toISOString()]),
      ));
    }));

  const handler = program.command("handler").description("dynamic job handlers, stored as attestations (ADR-004)");
  handler
    .command("create <name>")
    .description("store a handler: subjects=[name] predicates=[handler] contexts=[plugin] attributes.code")
    .option("--code <source>", "the handler's code")
    .option("--file <path>", "read the handler's code from a file")
    .option("--plugin <plugin>", "the plugin that runs it (its context)", "_")
    .action(runAction(async (name: string, options: { code?: string; file?: string; plugin: string }, command: Command) => {
      if ((options.code === undefined) === (options.file === undefined)) {
        throw new QntxError("INVALID_ARGUMENT", "give exactly one of --code or --file", { hint: 'qntx handler create double --code "return payload * 2" --plugin scripts' });
      }
      const code = options.code ?? readFileSync(options.file!, "utf8");
      const client = ControlClient.locate(clientLocation(command));
      const { attestation } = await client.post<{ attestation: AttestationJson }>("/api/attestations", {
        subjects: [name], predicates: ["handler"], contexts: [options.plugin], attributes: { code }, source: "cli",
      });
      console.log(`handler ${name} stored for plugin ${options.plugin} (${attestation.id}); restart the plugin to announce it`);
    }));
  handler
    .command("list")
    .description("list stored handlers (the newest definition of each name per plugin)")
    .option("--plugin <plugin>", "only this plugin's")
    .option("--json", "print JSON")
    .action(runAction(async (options: { plugin?: string; json?: boolean }, command: Command) => {
      const client = ControlClient.locate(clientLocation(command));
      const query = new URLSearchParams({ predicate: "handler" });
      if (options.plugin) query.set("context", options.plugin);
      const { attestations } = await client.get<{ attestations: AttestationJson[] }>(`/api/attestations?${query}`);
      const newest = new Map<string, AttestationJson>();
      for (const a of attestations) {
        const key = `${a.contexts.join(",")}/${a.subjects.join(",")}`;
        if (!newest.has(key)) newest.set(key, a);
      }
      const rows = [...newest.values()];
      if (options.json) return void console.log(JSON.stringify(rows, null, 2));
      if (rows.length === 0) return void console.log("No handlers stored. Create one with `qntx handler create NAME --code …`.");
      console.log(renderTable(["NAME", "PLUGIN", "CODE", "CREATED"], rows.map((a) => [
        a.subjects.join(","), a.contexts.join(","), `${String(a.attributes.code ?? "").length} chars`, new Date(a.createdAt).toISOString(),
      ])));
    }));
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `k=v` pairs → attributes; a value that parses as JSON keeps its type, otherwise it is a string. */
export function parseAttrs(pairs: readonly string[]): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new QntxError("INVALID_ARGUMENT", `--attr "${pair}" is not key=value`, { hint: "--attr size=3 --attr tags='[\"a\"]'" });
    const raw = pair.slice(at + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // Not JSON: keep the text.
    }
    attributes[pair.slice(0, at)] = value;
  }
  return attributes;
}
