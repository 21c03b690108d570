// The spans of /api/explain count code points (Python string indices), while JavaScript
// strings count UTF-16 units: "😀" is one code point but two units. Array.from(text) splits a
// string into code points, so its indices are the server's.

/** Cut `text` at `spans` ([{start, end, ...}] in code points): the pieces in order, each
 * `{text}` or, for a span, `{text, span}`. Spans out of order, overlapping, empty or out of
 * range are skipped rather than trusted. */
export function cutBySpans(text, spans) {
  const chars = Array.from(text)
  const pieces = []
  let cursor = 0
  for (const span of spans) {
    const { start, end } = span
    const usable = Number.isInteger(start) && Number.isInteger(end) && start >= cursor && end > start && end <= chars.length
    if (!usable) continue
    if (start > cursor) pieces.push({ text: chars.slice(cursor, start).join('') })
    pieces.push({ text: chars.slice(start, end).join(''), span })
    cursor = end
  }
  if (cursor < chars.length) pieces.push({ text: chars.slice(cursor).join('') })
  return pieces
}

/** The spans worth highlighting: those that weigh at least `share` of the strongest one and at
 * least `floor` (log-odds), each with `strength` = |weight| / the strongest |weight|, in (0, 1]. */
export function strongSpans(spans, { share = 0.25, floor = 0.05 } = {}) {
  const weighted = spans.filter((span) => Number.isFinite(span?.weight) && span.weight !== 0)
  const strongest = weighted.reduce((most, span) => Math.max(most, Math.abs(span.weight)), 0)
  const threshold = Math.max(floor, share * strongest)
  return weighted
    .filter((span) => Math.abs(span.weight) >= threshold)
    .map((span) => ({ ...span, strength: Math.abs(span.weight) / strongest }))
}
