import { afterEach, describe, expect, it, vi } from 'vitest'
import { explain, fetchModels, predict } from './api.js'

// A fetch that never answers, but gives up when its signal is aborted (as browsers do).
function hangingFetch() {
  return vi.fn(
    (url, { signal }) =>
      new Promise((resolve, reject) => {
        signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')))
      }),
  )
}

describe('predict', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('gives up with a clear message when the server does not answer in time', async () => {
    vi.stubGlobal('fetch', hangingFetch())
    await expect(predict('a review', { timeoutMs: 20 })).rejects.toThrow(/took longer than/)
  })

  it('still reports a caller abort as an AbortError, not as a time-out', async () => {
    vi.stubGlobal('fetch', hangingFetch())
    const controller = new AbortController()
    const pending = predict('a review', { signal: controller.signal, timeoutMs: 10000 })
    controller.abort()
    await expect(pending).rejects.toHaveProperty('name', 'AbortError')
  })
})

function json(body, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

const PREDICTION = { sentiment: 'positive', score: 0.9, label: 1, model: { name: 'lstm', version: '1' } }

describe('explain', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('posts the review and the model to /api/explain and gives the spans', async () => {
    const spans = [{ start: 0, end: 5, weight: 1.5 }]
    const fetchMock = vi.fn(async () => json({ ...PREDICTION, spans, method: 'occlusion' }))
    vi.stubGlobal('fetch', fetchMock)

    const result = await explain('Great film', { model: 'lstm' })

    expect(result).toMatchObject({ sentiment: 'positive', score: 0.9, spans })
    const [[url, init]] = fetchMock.mock.calls
    expect(url).toBe('/api/explain')
    expect(JSON.parse(init.body)).toEqual({ review: 'Great film', model: 'lstm' })
  })

  it('asks the default model when none is named', async () => {
    const fetchMock = vi.fn(async () => json({ ...PREDICTION, spans: [], method: 'm' }))
    vi.stubGlobal('fetch', fetchMock)

    await explain('Great film', { model: null })

    expect(JSON.parse(fetchMock.mock.calls[0][1].body)).toEqual({ review: 'Great film' })
  })

  it('falls back to /api/predict, without spans, when the model cannot explain (501)', async () => {
    const fetchMock = vi.fn(async (url) =>
      url === '/api/explain' ? json({ error: "model 'bert' cannot explain its predictions" }, 501) : json(PREDICTION),
    )
    vi.stubGlobal('fetch', fetchMock)

    const result = await explain('Great film', { model: 'bert' })

    expect(result).toMatchObject({ sentiment: 'positive', spans: null })
    expect(fetchMock.mock.calls.map(([url]) => url)).toEqual(['/api/explain', '/api/predict'])
    expect(JSON.parse(fetchMock.mock.calls[1][1].body)).toEqual({ review: 'Great film', model: 'bert' })
  })

  it("gives other errors with the server's message and status", async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json({ error: "unknown model 'x'" }, 400)))
    await expect(explain('Great film', { model: 'x' })).rejects.toMatchObject({ message: "unknown model 'x'", status: 400 })
  })

  it('rejects an answer without a verdict', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('positive', { headers: { 'Content-Type': 'text/plain' } })))
    await expect(explain('Great film')).rejects.toThrow(/does not understand/)
  })
})

describe('fetchModels', () => {
  afterEach(() => vi.unstubAllGlobals())

  it('gives the served models, the default first', async () => {
    const models = [
      { name: 'lstm', title: 'LSTM trained from scratch', default: true },
      { name: 'bert', title: 'fine-tuned transformer', default: false },
    ]
    vi.stubGlobal('fetch', vi.fn(async () => json({ default: 'lstm', models })))
    await expect(fetchModels()).resolves.toEqual(models)
  })

  it.each([
    ['an HTTP error', () => json({ error: 'not found' }, 404)],
    ['an empty list', () => json({ default: 'x', models: [] })],
    ['an answer of another shape', () => json({ name: 'lstm' })],
    ['a network failure', () => Promise.reject(new TypeError('Failed to fetch'))],
  ])('gives null on %s', async (_name, answer) => {
    vi.stubGlobal('fetch', vi.fn(answer))
    await expect(fetchModels()).resolves.toBeNull()
  })
})
