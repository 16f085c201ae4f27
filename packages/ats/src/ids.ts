/**
 * Attestation ids in QNTX's generated form: `AS-<S>-<P>-<C>-<8 random chars>`.
 *
 * The rules live in @qntx/protocol (attestation-rules.ts) so the SDK's fake host generates
 * the same ids; this module keeps the store's names for them.
 */
export {
  GENERATED_ID_PATTERN,
  ID_RANDOM_LENGTH,
  ID_TOKEN_MAX,
  generateAttestationId as generateId,
  idToken,
  randomSuffix,
} from "@qntx/protocol";
