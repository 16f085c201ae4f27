/**
 * The write statements of the PostgreSQL store. A batch is two statements whatever its size
 * (rows, then terms, each from arrays through `unnest`), inside the caller's transaction.
 */
import type { Attestation } from "@qntx/protocol";
import type pg from "pg";
import { attestationToInsert } from "./codec.js";
import { AtsError } from "./errors.js";
import { Dim, DIM_NAMES } from "./schema.js";
import { alreadyExists, ID_ATTEMPTS, redrawId, writeFailure } from "./store-common.js";

/** Where a written attestation landed. */
export interface WrittenRow {
  readonly seq: number;
  /** The writing transaction's id (xid8), which the watch feed orders by. */
  readonly tx: bigint;
}

// ORDER BY ord: seq is drawn in command order, so "newest first" keeps a batch's order.
// ON CONFLICT DO NOTHING: a taken id leaves its row out of RETURNING instead of aborting the
// transaction, so a generated id that clashed is redrawn and retried within it.
const INSERT_ROWS = `INSERT INTO attestations (id, timestamp, created_at, source, attributes, signature, signer_did,
                                  subjects, predicates, contexts, actors, expires_at)
SELECT id, ts, ca, src, attrs, sig, did, s, p, c, a, exp
FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::bytea[], $7::text[],
            $8::text[], $9::text[], $10::text[], $11::text[], $12::bigint[])
     WITH ORDINALITY AS u(id, ts, ca, src, attrs, sig, did, s, p, c, a, exp, ord)
ORDER BY ord
ON CONFLICT (id) DO NOTHING
RETURNING id, seq, tx::text AS tx`;

// DO NOTHING: a value repeated within one list (subjects ["a","a"]) is one term.
const INSERT_TERMS = `INSERT INTO attestation_terms (dim, value, created_at, seq, timestamp)
SELECT * FROM unnest($1::smallint[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
ON CONFLICT DO NOTHING`;

/**
 * Refuses a string PostgreSQL text cannot store (U+0000; the SQLite store keeps it). Lists
 * and attributes are stored as JSON, where it is escaped, but ids, sources and term values
 * are stored as they are.
 * @throws AtsError INVALID_ARGUMENT naming the field
 */
export function checkPgText(a: Attestation): void {
  const fields: [string, readonly string[]][] = [["id", [a.id]], ["source", [a.source]], ["signer_did", [a.signerDid ?? ""]]];
  for (const dim of DIM_NAMES) fields.push([dim, a[dim]]);
  for (const [field, values] of fields) {
    if (values.some((v) => v.includes("\u0000"))) {
      throw new AtsError("INVALID_ARGUMENT", `${field} holds the character U+0000, which PostgreSQL text cannot store`, {
        hint: "remove the NUL character (an attribute value may hold it: attributes are stored as JSON)",
      });
    }
  }
}

/**
 * Inserts `attestations` and their terms on `client`, which must be inside a transaction.
 * Generated ids that clash are redrawn (up to {@link ID_ATTEMPTS} times); a client-chosen
 * id that is taken is refused.
 * @returns where each attestation landed, in the order given
 * @throws AtsError ALREADY_EXISTS; the database's error otherwise (the caller rolls back)
 */
export async function insertAttestations(client: pg.ClientBase, attestations: readonly Attestation[], generated: boolean): Promise<WrittenRow[]> {
  const landed = new Map<Attestation, WrittenRow>();
  let pending = attestations;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const rows = pending.map(attestationToInsert);
    const result = await client.query<{ id: string; seq: number; tx: string }>(INSERT_ROWS, [
      rows.map((r) => r.id), rows.map((r) => r.timestamp), rows.map((r) => r.created_at), rows.map((r) => r.source),
      rows.map((r) => r.attributes), rows.map((r) => r.signature), rows.map((r) => r.signer_did), rows.map((r) => r.subjects),
      rows.map((r) => r.predicates), rows.map((r) => r.contexts), rows.map((r) => r.actors), rows.map((r) => r.expires_at),
    ]);
    const byId = new Map(result.rows.map((r) => [r.id, { seq: r.seq, tx: BigInt(r.tx) }]));
    const clashed: Attestation[] = [];
    for (const a of pending) {
      const row = byId.get(a.id);
      if (row) landed.set(a, row);
      else clashed.push(a);
    }
    if (clashed.length === 0) break;
    if (!generated) throw alreadyExists(clashed[0]!.id);
    if (attempt >= ID_ATTEMPTS) {
      const index = attestations.indexOf(clashed[0]!);
      throw writeFailure(new Error(`no free id for attestation after ${ID_ATTEMPTS} tries (last: ${clashed[0]!.id})`), index, attestations.length);
    }
    for (const a of clashed) redrawId(a);
    pending = clashed;
  }

  const dims: number[] = [], values: string[] = [], createdAt: number[] = [], seqs: number[] = [], timestamps: number[] = [];
  for (const a of attestations) {
    const { seq } = landed.get(a)!;
    for (const dim of DIM_NAMES) {
      for (const value of a[dim]) {
        dims.push(Dim[dim]);
        values.push(value);
        createdAt.push(a.createdAt);
        seqs.push(seq);
        timestamps.push(a.timestamp);
      }
    }
  }
  await client.query(INSERT_TERMS, [dims, values, createdAt, seqs, timestamps]);
  return attestations.map((a) => landed.get(a)!);
}

/**
 * Finds which attestation of a failed batch the database refuses, by writing them one by one
 * in a fresh transaction that is rolled back: the bulk statement's error does not say, and a
 * plugin needs the index to find the command among thousands. Runs only after a failure.
 * @returns the first refused index and its error, or undefined when each row alone is accepted
 */
export async function findRefused(client: pg.ClientBase, attestations: readonly Attestation[], generated: boolean): Promise<{ index: number; error: unknown } | undefined> {
  await client.query("BEGIN");
  try {
    for (let i = 0; i < attestations.length; i++) {
      try {
        await insertAttestations(client, [attestations[i]!], generated);
      } catch (error) {
        return { index: i, error };
      }
    }
    return undefined;
  } finally {
    await client.query("ROLLBACK");
  }
}
