import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import pkg from '../package.json'
import App from './App.jsx'
import { EXAMPLES } from './examples.js'

const MODEL = { name: 'tiny-lstm', version: '1.2.0', kind: 'lstm', metrics: { accuracy: 0.875 } }
const LSTM = {
  name: 'tiny-lstm',
  title: 'LSTM trained from scratch',
  kind: 'lstm',
  version: '1.2.0',
  default: true,
  metrics: { accuracy: 0.875, split: 'test' },
}
const BERT = { name: 'tiny-bert', title: 'fine-tuned transformer', kind: 'transformer', version: '0.1', default: false, metrics: {} }
const REVIEW = 'A warm, funny film with a cast that clearly loved making it.'

function json(body, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

// What /api/explain answers: a prediction, its spans and how they were found.
function explained(sentiment, score, spans = []) {
  return json({ sentiment, score, label: sentiment === 'positive' ? 1 : 0, model: { name: 'tiny-lstm', version: '1.2.0' }, spans, method: 'test' })
}

// fetch stub: /api/model answers MODEL, /api/models the given list (or a Response of the test's);
// /api/explain and /api/predict answer whatever the test's functions give for the request body.
function mockApi({ models = [LSTM], explain, predict } = {}) {
  const fetchMock = vi.fn(async (url, init) => {
    const body = init?.body ? JSON.parse(init.body) : undefined
    if (url === '/api/model') return json(MODEL)
    if (url === '/api/models') return Array.isArray(models) ? json({ default: models[0].name, models }) : models()
    if (url === '/api/explain' && explain) return explain(body)
    if (url === '/api/predict' && predict) return predict(body)
    return json({ error: 'not found' }, 404)
  })
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}

function calls(fetchMock, path) {
  return fetchMock.mock.calls.filter(([url]) => url === path).map(([, init]) => JSON.parse(init.body))
}

// A promise with its resolve function, to answer a request when the test chooses.
function deferred() {
  let resolve
  const promise = new Promise((r) => (resolve = r))
  return { promise, resolve }
}

// The review as the page shows it, without the signs and the words for screen readers.
function visibleText(element) {
  const copy = element.cloneNode(true)
  copy.querySelectorAll('[aria-hidden="true"], .visually-hidden').forEach((node) => node.remove())
  return copy.textContent
}

// The words a <mark> highlights (its own text, not its sign or its screen-reader words).
function markedWords(mark) {
  return [...mark.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE).map((node) => node.textContent).join('')
}

function setup() {
  const user = userEvent.setup()
  render(<App />)
  return { user, textbox: screen.getByLabelText('Your movie review'), button: screen.getByRole('button', { name: 'Predict' }) }
}

describe('App', () => {
  beforeEach(() => vi.unstubAllGlobals())

  it('shows a positive prediction with its model, its confidence and a summary for screen readers', async () => {
    const fetchMock = mockApi({ explain: () => explained('positive', 0.912) })
    const { user, textbox, button } = setup()

    await user.type(textbox, REVIEW)
    await user.click(button)

    const answer = await screen.findByRole('article', { name: 'LSTM trained from scratch' })
    expect(await within(answer).findByTestId('sentiment')).toHaveTextContent('Positive')
    expect(within(answer).getByText('Confidence 91%')).toBeInTheDocument()
    expect(within(answer).getByText('test accuracy 87.5%')).toBeInTheDocument()
    const region = screen.getByRole('status')
    expect(region).toHaveAttribute('aria-live', 'polite')
    expect(region).toHaveTextContent('LSTM trained from scratch: Positive, confidence 91%.')
    expect(calls(fetchMock, '/api/explain')).toEqual([{ review: REVIEW, model: 'tiny-lstm' }])
    expect(fetchMock.mock.calls.map(([url]) => url)).not.toContain('/predict')
  })

  it('shows the confidence of a negative label as 1 - score', async () => {
    mockApi({ explain: () => explained('negative', 0.2) })
    const { user, textbox } = setup()

    await user.type(textbox, 'Dull.')
    await user.click(screen.getByRole('button', { name: 'Predict' }))

    expect(await screen.findByTestId('sentiment')).toHaveTextContent('Negative')
    expect(screen.getByText('Confidence 80%')).toBeInTheDocument()
  })

  it('asks every served model at once and shows their answers side by side, each as it arrives', async () => {
    const answers = { 'tiny-lstm': deferred(), 'tiny-bert': deferred() }
    const fetchMock = mockApi({ models: [LSTM, BERT], explain: (body) => answers[body.model].promise })
    const { user, textbox, button } = setup()

    await user.type(textbox, REVIEW)
    await user.click(button)

    // Both requests leave before either answers.
    await waitFor(() => expect(calls(fetchMock, '/api/explain')).toHaveLength(2))
    expect(calls(fetchMock, '/api/explain')).toEqual([
      { review: REVIEW, model: 'tiny-lstm' },
      { review: REVIEW, model: 'tiny-bert' },
    ])
    answers['tiny-bert'].resolve(explained('negative', 0.3))
    const bert = await screen.findByRole('article', { name: 'fine-tuned transformer' })
    expect(await within(bert).findByTestId('sentiment')).toHaveTextContent('Negative')
    const lstm = screen.getByRole('article', { name: 'LSTM trained from scratch' })
    expect(within(lstm).getByText('Reading your review…')).toBeInTheDocument()
    expect(screen.getByRole('status')).toHaveTextContent('Reading your review…')

    answers['tiny-lstm'].resolve(explained('positive', 0.9))
    expect(await within(lstm).findByTestId('sentiment')).toHaveTextContent('Positive')
    expect(within(lstm).getByText('Confidence 90%')).toBeInTheDocument()
    expect(within(bert).getByText('Confidence 70%')).toBeInTheDocument()
    expect(screen.getAllByTestId('sentiment').map((verdict) => verdict.textContent)).toEqual(['Positive', 'Negative'])
    await waitFor(() =>
      expect(screen.getByRole('status')).toHaveTextContent(
        'LSTM trained from scratch: Positive, confidence 90%. fine-tuned transformer: Negative, confidence 70%.',
      ),
    )
  })

  it('highlights the spans that mattered at the right characters, after an emoji too', async () => {
    // Offsets in code points, as the server counts: "😀" is one (two UTF-16 units).
    const review = '😀 A wonderful cast, but an awful script.'
    const spans = [
      { start: 2, end: 3, weight: 0.04 }, // "A": too light to highlight
      { start: 4, end: 13, weight: 1.111 }, // "wonderful"
      { start: 14, end: 18, weight: -0.04 },
      { start: 27, end: 32, weight: -2.087 }, // "awful"
      { start: 33, end: 39, weight: -0.785 }, // "script"
    ]
    mockApi({ explain: () => explained('negative', 0.16, spans) })
    const { user, textbox, button } = setup()

    await user.type(textbox, review)
    await user.click(button)

    const answer = await screen.findByRole('article', { name: 'LSTM trained from scratch' })
    const marks = await within(answer).findAllByText((_, element) => element.tagName === 'MARK')
    expect(marks.map(markedWords)).toEqual(['wonderful', 'awful', 'script'])
    expect(visibleText(marks[0].parentElement)).toBe(review)
    // The direction is told by more than colour: a sign, and words for screen readers.
    expect(within(marks[0]).getByText('(pushes towards positive)')).toHaveClass('visually-hidden')
    expect(within(marks[1]).getByText('(pushes towards negative)')).toHaveClass('visually-hidden')
    expect(within(marks[0]).getByText('+')).toHaveAttribute('aria-hidden', 'true')
    expect(within(marks[1]).getByText('−')).toHaveAttribute('aria-hidden', 'true')
    // The strongest span is the most intense.
    expect(marks[1].style.getPropertyValue('--strength')).toBe('1.00')
    expect(marks[0].style.getPropertyValue('--strength')).toBe('0.53')
    expect(screen.getByText(/what weighed most on each verdict/)).toBeInTheDocument()
  })

  it('highlights the review as sent, not as edited since', async () => {
    mockApi({ explain: () => explained('positive', 0.9, [{ start: 0, end: 5, weight: 2 }]) })
    const { user, textbox, button } = setup()

    await user.type(textbox, 'Great film.')
    await user.click(button)
    const mark = (await screen.findAllByText((_, element) => element.tagName === 'MARK'))[0]
    await user.type(textbox, ' Or not.')

    expect(markedWords(mark)).toBe('Great')
    expect(visibleText(mark.parentElement)).toBe('Great film.')
  })

  it('falls back to /api/predict, without highlights, for a model that cannot explain (501)', async () => {
    const fetchMock = mockApi({
      models: [LSTM, BERT],
      explain: (body) =>
        body.model === 'tiny-bert'
          ? json({ error: "model 'tiny-bert' cannot explain its predictions" }, 501)
          : explained('positive', 0.8, [{ start: 2, end: 6, weight: 1 }]),
      predict: () => json({ sentiment: 'negative', score: 0.25, label: 0, model: { name: 'tiny-bert', version: '0.1' } }),
    })
    const { user, textbox, button } = setup()

    await user.type(textbox, REVIEW)
    await user.click(button)

    const bert = await screen.findByRole('article', { name: 'fine-tuned transformer' })
    expect(await within(bert).findByTestId('sentiment')).toHaveTextContent('Negative')
    expect(within(bert).getByText('Confidence 75%')).toBeInTheDocument()
    expect(within(bert).getByText('This model cannot show which words mattered.')).toBeInTheDocument()
    expect(bert.querySelector('mark')).toBeNull()
    expect(calls(fetchMock, '/api/predict')).toEqual([{ review: REVIEW, model: 'tiny-bert' }])
    const lstm = screen.getByRole('article', { name: 'LSTM trained from scratch' })
    expect(await within(lstm).findByText('warm')).toBeInTheDocument()
  })

  it('predicts with the default model alone when the list of models cannot be read', async () => {
    const fetchMock = mockApi({
      models: () => json({ error: 'not found' }, 404),
      explain: () => explained('positive', 0.7),
    })
    const { user, textbox, button } = setup()

    await user.type(textbox, REVIEW)
    await user.click(button)

    expect(await screen.findByTestId('sentiment')).toHaveTextContent('Positive')
    expect(screen.getAllByTestId('sentiment')).toHaveLength(1)
    expect(screen.queryByRole('heading', { level: 3 })).not.toBeInTheDocument()
    expect(calls(fetchMock, '/api/explain')).toEqual([{ review: REVIEW }])
    await waitFor(() => expect(screen.getByRole('status')).toHaveTextContent('Positive, confidence 70%.'))
  })

  it("shows each model's own error and keeps the text", async () => {
    mockApi({
      models: [LSTM, BERT],
      explain: (body) =>
        body.model === 'tiny-bert'
          ? json({ error: 'the prediction took too long; try fewer or shorter reviews' }, 503)
          : explained('positive', 0.9),
    })
    const { user, textbox, button } = setup()

    await user.type(textbox, REVIEW)
    await user.click(button)

    const bert = await screen.findByRole('article', { name: 'fine-tuned transformer' })
    expect(await within(bert).findByText('the prediction took too long; try fewer or shorter reviews')).toBeInTheDocument()
    expect(within(bert).getByText('The prediction failed.')).toBeInTheDocument()
    const lstm = screen.getByRole('article', { name: 'LSTM trained from scratch' })
    expect(within(lstm).getByTestId('sentiment')).toHaveTextContent('Positive')
    expect(await screen.findByText('Your text is still in the box: you can try again.')).toBeInTheDocument()
    expect(screen.getByRole('status')).toHaveTextContent(
      'fine-tuned transformer: the prediction failed: the prediction took too long; try fewer or shorter reviews.',
    )
    expect(textbox).toHaveValue(REVIEW)
    expect(button).toBeEnabled()
  })

  it("shows the server's error message and keeps the text", async () => {
    mockApi({ explain: () => json({ error: 'The review is too long (limit 10000 characters).' }, 413) })
    const { user, textbox, button } = setup()

    await user.type(textbox, REVIEW)
    await user.click(button)

    expect(await screen.findByText('The review is too long (limit 10000 characters).')).toBeInTheDocument()
    expect(textbox).toHaveValue(REVIEW)
    expect(button).toBeEnabled()
  })

  it('falls back to a clear message on a 5xx without JSON', async () => {
    mockApi({ explain: () => new Response('<h1>Bad gateway</h1>', { status: 502, statusText: 'Bad Gateway' }) })
    const { user, textbox, button } = setup()

    await user.type(textbox, REVIEW)
    await user.click(button)

    expect(await screen.findByText(/^The server could not score this review \(HTTP 502 Bad Gateway\)/)).toBeInTheDocument()
    expect(textbox).toHaveValue(REVIEW)
  })

  it('explains a network failure', async () => {
    mockApi({ explain: () => Promise.reject(new TypeError('Failed to fetch')) })
    const { user, textbox, button } = setup()

    await user.type(textbox, REVIEW)
    await user.click(button)

    expect(await screen.findByText(/^Could not reach the server/)).toBeInTheDocument()
    expect(textbox).toHaveValue(REVIEW)
  })

  it('shows a loading state and blocks a second request while waiting', async () => {
    const answer = deferred()
    const fetchMock = mockApi({ explain: () => answer.promise })
    const { user, textbox, button } = setup()

    await user.type(textbox, REVIEW)
    await user.click(button)

    const region = screen.getByRole('status')
    expect(await within(region).findByText('Reading your review…')).toBeInTheDocument()
    const card = await screen.findByRole('article', { name: 'LSTM trained from scratch' })
    expect(within(card).getByText('Reading your review…')).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Predicting…' })).toBeDisabled()
    expect(card.parentElement).toHaveAttribute('aria-busy', 'true')
    await user.keyboard('{Control>}{Enter}{/Control}')
    expect(calls(fetchMock, '/api/explain')).toHaveLength(1)

    answer.resolve(explained('negative', 0.05))
    expect(await screen.findByTestId('sentiment')).toHaveTextContent('Negative')
    expect(screen.queryByText('Reading your review…')).not.toBeInTheDocument()
    expect(card.parentElement).toHaveAttribute('aria-busy', 'false')
    expect(screen.getByRole('button', { name: 'Predict' })).toBeEnabled()
  })

  it('fills the form when an example is clicked', async () => {
    mockApi({ explain: () => explained('positive', 0.9) })
    const { user, textbox } = setup()

    await user.click(screen.getByRole('button', { name: 'Negation and sarcasm' }))

    const sarcastic = EXAMPLES.find((example) => example.id === 'sarcastic')
    expect(textbox).toHaveValue(sarcastic.text)
    expect(textbox).toHaveFocus()
    expect(screen.getByText(`${sarcastic.text.length} characters`)).toBeInTheDocument()
  })

  it('offers the four examples as keyboard-reachable buttons', async () => {
    mockApi({ explain: () => explained('positive', 0.9) })
    const { user, textbox } = setup()
    const examples = within(screen.getByRole('region', { name: 'Try an example' })).getAllByRole('button')
    expect(examples).toHaveLength(4)

    examples[0].focus()
    await user.keyboard('{Enter}')
    expect(textbox).toHaveValue(EXAMPLES[0].text)
  })

  it.each([
    ['Ctrl+Enter', '{Control>}{Enter}{/Control}'],
    ['Cmd+Enter', '{Meta>}{Enter}{/Meta}'],
  ])('submits with %s from the textarea', async (_name, keys) => {
    const fetchMock = mockApi({ explain: () => explained('positive', 0.7) })
    const { user, textbox } = setup()

    await user.type(textbox, REVIEW)
    await user.keyboard(keys)

    expect(await screen.findByTestId('sentiment')).toHaveTextContent('Positive')
    expect(calls(fetchMock, '/api/explain')).toHaveLength(1)
    expect(textbox).toHaveValue(REVIEW) // no newline added by the shortcut
  })

  it('keeps Predict disabled while the review is empty or blank', async () => {
    const fetchMock = mockApi({ explain: () => explained('positive', 0.7) })
    const { user, textbox, button } = setup()

    expect(button).toBeDisabled()
    await user.type(textbox, '   ')
    expect(button).toBeDisabled()
    await user.keyboard('{Control>}{Enter}{/Control}')
    expect(calls(fetchMock, '/api/explain')).toHaveLength(0)
  })

  it("counts characters and gives the served model's length advice", async () => {
    const weakOnShort = { ...MODEL, metrics: { accuracy: 0.92, short_sets: { 's.tsv': { n: 100, accuracy: 0.8 } } } }
    vi.stubGlobal('fetch', vi.fn(async () => json(weakOnShort)))
    const { user, textbox } = setup()

    expect(await screen.findByText(/^Longer reviews work best: the default model reads 80\.0% of 100 one-line/)).toBeInTheDocument()
    expect(screen.getByText('0 characters')).toBeInTheDocument()
    await user.type(textbox, 'Great')
    expect(screen.getByText(/^5 characters/)).toHaveTextContent(/^5 characters$/)
  })

  it('says short reviews work when the model reads them well', async () => {
    const goodOnShort = { ...MODEL, metrics: { accuracy: 0.92, short_sets: { 's.tsv': { n: 100, accuracy: 0.91 } } } }
    vi.stubGlobal('fetch', vi.fn(async () => json(goodOnShort)))
    setup()

    expect(await screen.findByText(/^Short or long, both work: the default model reads 91\.0% of 100 one-line/)).toBeInTheDocument()
  })

  it("warns when the review is over the server's limit", async () => {
    const limited = { ...MODEL, limits: { max_review_chars: 10 } }
    vi.stubGlobal('fetch', vi.fn(async () => json(limited)))
    const { user, textbox } = setup()

    await screen.findByText(/Served model/)
    await user.type(textbox, 'Far too long')
    expect(screen.getByText(/^12 characters/)).toHaveTextContent(/over the server's limit of 10\)$/)
  })

  it('shows the served model in the footer and links to the repository', async () => {
    mockApi({ explain: () => explained('positive', 0.7) })
    setup()

    expect(await screen.findByText(/Served model: tiny-lstm 1\.2\.0 \(lstm\)/)).toBeInTheDocument()
    expect(screen.getByText(/test accuracy 87\.5%/)).toBeInTheDocument()
    const repo = pkg.repository.url.replace(/^git\+/, '').replace(/\.git$/, '')
    expect(screen.getByRole('link', { name: 'Source code' })).toHaveAttribute('href', repo)
    expect(screen.getByRole('link', { name: 'Notebooks' })).toHaveAttribute('href', `${repo}/tree/HEAD/notebooks`)
  })

  it('says so when the model details cannot be loaded', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json({ error: 'down' }, 503)))
    setup()

    expect(await screen.findByText('Model details are unavailable right now.')).toBeInTheDocument()
  })
})
