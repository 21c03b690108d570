// The two calls the page makes to the Flask API (docs/ARCHITECTURE.md, "Web API").

const NETWORK_ERROR = 'Could not reach the server. Check your connection and try again.'

async function readJson(response) {
  try {
    return await response.json()
  } catch {
    return null // an HTML error page from a proxy, or an empty body
  }
}

function httpError(response, body) {
  if (body && typeof body.error === 'string' && body.error.trim()) return new Error(body.error)
  const status = `${response.status} ${response.statusText || ''}`.trim()
  return new Error(`The server could not score this review (HTTP ${status}). Please try again.`)
}

/** How long the page waits for /predict before it says so (the server itself gives up at 30 s). */
export const PREDICT_TIMEOUT_MS = 20000

/** POST /predict {review} -> {sentiment: "positive"|"negative", score: P(positive), model}. */
export async function predict(review, { signal, timeoutMs = PREDICT_TIMEOUT_MS } = {}) {
  // One controller for both reasons to stop: the caller's signal and our own time limit.
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, timeoutMs)
  const forward = () => controller.abort()
  if (signal?.aborted) controller.abort()
  signal?.addEventListener('abort', forward)
  let response
  try {
    response = await fetch('/predict', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ review }),
      signal: controller.signal,
    })
  } catch (error) {
    if (timedOut) {
      throw new Error(`The server took longer than ${Math.round(timeoutMs / 1000)} s to answer. Please try again.`)
    }
    if (error?.name === 'AbortError') throw error
    throw new Error(NETWORK_ERROR)
  } finally {
    clearTimeout(timer)
    signal?.removeEventListener('abort', forward)
  }
  const body = await readJson(response)
  if (!response.ok) throw httpError(response, body)
  const valid =
    body &&
    (body.sentiment === 'positive' || body.sentiment === 'negative') &&
    typeof body.score === 'number' &&
    Number.isFinite(body.score)
  if (!valid) throw new Error('The server sent an answer this page does not understand.')
  return body
}

/** GET /api/model -> {name, version, kind, metrics}; null when it cannot be read. */
export async function fetchModelInfo({ signal } = {}) {
  try {
    const response = await fetch('/api/model', { headers: { Accept: 'application/json' }, signal })
    if (!response.ok) return null
    const body = await readJson(response)
    return body && typeof body.name === 'string' ? body : null
  } catch {
    return null
  }
}

/** How sure the model is of the label it chose: P(positive) or 1 - P(positive), in [0, 1]. */
export function confidence({ sentiment, score }) {
  const p = Math.min(1, Math.max(0, score))
  return sentiment === 'positive' ? p : 1 - p
}
