/**
 * The attestations the ATS cases write: command i has subject `user-<i mod S>`, predicate
 * `p<⌊i/S⌋ mod 20>` (so each subject has every predicate; with S = 10 000 and 1 000 000 rows a
 * subject+predicate pair matches 5), a context, an actor and two attributes.
 */
export const SUBJECTS = 10_000;
export const PREDICATES = 20;

/** Command i (the AttestationCommand message). */
export function command(i) {
  return {
    subjects: [`user-${i % SUBJECTS}`],
    predicates: [`p${Math.floor(i / SUBJECTS) % PREDICATES}`],
    contexts: [`ctx-${i % 50}`],
    actors: [`actor-${i % 7}`],
    attributes: { n: i, note: "bench" },
    source: "",
    sourceVersion: "1.0",
  };
}
