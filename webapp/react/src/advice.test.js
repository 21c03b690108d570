import { describe, expect, it } from 'vitest'
import { lengthAdvice, shortAccuracy } from './advice.js'

const sets = (a, b) => ({ 'short_reviews.tsv': { n: 240, accuracy: a }, 'short_own.tsv': { n: 360, accuracy: b } })

describe('shortAccuracy', () => {
  it('pools the sets by their sizes', () => {
    const got = shortAccuracy({ short_sets: sets(0.9, 0.8) })
    expect(got.n).toBe(600)
    expect(got.accuracy).toBeCloseTo((240 * 0.9 + 360 * 0.8) / 600)
  })

  it('pools only the usable sets', () => {
    const got = shortAccuracy({ short_sets: { a: { n: 100, accuracy: 0.9 }, b: { n: 50, accuracy: 85 }, c: { n: -1, accuracy: 0.5 }, d: null } })
    expect(got).toEqual({ n: 100, accuracy: 0.9 })
  })

  it('is null without usable sets', () => {
    expect(shortAccuracy(undefined)).toBeNull()
    expect(shortAccuracy({ short_sets: { x: { n: 0, accuracy: 1 }, y: { n: 3 } } })).toBeNull()
  })
})

describe('lengthAdvice', () => {
  it('says both lengths work when short reviews score close to IMDb', () => {
    expect(lengthAdvice({ metrics: { accuracy: 0.925, short_sets: sets(0.93, 0.9) } })).toBe(
      "Short or long, both work: the default model reads 91.2% of 600 one-line reviews written for this project right, and 92.5% of IMDb's test reviews.",
    )
  })

  it('says longer reviews work best when short ones score well below IMDb', () => {
    expect(lengthAdvice({ metrics: { test: { accuracy: 0.92 }, short_sets: sets(0.8, 0.8) } })).toMatch(
      /^Longer reviews work best: the default model reads 80\.0% of 600 one-line reviews written for this project right, and 92\.0%/,
    )
  })

  it('says longer reviews work best from exactly 3 points below', () => {
    const at = (short) => lengthAdvice({ metrics: { accuracy: 0.92, short_sets: { s: { n: 100, accuracy: short } } } })
    expect(at(0.89)).toMatch(/^Longer reviews work best/)
    expect(at(0.891)).toMatch(/^Short or long, both work/)
  })

  it('claims nothing when the figures are missing or not shares', () => {
    for (const model of [undefined, null, { metrics: { accuracy: 0.9 } }, { metrics: { short_sets: sets(0.9, 0.9) } }, { metrics: { accuracy: 92.6, short_sets: sets(0.9, 0.9) } }]) {
      expect(lengthAdvice(model)).not.toMatch(/%/)
    }
  })
})
