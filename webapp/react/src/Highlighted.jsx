import { cutBySpans, strongSpans } from './spans.js'

// The direction of a span is told three ways: colour, a visible sign and words for screen readers.
const DIRECTIONS = {
  positive: { sign: '+', words: 'pushes towards positive' },
  negative: { sign: '−', words: 'pushes towards negative' },
}

/** The review as sent, with the spans that weighed most in <mark>s (plain text elsewhere). */
export default function Highlighted({ text, spans }) {
  return (
    <p className="highlighted">
      {cutBySpans(text, strongSpans(spans)).map((piece, index) =>
        piece.span ? <Mark key={index} text={piece.text} span={piece.span} /> : piece.text,
      )}
    </p>
  )
}

function Mark({ text, span }) {
  const direction = span.weight > 0 ? 'positive' : 'negative'
  const { sign, words } = DIRECTIONS[direction]
  return (
    <mark className={`mark mark--${direction}`} style={{ '--strength': span.strength.toFixed(2) }}>
      <span className="mark__sign" aria-hidden="true">
        {sign}
      </span>
      {text}
      <span className="visually-hidden"> ({words})</span>
    </mark>
  )
}

/** What the signs and colours mean, shown once above the answers. */
export function Legend() {
  return (
    <p className="legend">
      Highlighted: what weighed most on each verdict.{' '}
      <span className="legend__item">
        <span className="mark mark--positive">
          <span className="mark__sign">+</span>
        </span>{' '}
        pushes towards positive,
      </span>{' '}
      <span className="legend__item">
        <span className="mark mark--negative">
          <span className="mark__sign">−</span>
        </span>{' '}
        towards negative;
      </span>{' '}
      the stronger the colour, the more it weighed.
    </p>
  )
}
