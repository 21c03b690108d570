import { describe, expect, it } from 'vitest'
import { cutBySpans, strongSpans } from './spans.js'

const texts = (pieces) => pieces.map((piece) => (piece.span ? `[${piece.text}]` : piece.text)).join('')

describe('cutBySpans', () => {
  it('cuts the text at the spans, plain text kept between and around them', () => {
    const spans = [
      { start: 2, end: 11, weight: 1.1 },
      { start: 25, end: 30, weight: -2.1 },
    ]
    const pieces = cutBySpans('A wonderful cast, but an awful script.', spans)
    expect(texts(pieces)).toBe('A [wonderful] cast, but an [awful] script.')
    expect(pieces[1].span).toBe(spans[0])
    expect(pieces[0]).toEqual({ text: 'A ' })
  })

  it('counts code points, as the server does: an emoji before a span is one character', () => {
    // "😀" is two UTF-16 units in JavaScript but one code point (one Python index).
    const text = '😀 Great fun 👍🏽, truly.'
    const pieces = cutBySpans(text, [
      { start: 2, end: 7, weight: 1 },
      { start: 12, end: 14, weight: 0.5 }, // "👍🏽": a thumb and a skin-tone modifier
    ])
    expect(texts(pieces)).toBe('😀 [Great] fun [👍🏽], truly.')
    expect(pieces.map((piece) => piece.text).join('')).toBe(text)
  })

  it('gives the whole text as one piece without spans, and nothing for an empty text', () => {
    expect(cutBySpans('No spans here.', [])).toEqual([{ text: 'No spans here.' }])
    expect(cutBySpans('', [])).toEqual([])
  })

  it('handles spans at both ends and side by side', () => {
    const pieces = cutBySpans('abcdef', [
      { start: 0, end: 2, weight: 1 },
      { start: 2, end: 4, weight: -1 },
      { start: 4, end: 6, weight: 1 },
    ])
    expect(texts(pieces)).toBe('[ab][cd][ef]')
  })

  it('skips spans that overlap, go backwards, are empty or run past the text', () => {
    const pieces = cutBySpans('one two three', [
      { start: 4, end: 7, weight: 1 },
      { start: 5, end: 9, weight: 1 }, // overlaps the previous one
      { start: 0, end: 3, weight: 1 }, // before the previous one
      { start: 8, end: 8, weight: 1 }, // empty
      { start: 8, end: 99, weight: 1 }, // past the end
      { start: 8.5, end: 10, weight: 1 }, // not an index
      { start: 8, end: 13, weight: 1 },
    ])
    expect(texts(pieces)).toBe('one [two] [three]')
  })
})

describe('strongSpans', () => {
  it('keeps the spans that weigh at least a quarter of the strongest, with their strength', () => {
    const spans = [
      { start: 0, end: 1, weight: 0.04 },
      { start: 2, end: 11, weight: 1 },
      { start: 22, end: 24, weight: -0.11 },
      { start: 25, end: 30, weight: -2 },
      { start: 31, end: 37, weight: -0.5 },
    ]
    expect(strongSpans(spans)).toEqual([
      { start: 2, end: 11, weight: 1, strength: 0.5 },
      { start: 25, end: 30, weight: -2, strength: 1 },
      { start: 31, end: 37, weight: -0.5, strength: 0.25 },
    ])
  })

  it('highlights nothing when every weight is negligible, zero or not a number', () => {
    expect(strongSpans([{ start: 0, end: 1, weight: 0.01 }])).toEqual([])
    expect(strongSpans([{ start: 0, end: 1, weight: 0 }, { start: 2, end: 3, weight: null }])).toEqual([])
    expect(strongSpans([])).toEqual([])
  })
})
