import { confidence } from './api.js'

// The live region exists from the first render so that screen readers announce what changes in it.
export default function Result({ state }) {
  return (
    <div className="result" role="status" aria-live="polite" aria-atomic="true" aria-busy={state.status === 'loading'}>
      {state.status === 'loading' && (
        <p className="result__loading">
          <span className="spinner" aria-hidden="true" />
          Reading your review…
        </p>
      )}
      {state.status === 'error' && (
        <div className="result__error">
          <p className="result__error-title">The prediction failed.</p>
          <p>{state.message}</p>
          <p className="hint">Your text is still in the box: you can try again.</p>
        </div>
      )}
      {state.status === 'success' && <Prediction result={state.result} />}
    </div>
  )
}

function Prediction({ result }) {
  const positive = result.sentiment === 'positive'
  const percent = Math.round(confidence(result) * 100)
  return (
    <div className={positive ? 'prediction prediction--positive' : 'prediction prediction--negative'}>
      <p className="prediction__label">
        <Face positive={positive} />
        <span>
          Prediction: <strong data-testid="sentiment">{positive ? 'Positive' : 'Negative'}</strong>
        </span>
      </p>
      <div className="confidence">
        <span className="confidence__text">Confidence {percent}%</span>
        <div className="confidence__bar" aria-hidden="true">
          <div className="confidence__fill" style={{ width: `${percent}%` }} />
        </div>
      </div>
    </div>
  )
}

// A drawn face rather than an emoji: emoji fonts are missing on many Linux desktops.
function Face({ positive }) {
  const mouth = positive ? 'M8 14.5q4 3.5 8 0' : 'M8 16.5q4-3.5 8 0'
  return (
    <svg className="prediction__icon" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">
      <circle cx="12" cy="12" r="10.5" fill="none" stroke="currentColor" strokeWidth="2" />
      <circle cx="8.5" cy="9.5" r="1.4" fill="currentColor" />
      <circle cx="15.5" cy="9.5" r="1.4" fill="currentColor" />
      <path d={mouth} fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
    </svg>
  )
}
