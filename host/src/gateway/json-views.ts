/**
 * JSON views of attestations and jobs for the HTTP API and the CLI: byte fields become JSON
 * when they hold JSON (payloads and results usually do) and base64 otherwise, times stay unix
 * ms, and attestation attributes stay objects. A value no reader could render (JSON nested
 * deeper than the host accepts, stored before the limit or written by a plugin's result) is
 * shown as `{unreadable}`, so one bad row never fails a whole list.
 */
import { MAX_JSON_DEPTH, jsonDepthExceeds, type Attestation } from "@qntx/protocol";
import type { PulseJob, PulseJobDetail } from "@qntx/pulse";

/** An attestation as the HTTP API shows it. */
export function attestationView(a: Attestation): Record<string, unknown> {
  return {
    id: a.id, subjects: a.subjects, predicates: a.predicates, contexts: a.contexts, actors: a.actors,
    timestamp: a.timestamp, source: a.source, attributes: renderable(a.attributes ?? {}), createdAt: a.createdAt,
    ...(a.signature.length ? { signature: Buffer.from(a.signature).toString("base64") } : {}),
    ...(a.signerDid ? { signerDid: a.signerDid } : {}),
  };
}

/** A job (with its logs when given) as the HTTP API shows it. */
export function jobView(job: PulseJob | PulseJobDetail): Record<string, unknown> {
  const { payload, result, leaseOwner: _owner, ...rest } = job;
  return { ...rest, payload: bytesView(payload), result: result === undefined ? null : bytesView(result) };
}

/** JSON value of bytes that hold JSON, else `{ base64 }`; empty → null. */
export function bytesView(bytes: Uint8Array): unknown {
  if (bytes.length === 0) return null;
  const text = Buffer.from(bytes).toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { base64: Buffer.from(bytes).toString("base64") };
  }
  return renderable(value, bytes.length);
}

/** `value`, or a marker saying why it cannot be shown (it would overflow the serializer). */
function renderable(value: unknown, bytes?: number): unknown {
  if (!jsonDepthExceeds(value)) return value;
  return { unreadable: `JSON nested deeper than ${MAX_JSON_DEPTH} levels${bytes === undefined ? "" : ` (${bytes} bytes)`}: not shown` };
}
