/**
 * `qntx db status|migrate|copy`: the installation's database itself, opened directly (no
 * running host needed): schema versions, pending migrations, and moving an embedded SQLite
 * installation into PostgreSQL.
 */
import type { Command } from "commander";
import type { DatabaseStatus } from "../schema/status.js";
import { runAction } from "./common.js";
import { databaseTarget } from "./db-target.js";
import { progressBar, renderTable } from "./table.js";

const DATABASE_OPTION = ["--database <url|file>", "a postgres:// URL or a SQLite file (default $QNTX_DATABASE_URL, [host] database, else <data_dir>/qntx.db)"] as const;

// Loaded when a db command runs: the stores and the pg client would slow every other command's start.
const loadSchema = () => import("../schema/status.js");

/** Adds the `db` command group to `program`. */
export function addDbCommands(program: Command): void {
  const db = program.command("db").description("the installation's database: schema status, migrations, copying SQLite into PostgreSQL");

  db.command("status")
    .description("show the database, each part's schema version against this build's, and pending migrations")
    .option(...DATABASE_OPTION)
    .option("--json", "print JSON")
    .action(runAction(async (options: { database?: string; json?: boolean }, command: Command) => {
      const { databaseStatus, tooNewError } = await loadSchema();
      const status = await databaseStatus(databaseTarget(command, options.database));
      if (options.json) return void console.log(JSON.stringify(status, null, 2));
      console.log(renderStatus(status, tooNewError(status)));
    }));

  db.command("copy")
    .description("copy an embedded SQLite installation (attestations, jobs with their logs, schedules, usage) into PostgreSQL; resumable")
    .requiredOption("--to <url>", "the postgres:// URL to copy into (migrated first)")
    .option(...DATABASE_OPTION)
    .action(runAction(async (options: { to: string; database?: string }, command: Command) => {
      const from = options.database ?? databaseTarget(command, undefined, { sqliteOnly: true });
      const tty = Boolean(process.stderr.isTTY);
      const { copyToPostgres } = await import("../schema/copy.js");
      const results = await copyToPostgres(from, options.to, (p) => {
        if (tty) process.stderr.write(`\r${p.table.padEnd(24)} ${progressBar(p.copied, p.total)}\x1b[K`);
        else if (p.copied === p.total) process.stderr.write(`${p.table}: ${p.copied}/${p.total}\n`);
      });
      if (tty) process.stderr.write("\n");
      console.log(renderTable(["TABLE", "IN SQLITE", "COPIED"], results.map((r) => [r.table, String(r.total), String(r.copied)])));
    }));

  db.command("migrate")
    .description("apply pending migrations (on PostgreSQL under the advisory lock hosts take at start)")
    .option(...DATABASE_OPTION)
    .action(runAction(async (options: { database?: string }, command: Command) => {
      const target = databaseTarget(command, options.database);
      const applied = await (await loadSchema()).migrateDatabase(target);
      const lines = Object.entries(applied).filter(([, versions]) => versions.length > 0).map(([ns, versions]) => `  ${ns}: applied ${versions.join(", ")}`);
      console.log(lines.length === 0 ? "Nothing to migrate: every part is up to date." : ["Migrated:", ...lines].join("\n"));
    }));

}

/** The status as text: the database, one row per part, then what to do. */
export function renderStatus(status: DatabaseStatus, refusal: Error & { hint?: string } | undefined): string {
  const head = status.kind === "postgres" ? `database  ${status.location}  (PostgreSQL ${status.server})` : `database  ${status.location}  (SQLite${status.exists ? "" : ", not created yet"})`;
  const rows = status.components.map((c) => [
    c.namespace, c.keeps, String(c.found), c.known === null ? "-" : String(c.known),
    c.state === "pending" ? `${c.pending.length} pending: ${c.pending.join(", ")}` : c.state,
  ]);
  const lines = [head, "", renderTable(["PART", "KEEPS", "DATABASE", "THIS BUILD", "STATE"], rows)];
  for (const u of status.unknown) lines.push(`unknown part "${u.namespace}" at version ${u.version} (written by another build)`);
  if (refusal) lines.push("", `${refusal.message}`, `  hint: ${refusal.hint}`);
  else if (status.components.some((c) => c.state === "pending")) lines.push("", "Run `qntx db migrate` to apply them (a host applies them at start too).");
  return lines.join("\n");
}
