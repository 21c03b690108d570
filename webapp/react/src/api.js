// The calls the page makes to the Flask API (docs/ARCHITECTURE.md, "Web API").

const NETWORK_ERROR = 'Could not reach the server. Check your connection and try again.'

async function readJson(response) {
  try {
    return await response.json()
  } catch {
    return null // an HTML error page from a proxy, or an empty body
  }
}

function httpError(response, body) {
  const status = `${response.status} ${response.statusText || ''}`.trim()
  const hasMessage = body && typeof body.error === 'string' && body.error.trim()
  const error = new Error(
    hasMessage ? body.error : `The server could not score this review (HTTP ${status}). Please try again.`,
  )
  error.status = response.status
  return error
}

/** How long the page waits for one answer before it says so (the server itself gives up at 30 s). */
export const PREDICT_TIMEOUT_MS = 20000

/** POST `path` with a JSON body; the JSON answer, or an Error with a message for people
 * (and `status` on HTTP errors). A caller abort still rejects with an AbortError. */
async function postJson(path, payload, { signal, timeoutMs = PREDICT_TIMEOUT_MS } = {}) {
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
    response = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(payload),
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
  return body
}

function checkPrediction(body) {
  const valid =
    body &&
    (body.sentiment === 'positive' || body.sentiment === 'negative') &&
    typeof body.score === 'number' &&
    Number.isFinite(body.score)
  if (!valid) throw new Error('The server sent an answer this page does not understand.')
  return body
}

// {review, model?}: the default model when `model` is not given.
function request(review, model) {
  return model ? { review, model } : { review }
}

/** POST /api/predict {review, model?} -> {sentiment: "positive"|"negative", score: P(positive), label, model}. */
export async function predict(review, { model, ...options } = {}) {
  return checkPrediction(await postJson('/api/predict', request(review, model), options))
}

/** POST /api/explain {review, model?} -> the prediction plus `spans` ([{start, end, weight}],
 * offsets in code points) and `method`. A model that cannot explain (501) still gets its
 * prediction from /api/predict, with `spans: null`. */
export async function explain(review, { model, ...options } = {}) {
  try {
    const body = checkPrediction(await postJson('/api/explain', request(review, model), options))
    return { ...body, spans: Array.isArray(body.spans) ? body.spans : null }
  } catch (error) {
    if (error?.status !== 501) throw error
  }
  return { ...(await predict(review, { model, ...options })), spans: null }
}

/** GET /api/models -> [{name, title, kind, version, metrics, ...}], the default first; null
 * when the list cannot be read. */
export async function fetchModels({ signal } = {}) {
  try {
    const response = await fetch('/api/models', { headers: { Accept: 'application/json' }, signal })
    if (!response.ok) return null
    const body = await readJson(response)
    const models = Array.isArray(body?.models) ? body.models.filter((m) => typeof m?.name === 'string') : []
    return models.length > 0 ? models : null
  } catch {
    return null
  }
}

/** GET /api/model -> {name, version, kind, metrics, limits}; null when it cannot be read. */
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
