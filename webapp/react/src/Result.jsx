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
        <span className="prediction__icon" aria-hidden="true">
          {positive ? '👍' : '👎'}
        </span>
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
