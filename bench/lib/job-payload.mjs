/**
 * The `jobs-payload` case's job data, the same on both sides: a JSON payload of about
 * `bytes` bytes (a list of small records, as a real job might carry), and the handler's work on
 * it: parse it and answer a JSON result of about the same size (the records, scored).
 */

/** A JSON-able payload of about `bytes` bytes once serialised (`seq` makes each one differ). */
export function jobPayload(bytes, seq = 0) {
  const items = [];
  let size = 30;
  for (let i = 0; size < bytes; i++) {
    const item = { id: i, name: `item-${seq}-${i}`, weight: (i * 7) % 13 };
    size += JSON.stringify(item).length + 1;
    items.push(item);
  }
  return { seq, items };
}

/** The handler's answer to a parsed payload: every record with a score, about as large. */
export function jobAnswer(payload) {
  const items = payload?.items ?? [];
  return { seq: payload?.seq ?? 0, scored: items.map((it) => ({ id: it.id, name: it.name, score: it.weight * 2.5 })), n: items.length };
}
