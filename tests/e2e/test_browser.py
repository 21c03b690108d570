"""The page in a real browser: Debian's chromium, driven by Playwright, against the real server.

The server is the Procfile's `web` command (gunicorn with webapp/flask/gunicorn.conf.py and the
shipped model in webapp/flask/ml_model) on a free port, serving the build in webapp/react/dist.
The test saves a screenshot to tests/artifacts/screenshot.png (git-ignored); with
SENTIREVIEW_UPDATE_SCREENSHOT=1 it refreshes docs/screenshot.png, the one the README shows.
"""

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

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


def test_predict_flip_and_error_in_a_real_browser(server: str, browser_page) -> None:
    page = browser_page
    from playwright.sync_api import expect

    console_errors: list[str] = []
    bad_responses: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: console_errors.append(f"page error: {error}"))
    page.on(
        "response",
        lambda r: bad_responses.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )

    page.goto(server)
    expect(page).to_have_title("Senti-review: movie review sentiment")
    expect(page.get_by_role("heading", level=1)).to_have_text("Senti-review")
    model = json.loads(urllib.request.urlopen(f"{server}/api/model", timeout=10).read())
    expect(page.locator("footer")).to_contain_text(model["name"])

    review = page.get_by_label("Your movie review")
    predict = page.get_by_role("button", name="Predict", exact=True)
    result = page.get_by_role("status")
    label = result.get_by_test_id("sentiment")
    expect(predict).to_be_disabled()

    # 1. A clearly positive review, sent with the button.
    review.fill(POSITIVE)
    predict.click()
    expect(label).to_have_text("Positive", timeout=30_000)
    expect(result).to_contain_text("Confidence")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 10_000

    # 2. A clearly negative one flips the label; sent from the keyboard this time.
    review.fill(NEGATIVE)
    review.press("Control+Enter")
    expect(label).to_have_text("Negative", timeout=30_000)

    # The phone layout: nothing sticks out sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    assert _no_horizontal_scroll(page), "horizontal scroll at 390 px"
    page.set_viewport_size({"width": 1280, "height": 900})

    assert console_errors == [], console_errors
    assert bad_responses == [], bad_responses

    # 3. The API fails: a 500 with a JSON message, then no connection at all.
    page.route(
        "**/predict",
        lambda route: route.fulfill(
            status=500, content_type="application/json", body=json.dumps({"error": SERVER_ERROR})
        ),
    )
    predict.click()
    expect(result).to_contain_text(SERVER_ERROR)
    expect(review).to_have_value(NEGATIVE)
    expect(predict).to_be_enabled()

    page.unroute("**/predict")
    page.route("**/predict", lambda route: route.abort("internetdisconnected"))
    predict.click()
    expect(result).to_contain_text("Could not reach the server")
    expect(review).to_have_value(NEGATIVE)

    # The browser reports the failed requests themselves; anything else is a bug in the page.
    unexpected = [text for text in console_errors if "Failed to load resource" not in text]
    assert unexpected == [], unexpected
