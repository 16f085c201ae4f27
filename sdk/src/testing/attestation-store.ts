/**
 * The fake host's attestation store: an array in memory with the host's semantics
 * (docs/protocol.md §1.2, atsstore.proto): OR within a filter dimension, AND across, inclusive time
 * bounds on `timestamp`, newest `created_at` first, limit unset or 0 = none, generated ids
 * `AS-<S>-<P>-<C>-<8 random chars>`, `["_"]` for empty predicates/contexts, the id as the
 * only actor of a generated attestation without actors, the source
 * fallback (command → caller → `"plugin"`) and `source_version` kept in the attributes.
 */
import {
  generateAttestationId,
  matchesNormalizedFilter,
  selfCertifiedActors,
  normalizeAttestationFilter,
  type Attestation,
  type AttestationCommand,
  type AttestationFilter,
} from "@qntx/protocol";

/** What `seed` and `create` accept: an `AttestationCommand` with `subjects`, plus fields the host fills. */
export interface AttestationSeed extends Partial<AttestationCommand> {
  subjects: string[];
  /** Id to store instead of a generated one (the deprecated `CreateAttestation` lets clients choose). */
  id?: string;
  /** `created_at` (unix ms) instead of now: lets a test order seeded attestations. */
  createdAt?: number;
}

/** Filter fields a test may give; the rest default as in an empty `AttestationFilter`. */
export type FilterInput = Partial<AttestationFilter>;

// The host store's id rule: the fake host makes ids of the same form.
export { generateAttestationId };

function present(value: number | null | undefined): value is number {
  return value !== undefined && value !== null;
}

/**
 * True when `a` satisfies `filter` (the limit aside), by the host store's rules
 * (@qntx/protocol): an empty dimension matches anything; time bounds are checked by
 * presence, so 0 is a valid bound.
 * @throws TypeError naming the field of a malformed filter
 */
export function matchesFilter(filter: FilterInput | undefined, a: Attestation): boolean {
  return !filter || matchesNormalizedFilter(normalizeAttestationFilter(filter), a);
}

function strings(field: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) throw new Error(`${field} must be a list of strings`);
  return [...(value as string[])];
}

/** The in-memory store. `attestations` is the live array: tests may read it (or push to it). */
export class AttestationStore {
  readonly attestations: Attestation[] = [];
  // Insertion order breaks ties between equal `created_at` (several writes in one millisecond).
  private readonly order = new WeakMap<Attestation, number>();
  private sequence = 0;

  /**
   * Builds the attestation `command` describes with the host's defaults and stores it.
   * @throws Error on a missing command or one without subjects (the host answers the same in the body)
   */
  create(command: AttestationSeed | AttestationCommand | undefined, callerSource: string): Attestation {
    return this.add([this.build(command, callerSource)])[0]!;
  }

  /** Validates every command first, then stores them all: a bad one stores none, as the host's transaction. */
  createMany(commands: readonly (AttestationSeed | AttestationCommand)[], callerSource: string): Attestation[] {
    return this.add(commands.map((command) => this.build(command, callerSource)));
  }

  /** Stores a client-built attestation (deprecated `CreateAttestation`). */
  put(attestation: Attestation | undefined, callerSource: string): Attestation {
    if (!attestation) throw new Error("attestation is required (the request left it unset)");
    if (!attestation.id) throw new Error("attestation id is required");
    if (strings("subjects", attestation.subjects).length === 0) throw new Error("attestation needs at least one subject");
    if (this.attestations.some((a) => a.id === attestation.id)) throw new Error(`attestation ${attestation.id} already exists`);
    const stored: Attestation = {
      ...attestation,
      source: attestation.source || callerSource || "plugin",
      createdAt: attestation.createdAt || Date.now(),
      signature: Buffer.from(attestation.signature ?? Buffer.alloc(0)),
    };
    return this.add([stored])[0]!;
  }

  /** Whether an attestation with `id` is stored. */
  has(id: string): boolean {
    return id !== "" && this.attestations.some((a) => a.id === id);
  }

  /** What `GetAttestations` answers for `filter`: matches, newest `created_at` first, limited. */
  select(filter: FilterInput | undefined): Attestation[] {
    // Normalized once, not per attestation.
    const normalized = normalizeAttestationFilter(filter ?? {});
    const found = this.attestations.filter((a) => matchesNormalizedFilter(normalized, a));
    found.sort((a, b) => b.createdAt - a.createdAt || (this.order.get(b) ?? 0) - (this.order.get(a) ?? 0));
    return normalized.limit > 0 ? found.slice(0, normalized.limit) : found;
  }

  /** Forgets every attestation. */
  clear(): void {
    this.attestations.length = 0;
  }

  /** Listener called with each attestation stored, after it is stored. */
  onStored: (attestation: Attestation) => void = () => undefined;

  private add(list: Attestation[]): Attestation[] {
    for (const a of list) {
      this.order.set(a, ++this.sequence);
      this.attestations.push(a);
    }
    for (const a of list) this.onStored(a);
    return list;
  }

  private build(command: AttestationSeed | AttestationCommand | undefined, callerSource: string): Attestation {
    if (!command || typeof command !== "object") throw new Error("command is required (the request left it unset)");
    const subjects = strings("subjects", command.subjects);
    if (subjects.length === 0) throw new Error("attestation needs at least one subject");
    const predicates = strings("predicates", command.predicates);
    const contexts = strings("contexts", command.contexts);
    if (predicates.length === 0) predicates.push("_");
    if (contexts.length === 0) contexts.push("_");
    let attributes = command.attributes ?? {};
    if (command.sourceVersion) attributes = { ...attributes, source_version: command.sourceVersion };
    const now = Date.now();
    const seed = command as AttestationSeed;
    const id = seed.id || generateAttestationId(subjects[0], predicates[0], contexts[0]);
    const actors = strings("actors", command.actors);
    return {
      id,
      subjects,
      predicates,
      contexts,
      // A generated attestation without actors is its own actor, as in the host; a seed with
      // a chosen id is stored as given (the deprecated CreateAttestation does not fill it either).
      actors: seed.id ? actors : selfCertifiedActors(actors, id),
      // Presence, not truthiness: a timestamp of 0 is kept.
      timestamp: present(command.timestamp) ? command.timestamp : now,
      source: command.source || callerSource || "plugin",
      attributes,
      createdAt: present(seed.createdAt) ? seed.createdAt : now,
      signature: Buffer.alloc(0),
      signerDid: "",
    };
  }
}
