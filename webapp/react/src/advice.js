// What the page says about review length: taken from the served model's own measurements
// (its metrics.json, through /api/model), so it stays true when the model changes.

// A short-review score this far below the IMDb one (or more) makes the page say longer reviews
// work best.
export const SHORT_GAP = 0.03

const isShare = (x) => typeof x === 'number' && x >= 0 && x <= 1

const percent = (x) => `${(100 * x).toFixed(1)}%`

// IMDb test accuracy from an artifact's metrics (flat, or under "test"), or null.
export function testAccuracy(metrics) {
  const value = metrics?.accuracy ?? metrics?.test?.accuracy
  return isShare(value) ? value : null
}

// All the short test sets together: { n, accuracy }, or null when the model has none.
export function shortAccuracy(metrics) {
  const sets = Object.values(metrics?.short_sets ?? {}).filter(
    (s) => s && Number.isInteger(s.n) && s.n > 0 && isShare(s.accuracy),
  )
  const n = sets.reduce((sum, s) => sum + s.n, 0)
  if (n === 0) return null
  return { n, accuracy: sets.reduce((sum, s) => sum + s.n * s.accuracy, 0) / n }
}

// The hint above the text box, from the default model's figures (the first answer shown).
export function lengthAdvice(model) {
  const long = testAccuracy(model?.metrics)
  const short = shortAccuracy(model?.metrics)
  if (long === null || short === null) return 'Write a line or a whole review, in English.'
  const figures = `${percent(short.accuracy)} of ${short.n.toLocaleString('en')} one-line reviews written for this project right, and ${percent(long)} of IMDb's test reviews`
  if (short.accuracy > long - SHORT_GAP + 1e-9) return `Short or long, both work: the default model reads ${figures}.`
  return `Longer reviews work best: the default model reads ${figures}.`
}
