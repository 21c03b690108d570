import { confidence } from './api.js'
import Highlighted, { Legend } from './Highlighted.jsx'

/** The answers of every served model, side by side.
 *
 * `run`: {status: 'idle' | 'loading' | 'done', review (as sent), answers: [{model, status:
 * 'loading' | 'success' | 'error', result?, message?}]}. The live region exists from the first
 * render so that screen readers announce what changes in it; it holds a short summary, while
 * the answers themselves (with the highlighted review) are not read out unasked. */
export default function Result({ run }) {
  const { answers = [] } = run
  const explained = answers.some((answer) => answer.result?.spans)
  const failed = answers.some((answer) => answer.status === 'error')
  return (
    <div className="result">
      <p className="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
        {announcement(run)}
      </p>
      {explained && <Legend />}
      {answers.length > 0 && (
        <div className="answers" aria-busy={run.status === 'loading'}>
          {answers.map((answer, index) => (
            <Answer key={answer.model.name ?? index} answer={answer} review={run.review} />
          ))}
        </div>
      )}
      {failed && run.status === 'done' && <p className="hint">Your text is still in the box: you can try again.</p>}
    </div>
  )
}

function announcement(run) {
  if (run.status === 'loading') return 'Reading your review…'
  if (run.status !== 'done') return ''
  return run.answers
    .map(({ model, status, result, message }) => {
      const said = status === 'success' ? `${verdict(result)}, confidence ${percent(result)}%` : `the prediction failed: ${message}`
      return model.title ? `${model.title}: ${said}.` : `${said[0].toUpperCase()}${said.slice(1)}.`
    })
    .join(' ')
}

const verdict = (result) => (result.sentiment === 'positive' ? 'Positive' : 'Negative')
const percent = (result) => Math.round(confidence(result) * 100)

function Answer({ answer, review }) {
  const { model, status, result, message } = answer
  const tone = status === 'success' ? `prediction--${result.sentiment}` : 'prediction--neutral'
  return (
    <article className={`prediction ${tone}`} aria-label={model.title || undefined}>
      {model.title && <ModelTitle model={model} />}
      {status === 'loading' && (
        <p className="result__loading">
          <span className="spinner" aria-hidden="true" />
          Reading your review…
        </p>
      )}
      {status === 'error' && (
        <div className="result__error">
          <p className="result__error-title">The prediction failed.</p>
          <p>{message}</p>
        </div>
      )}
      {status === 'success' && <Prediction result={result} review={review} />}
    </article>
  )
}

function ModelTitle({ model }) {
  const accuracy = model.metrics?.accuracy
  return (
    <div className="prediction__model">
      <h3>{model.title}</h3>
      {typeof accuracy === 'number' && (
        <p className="prediction__metric">
          {model.metrics.split || 'test'} accuracy {(accuracy * 100).toFixed(1)}%
        </p>
      )}
    </div>
  )
}

function Prediction({ result, review }) {
  const positive = result.sentiment === 'positive'
  return (
    <>
      <p className="prediction__label">
        <Face positive={positive} />
        <span>
          Prediction: <strong data-testid="sentiment">{verdict(result)}</strong>
        </span>
      </p>
      <div className="confidence">
        <span className="confidence__text">Confidence {percent(result)}%</span>
        <div className="confidence__bar" aria-hidden="true">
          <div className="confidence__fill" style={{ width: `${percent(result)}%` }} />
        </div>
      </div>
      {result.spans ? (
        <Highlighted text={review} spans={result.spans} />
      ) : (
        <p className="hint prediction__note">This model cannot show which words mattered.</p>
      )}
    </>
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
