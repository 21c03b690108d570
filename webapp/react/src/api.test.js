import { afterEach, describe, expect, it, vi } from 'vitest'
import { predict } from './api.js'

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
