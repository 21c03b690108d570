"""The page in a real browser: Debian's chromium, driven by Playwright, against the real server.

The server is the Procfile's `web` command (gunicorn with webapp/flask/gunicorn.conf.py and the
shipped model in webapp/flask/ml_model) on a free port, serving the build in webapp/react/dist.
The test saves a screenshot to tests/artifacts/screenshot.png (git-ignored); with
SENTIREVIEW_UPDATE_SCREENSHOT=1 it refreshes docs/screenshot.png, the one the README shows.
"""

import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers.server import serve, stop

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = (
    ROOT / "docs" / "screenshot.png"
    if os.environ.get("SENTIREVIEW_UPDATE_SCREENSHOT") == "1"
    else ROOT / "tests" / "artifacts" / "screenshot.png"
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

POSITIVE = (
    "An absolute joy from start to finish. The acting is superb, the story is moving and funny, "
    "and the direction is confident and beautiful. I loved every minute of this wonderful film "
    "and will recommend it to everyone I know. One of the best movies I have seen in years."
)
NEGATIVE = (
    "A dreadful, boring mess. The acting is wooden, the plot makes no sense and the dialogue is "
    "painfully bad. I wanted to walk out after twenty minutes and regret wasting my money on "
    "this awful film. One of the worst movies I have ever seen; avoid it at all costs."
)
MIXED = "An awful script, but a wonderful cast."
SERVER_ERROR = "The model is busy right now, please try again in a minute."

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The Procfile's web command as Heroku would run it, on 127.0.0.1 (port 0: gunicorn
    picks a free one and logs it)."""
    assert (ROOT / "webapp/react/dist/index.html").is_file(), (
        "the front end is not built: run bash scripts/build_frontend.sh"
    )
    log = tmp_path_factory.mktemp("server") / "server.log"
    proc, url = serve({}, log, path="/api/model")
    try:
        yield url
    finally:
        stop(proc)


@pytest.fixture
def browser_page(server: str):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            yield context.new_page()
            context.close()
        finally:
            browser.close()


def _no_horizontal_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def _contrast(page, locator) -> float:
    """WCAG contrast ratio of an element's text colour on its background, as the browser
    computes them (rgb() or color(srgb ...), as Chromium writes a color-mix())."""
    colours = locator.evaluate(
        "el => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]"
    )

    def luminance(css: str) -> float:
        numbers = [float(n) for n in re.findall(r"[\d.]+", css.split("(", 1)[1])][:3]
        channels = [n if css.startswith("color(") else n / 255 for n in numbers]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted(map(luminance, colours), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_predict_flip_and_error_in_a_real_browser(server: str, browser_page) -> None:
    page = browser_page
    from playwright.sync_api import expect

    console_errors: list[str] = []
    bad_responses: list[str] = []
    posted: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(f"page error: {error}"))
    page.on(
        "response",
        lambda r: bad_responses.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page.on(
        "request", lambda r: posted.append(urlsplit(r.url).path) if r.method == "POST" else None
    )

    page.goto(server)
    expect(page).to_have_title("Senti-review: movie review sentiment")
    expect(page.get_by_role("heading", level=1)).to_have_text("Senti-review")
    model = json.loads(urllib.request.urlopen(f"{server}/api/model", timeout=10).read())
    expect(page.locator("footer")).to_contain_text(model["name"])
    # the length advice quotes the served model's own figures (its metrics.json)
    short = model["metrics"]["short_sets"]
    n = sum(s["n"] for s in short.values())
    expect(page.get_by_text("one-line reviews written for this project")).to_contain_text(
        f"{n:,} one-line reviews written for this project right, and "
        f"{100 * model['metrics']['accuracy']:.1f}% of IMDb's test reviews"
    )
    served = json.loads(urllib.request.urlopen(f"{server}/api/models", timeout=10).read())

    review = page.get_by_label("Your movie review")
    predict = page.get_by_role("button", name="Predict", exact=True)
    status = page.get_by_role("status")
    answers = page.get_by_role("article")
    verdicts = page.get_by_test_id("sentiment")
    expect(predict).to_be_disabled()

    # 1. A clearly positive review, sent with the button: one answer per served model.
    review.fill(POSITIVE)
    predict.click()
    expect(verdicts).to_have_text(["Positive"] * len(served["models"]), timeout=30_000)
    for entry in served["models"]:
        expect(page.get_by_role("article", name=entry["title"])).to_contain_text("Confidence")
    expect(status).to_contain_text("Positive, confidence")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000

    # 2. A clearly negative one flips the label; sent from the keyboard this time.
    review.fill(NEGATIVE)
    review.press("Control+Enter")
    expect(verdicts.first).to_have_text("Negative", timeout=30_000)

    # The phone layout: nothing sticks out sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    assert _no_horizontal_scroll(page), "horizontal scroll at 390 px"
    page.set_viewport_size({"width": 1280, "height": 900})

    assert console_errors == [], console_errors
    assert bad_responses == [], bad_responses
    assert set(posted) == {"/api/explain"}, posted  # never the tutorial's text/plain /predict

    # 3. The API fails: a 500 with a JSON message, then no connection at all.
    page.route(
        "**/api/explain",
        lambda route: route.fulfill(
            status=500, content_type="application/json", body=json.dumps({"error": SERVER_ERROR})
        ),
    )
    predict.click()
    expect(answers.first).to_contain_text(SERVER_ERROR)
    expect(status).to_contain_text(SERVER_ERROR)
    expect(review).to_have_value(NEGATIVE)
    expect(predict).to_be_enabled()

    page.unroute("**/api/explain")
    page.route("**/api/explain", lambda route: route.abort("internetdisconnected"))
    predict.click()
    expect(answers.first).to_contain_text("Could not reach the server")
    expect(review).to_have_value(NEGATIVE)

    # The browser reports the failed requests themselves; anything else is a bug in the page.
    unexpected = [text for text in console_errors if "Failed to load resource" not in text]
    assert unexpected == [], unexpected


def test_the_words_that_mattered_in_a_real_browser(server: str, browser_page) -> None:
    """The shipped model's explanation: "wonderful" and "awful" are marked, in opposite
    directions, told by words for screen readers as well as by colour and sign."""
    page = browser_page
    from playwright.sync_api import expect

    page.goto(server)
    page.get_by_label("Your movie review").fill(MIXED)
    page.get_by_role("button", name="Predict", exact=True).click()

    expect(page.get_by_test_id("sentiment")).to_have_count(1, timeout=30_000)
    expect(page.get_by_test_id("sentiment")).to_have_text(re.compile("^(Positive|Negative)$"))
    expect(page.get_by_text("what weighed most on each verdict")).to_be_visible()
    answer = page.get_by_role("article")
    wonderful = answer.locator("mark", has_text="wonderful")
    awful = answer.locator("mark", has_text="awful")
    expect(wonderful).to_have_count(1)
    expect(awful).to_have_count(1)
    expect(wonderful).to_contain_text("pushes towards positive")
    expect(awful).to_contain_text("pushes towards negative")
    expect(wonderful.locator("[aria-hidden=true]")).to_have_text("+")
    expect(awful.locator("[aria-hidden=true]")).to_have_text("−")
    # The review reads as typed around the marks, and the marked text keeps WCAG AA contrast.
    shown = answer.locator(".highlighted").evaluate(
        "el => { const c = el.cloneNode(true);"
        " c.querySelectorAll('[aria-hidden=true], .visually-hidden').forEach(n => n.remove());"
        " return c.textContent }"
    )
    assert shown == MIXED
    for mark in (wonderful, awful):
        assert _contrast(page, mark) >= 4.5
