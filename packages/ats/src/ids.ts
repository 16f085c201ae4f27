/**
 * Attestation ids in QNTX's generated form: `AS-<S>-<P>-<C>-<8 random chars>`.
 *
 * The readable part lets a human scanning logs or the database see what an attestation is
 * about; the random suffix makes ids unique. Ids are opaque to the store (never parsed).
 */
import { randomFillSync } from "node:crypto";

/** Longest readable token taken from a subject, predicate or context. */
export const ID_TOKEN_MAX = 16;
/** Length of the random suffix. 36^8 ≈ 2.8e12 possibilities; the store retries on a clash. */
export const ID_RANDOM_LENGTH = 8;

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
// Bytes >= 252 are rejected so each of the 36 characters is equally likely (252 = 7 * 36).
const UNBIASED_LIMIT = 256 - (256 % ALPHABET.length);
const UNSAFE = /[^A-Za-z0-9_.-]/g;

/**
 * Reduces a value to a short id-safe token: keeps only `[A-Za-z0-9_.-]`, cuts to
 * {@link ID_TOKEN_MAX} characters, and gives `_` when nothing is left.
 */
export function idToken(value: string | undefined): string {
  const token = (value ?? "").replace(UNSAFE, "").slice(0, ID_TOKEN_MAX);
  return token === "" ? "_" : token;
}

// Random bytes are drawn from the crypto RNG in blocks: one call per id cost ~15% of a
// bulk insert in profiling, a 4 KiB pool makes it negligible.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function nextRandomByte(): number {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++]!;
}

/** `length` characters from `[a-z0-9]`, uniformly, from the crypto RNG. */
export function randomSuffix(length: number = ID_RANDOM_LENGTH): string {
  let out = "";
  while (out.length < length) {
    const byte = nextRandomByte();
    if (byte < UNBIASED_LIMIT) out += ALPHABET[byte % ALPHABET.length];
  }
  return out;
}

/**
 * A new id `AS-<S>-<P>-<C>-<random>` from the FIRST subject, predicate and context.
 *
 * @param subject first subject of the attestation
 * @param predicate first predicate (already defaulted to `_` by the caller, if empty)
 * @param context first context (idem)
 */
export function generateId(subject: string | undefined, predicate: string | undefined, context: string | undefined): string {
  return `AS-${idToken(subject)}-${idToken(predicate)}-${idToken(context)}-${randomSuffix()}`;
}

/** Shape check of ids made by {@link generateId}. */
export const GENERATED_ID_PATTERN = /^AS-[A-Za-z0-9_.-]{1,16}-[A-Za-z0-9_.-]{1,16}-[A-Za-z0-9_.-]{1,16}-[a-z0-9]{8}$/;
