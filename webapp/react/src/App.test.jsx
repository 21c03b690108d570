import { render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import pkg from '../package.json'
import App from './App.jsx'
import { EXAMPLES } from './examples.js'

const MODEL = { name: 'tiny-lstm', version: '1.2.0', kind: 'lstm', metrics: { accuracy: 0.875 } }
const REVIEW = 'A warm, funny film with a cast that clearly loved making it.'

function json(body, status = 200) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

// fetch stub: /api/model answers MODEL; /predict answers with whatever the test passes.
function mockApi(predictAnswer) {
  const fetchMock = vi.fn(async (url) => {
    if (url === '/api/model') return json(MODEL)
    if (url === '/predict') return typeof predictAnswer === 'function' ? predictAnswer() : predictAnswer
    return json({ error: 'not found' }, 404)
  })
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}

function predictCalls(fetchMock) {
  return fetchMock.mock.calls.filter(([url]) => url === '/predict')
}

function setup() {
  const user = userEvent.setup()
  render(<App />)
  return { user, textbox: screen.getByLabelText('Your movie review'), button: screen.getByRole('button', { name: 'Predict' }) }
}

describe('App', () => {
  beforeEach(() => vi.unstubAllGlobals())

  it('shows a positive prediction with its confidence', async () => {
    const fetchMock = mockApi(() => json({ sentiment: 'positive', score: 0.912, model: { name: 'tiny-lstm', version: '1.2.0' } }))
    const { user, textbox, button } = setup()

    await user.type(textbox, REVIEW)
    await user.click(button)

    const region = screen.getByRole('status')
    expect(region).toHaveAttribute('aria-live', 'polite')
    expect(await within(region).findByText('Positive')).toBeInTheDocument()
    expect(within(region).getByText('Confidence 91%')).toBeInTheDocument()
    const [[, init]] = predictCalls(fetchMock)
    expect(init.method).toBe('POST')
    expect(JSON.parse(init.body)).toEqual({ review: REVIEW })
  })

  it('shows the confidence of a negative label as 1 - score', async () => {
    mockApi(() => json({ sentiment: 'negative', score: 0.2, model: MODEL }))
    const { user, textbox } = setup()

    await user.type(textbox, 'Dull.')
    await user.click(screen.getByRole('button', { name: 'Predict' }))

    expect(await screen.findByText('Negative')).toBeInTheDocument()
    expect(screen.getByText('Confidence 80%')).toBeInTheDocument()
  })

  it("shows the server's error message and keeps the text", async () => {
    mockApi(() => json({ error: 'The review is too long (limit 10000 characters).' }, 413))
    const { user, textbox, button } = setup()

    await user.type(textbox, REVIEW)
    await user.click(button)

    expect(await screen.findByText('The review is too long (limit 10000 characters).')).toBeInTheDocument()
    expect(textbox).toHaveValue(REVIEW)
    expect(button).toBeEnabled()
  })

  it('falls back to a clear message on a 5xx without JSON', async () => {
    mockApi(() => new Response('<h1>Bad gateway</h1>', { status: 502, statusText: 'Bad Gateway' }))
    const { user, textbox, button } = setup()

    await user.type(textbox, REVIEW)
    await user.click(button)

    expect(await screen.findByText(/could not score this review \(HTTP 502 Bad Gateway\)/)).toBeInTheDocument()
    expect(textbox).toHaveValue(REVIEW)
  })

  it('explains a network failure', async () => {
    mockApi(() => Promise.reject(new TypeError('Failed to fetch')))
    const { user, textbox, button } = setup()

    await user.type(textbox, REVIEW)
    await user.click(button)

    expect(await screen.findByText(/Could not reach the server/)).toBeInTheDocument()
    expect(textbox).toHaveValue(REVIEW)
  })

  it('shows a loading state and blocks a second request while waiting', async () => {
    let answer
    const fetchMock = mockApi(() => new Promise((resolve) => (answer = resolve)))
    const { user, textbox, button } = setup()

    await user.type(textbox, REVIEW)
    await user.click(button)

    expect(await screen.findByText('Reading your review…')).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Predicting…' })).toBeDisabled()
    expect(screen.getByRole('status')).toHaveAttribute('aria-busy', 'true')
    await user.keyboard('{Control>}{Enter}{/Control}')
    expect(predictCalls(fetchMock)).toHaveLength(1)

    answer(json({ sentiment: 'negative', score: 0.05, model: MODEL }))
    expect(await screen.findByText('Negative')).toBeInTheDocument()
    expect(screen.queryByText('Reading your review…')).not.toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Predict' })).toBeEnabled()
  })

  it('fills the form when an example is clicked', async () => {
    mockApi(() => json({ sentiment: 'positive', score: 0.9, model: MODEL }))
    const { user, textbox } = setup()

    await user.click(screen.getByRole('button', { name: 'Negation and sarcasm' }))

    const sarcastic = EXAMPLES.find((example) => example.id === 'sarcastic')
    expect(textbox).toHaveValue(sarcastic.text)
    expect(textbox).toHaveFocus()
    expect(screen.getByText(`${sarcastic.text.length} characters`)).toBeInTheDocument()
  })

  it('offers the four examples as keyboard-reachable buttons', async () => {
    mockApi(() => json({ sentiment: 'positive', score: 0.9, model: MODEL }))
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
    const fetchMock = mockApi(() => json({ sentiment: 'positive', score: 0.7, model: MODEL }))
    const { user, textbox } = setup()

    await user.type(textbox, REVIEW)
    await user.keyboard(keys)

    expect(await screen.findByText('Positive')).toBeInTheDocument()
    expect(predictCalls(fetchMock)).toHaveLength(1)
    expect(textbox).toHaveValue(REVIEW) // no newline added by the shortcut
  })

  it('keeps Predict disabled while the review is empty or blank', async () => {
    const fetchMock = mockApi(() => json({ sentiment: 'positive', score: 0.7, model: MODEL }))
    const { user, textbox, button } = setup()

    expect(button).toBeDisabled()
    await user.type(textbox, '   ')
    expect(button).toBeDisabled()
    await user.keyboard('{Control>}{Enter}{/Control}')
    expect(predictCalls(fetchMock)).toHaveLength(0)
  })

  it('counts characters and gives the length advice', async () => {
    mockApi(() => json({ sentiment: 'positive', score: 0.7, model: MODEL }))
    const { user, textbox } = setup()

    expect(screen.getByText(/200\+ characters/)).toBeInTheDocument()
    expect(screen.getByText('0 characters')).toBeInTheDocument()
    await user.type(textbox, 'Great')
    expect(screen.getByText(/^5 characters/)).toHaveTextContent('5 characters (195 more for a steadier answer)')
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
    mockApi(() => json({ sentiment: 'positive', score: 0.7, model: MODEL }))
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
