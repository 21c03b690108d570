import { useEffect, useId, useRef, useState } from 'react'
import { lengthAdvice, testAccuracy } from './advice.js'
import { explain, fetchModelInfo, fetchModels } from './api.js'
import { NOTEBOOKS_URL, REPO_URL } from './config.js'
import { EXAMPLES } from './examples.js'
import Result from './Result.jsx'

const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent)

// When /api/models cannot be read: the default model alone, under no title.
const DEFAULT_ONLY = [{ name: null, title: '' }]

export default function App() {
  const [review, setReview] = useState('')
  // idle -> loading -> done (each model's answer a success or an error); the typed review is
  // never cleared by a failure.
  const [run, setRun] = useState({ status: 'idle' })
  const [model, setModel] = useState(undefined) // undefined: loading, null: unavailable
  const textareaRef = useRef(null)
  const requestRef = useRef(null)
  const modelsRef = useRef(null) // the promise of /api/models' list

  // The served models, asked once; asked again on the next submit if that failed.
  function servedModels() {
    modelsRef.current ??= fetchModels().then((models) => {
      if (!models) modelsRef.current = null
      return models ?? DEFAULT_ONLY
    })
    return modelsRef.current
  }

  useEffect(() => {
    const controller = new AbortController()
    fetchModelInfo({ signal: controller.signal }).then((info) => {
      if (!controller.signal.aborted) setModel(info)
    })
    servedModels()
    return () => {
      controller.abort()
      requestRef.current?.abort()
    }
  }, [])

  const loading = run.status === 'loading'
  const canSubmit = review.trim().length > 0 && !loading

  async function submit() {
    if (!canSubmit) return
    const controller = new AbortController()
    const { signal } = controller
    requestRef.current = controller
    const sent = review
    setRun({ status: 'loading', review: sent, answers: [] })
    const models = await servedModels()
    if (signal.aborted) return
    setRun((run) => ({ ...run, answers: models.map((model) => ({ model, status: 'loading' })) }))
    // Every model at once; each answer is shown as soon as it arrives.
    const settle = (index, answer) =>
      setRun((run) => ({ ...run, answers: run.answers.map((old, i) => (i === index ? { ...old, ...answer } : old)) }))
    await Promise.all(
      models.map(async (model, index) => {
        try {
          settle(index, { status: 'success', result: await explain(sent, { model: model.name, signal }) })
        } catch (error) {
          if (error?.name === 'AbortError') return
          settle(index, { status: 'error', message: error?.message || 'Something went wrong. Please try again.' })
        }
      }),
    )
    if (signal.aborted) return
    setRun((run) => ({ ...run, status: 'done' }))
    if (requestRef.current === controller) requestRef.current = null
  }

  function onSubmit(event) {
    event.preventDefault()
    submit()
  }

  function onKeyDown(event) {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault()
      submit()
    }
  }

  function pickExample(text) {
    setReview(text)
    textareaRef.current?.focus()
  }

  return (
    <>
      <a className="skip-link" href="#review">Skip to the review form</a>
      <Header />
      <main className="page">
        <section className="card" aria-labelledby="form-heading">
          <h2 id="form-heading">Is this review positive or negative?</h2>
          <ReviewForm
            review={review}
            onChange={setReview}
            onSubmit={onSubmit}
            onKeyDown={onKeyDown}
            canSubmit={canSubmit}
            loading={loading}
            textareaRef={textareaRef}
            maxChars={model?.limits?.max_review_chars}
            model={model}
          />
          <Result run={run} />
        </section>
        <Examples onPick={pickExample} />
      </main>
      <Footer model={model} />
    </>
  )
}

function Header() {
  return (
    <header className="site-header">
      <div className="site-header__inner">
        <h1 className="brand">
          <img src="/favicon.svg" alt="" width="28" height="28" />
          Senti-review
        </h1>
        {(NOTEBOOKS_URL || REPO_URL) && (
          <nav aria-label="Project">
            <ul className="nav-links">
              {NOTEBOOKS_URL && (
                <li>
                  <a href={NOTEBOOKS_URL}>Notebooks</a>
                </li>
              )}
              {REPO_URL && (
                <li>
                  <a href={REPO_URL}>Source code</a>
                </li>
              )}
            </ul>
          </nav>
        )}
      </div>
    </header>
  )
}

function ReviewForm({ review, onChange, onSubmit, onKeyDown, canSubmit, loading, textareaRef, maxChars, model }) {
  const adviceId = useId()
  const countId = useId()
  const length = review.length
  const tooLong = typeof maxChars === 'number' && length > maxChars

  return (
    <form onSubmit={onSubmit} aria-busy={loading}>
      <label htmlFor="review" className="field-label">
        Your movie review
      </label>
      <p id={adviceId} className="hint">
        {lengthAdvice(model)}
      </p>
      <textarea
        id="review"
        ref={textareaRef}
        value={review}
        onChange={(event) => onChange(event.target.value)}
        onKeyDown={onKeyDown}
        rows={8}
        placeholder="Write what you thought of a film you have seen…"
        aria-describedby={`${adviceId} ${countId}`}
        spellCheck="true"
      />
      <div className="form-row">
        <p id={countId} className={tooLong ? 'count count--warn' : 'count'}>
          {length.toLocaleString('en')} {length === 1 ? 'character' : 'characters'}
          {tooLong && ` (over the server's limit of ${maxChars.toLocaleString('en')})`}
        </p>
        <div className="actions">
          <span className="shortcut" aria-hidden="true">
            <kbd>{isMac ? '⌘' : 'Ctrl'}</kbd>+<kbd>Enter</kbd>
          </span>
          <button type="submit" className="primary" disabled={!canSubmit} aria-keyshortcuts="Control+Enter Meta+Enter">
            {loading ? 'Predicting…' : 'Predict'}
          </button>
        </div>
      </div>
    </form>
  )
}

function Examples({ onPick }) {
  return (
    <section className="card examples" aria-labelledby="examples-heading">
      <h2 id="examples-heading">Try an example</h2>
      <p className="hint">Each button puts a sample review in the box above; two of them are hard on purpose.</p>
      <ul className="example-list">
        {EXAMPLES.map((example) => (
          <li key={example.id}>
            <button type="button" className="example" onClick={() => onPick(example.text)}>
              <span className="example__title">{example.title}</span>
              <span className="example__preview" aria-hidden="true">
                {example.text}
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  )
}

function Footer({ model }) {
  let text
  if (model === undefined) text = 'Loading model details…'
  else if (model === null) text = 'Model details are unavailable right now.'
  else text = `Served model: ${model.name}${model.version ? ` ${model.version}` : ''}${model.kind ? ` (${model.kind})` : ''}`
  const accuracy = testAccuracy(model?.metrics)
  return (
    <footer className="site-footer">
      <p>
        {text}
        {typeof accuracy === 'number' && ` · test accuracy ${(accuracy * 100).toFixed(1)}%`}
      </p>
    </footer>
  )
}
