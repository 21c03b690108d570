"""``GET /metrics`` (senti_api/metrics.py): request counts and durations by route, the served
models; in one process (Flask's test client) and across the workers of the real server."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from flask import Flask, g
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from senti_api import create_app, metrics
from senti_api.metrics import UNMATCHED, get_metrics, served_models
from senti_api.settings import Settings, SettingsError

from tests.helpers.server import serve, stop


def samples(text: str, name: str, **labels: str) -> list:
    """The samples called ``name`` whose labels include ``labels``."""
    return [
        s
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]


def value(text: str, name: str, **labels: str) -> float:
    """The sum of those samples (0 when there are none)."""
    return sum(s.value for s in samples(text, name, **labels))


def scrape(client) -> str:
    r = client.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    return r.get_data(as_text=True)


# In one process: the Flask test client, the fake model of conftest.py.


def test_requests_are_counted_by_route_method_status_and_model(client):
    for _ in range(3):
        assert client.get("/health").status_code == 200
    assert client.post("/predict", json={}).status_code == 400
    text = scrape(client)
    health = {"route": "/health", "method": "GET", "status": "200"}
    assert value(text, "http_requests_total", **health, model="") == 3
    bad = {"route": "/predict", "method": "POST", "status": "400"}
    assert value(text, "http_requests_total", **bad, model="") == 1  # no model answered
    assert value(text, "http_requests_total", route="/predict", status="200") == 0
    assert value(text, "http_requests_total", model="fake-lstm") == 0
    assert value(text, "http_request_duration_seconds_count", route="/health", method="GET") == 3
    assert value(text, "http_request_duration_seconds_count", route="/predict") == 1
    infinite = samples(text, "http_request_duration_seconds_bucket", route="/health", le="+Inf")
    assert [s.value for s in infinite] == [3]
    assert 0 < value(text, "http_request_duration_seconds_sum", route="/health") < 3
    # the scrape itself is counted once it is answered
    assert value(text, "http_requests_total", route="/metrics") == 0
    assert value(scrape(client), "http_requests_total", route="/metrics", status="200") == 1
    # a prediction: the API view names the model that answered (g.sentireview_model)
    assert client.post("/predict", json={"review": "a great film"}).status_code == 200
    ok = {"route": "/predict", "method": "POST", "status": "200"}
    assert value(scrape(client), "http_requests_total", **ok, model="fake-lstm") == 1


def test_the_model_label_is_the_model_that_answered(app, client):
    def answered():
        g.sentireview_model = "fake-lstm"
        return "ok"

    app.add_url_rule("/answered-by-a-model", view_func=answered)
    assert client.get("/answered-by-a-model").status_code == 200
    assert client.get("/health").status_code == 200
    text = scrape(client)
    assert value(text, "http_requests_total", route="/answered-by-a-model",
                 model="fake-lstm") == 1
    assert value(text, "http_requests_total", route="/health", model="") == 1


def test_paths_matching_no_route_share_one_label(app, client):
    for path in ("/nope", "/api/nothing/here", "/a/b/c/d", "/predict/x"):
        assert client.get(path).status_code == 404
    assert client.get("/predict").status_code == 405  # routing: no rule for GET
    assert client.open("/health", method="BREW").status_code == 405
    text = scrape(client)
    assert value(text, "http_requests_total", route=UNMATCHED, status="404", method="GET") == 4
    assert value(text, "http_requests_total", route=UNMATCHED, status="405") == 2
    assert value(text, "http_requests_total", method="other") == 1  # BREW
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    routes = {s.labels["route"] for s in samples(text, "http_requests_total")}
    assert routes <= rules | {UNMATCHED}, routes


def test_the_served_models_are_listed(client):
    text = scrape(client)
    info = samples(text, "sentireview_model_info")
    assert [(s.labels, s.value) for s in info] == [
        ({"name": "fake-lstm", "version": "0.0.1", "kind": "lstm"}, 1.0)
    ]


def test_served_models_reads_one_model_or_several():
    one = SimpleNamespace(name="a", version="1", kind="lstm")
    two = SimpleNamespace(name="b", version="2", kind="transformer")
    app = Flask(__name__)
    assert served_models(app) == []
    app.extensions["sentireview.model"] = one
    assert served_models(app) == [one]
    app.extensions["sentireview.models"] = {"a": one, "b": two}  # the default one is both
    assert served_models(app) == [one, two]


def test_several_served_models_each_have_an_info_line():
    app = Flask(__name__)
    one = SimpleNamespace(name="a", version="1", kind="lstm")
    two = SimpleNamespace(name="b", version="2.0", kind="transformer")
    app.extensions["sentireview.models"] = {"a": one, "b": two}
    app.extensions["sentireview.model"] = one
    metrics.init_app(app, Settings())
    info = samples(scrape(app.test_client()), "sentireview_model_info")
    assert sorted((s.labels["name"], s.labels["version"], s.labels["kind"], s.value)
                  for s in info) == [("a", "1", "lstm", 1.0), ("b", "2.0", "transformer", 1.0)]


def test_apps_in_one_process_count_apart(model_dir, predictor, tmp_path):
    config = {"MODEL_DIR": model_dir, "PREDICTOR": predictor, "STATIC_DIR": tmp_path}
    first, second = create_app(config), create_app(config)  # no "Duplicated timeseries"
    for _ in range(2):
        first.test_client().get("/health")
    second.test_client().get("/health")
    assert value(scrape(first.test_client()), "http_requests_total", route="/health") == 2
    assert value(scrape(second.test_client()), "http_requests_total", route="/health") == 1


@pytest.mark.parametrize("off", ["0", "false", "off", "No"])
def test_metrics_can_be_turned_off(monkeypatch, model_dir, predictor, tmp_path, off):
    monkeypatch.setenv("SENTIREVIEW_METRICS", off)
    app = create_app({"MODEL_DIR": model_dir, "PREDICTOR": predictor, "STATIC_DIR": tmp_path})
    client = app.test_client()
    assert client.get("/health").status_code == 200
    r = client.get("/metrics")
    assert r.status_code == 404 and r.get_json()["error"]
    assert get_metrics(app) is None  # nothing recorded
    assert "/metrics" not in {rule.rule for rule in app.url_map.iter_rules()}


def test_the_metrics_setting():
    assert Settings().metrics is True
    assert Settings.from_env({}).metrics is True
    assert Settings.from_env({"SENTIREVIEW_METRICS": " 1 "}).metrics is True
    assert Settings.from_env({"SENTIREVIEW_METRICS": "on"}).metrics is True
    assert Settings.from_env({"SENTIREVIEW_METRICS": "0"}).metrics is False
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"SENTIREVIEW_METRICS": "sometimes"})
    message = str(caught.value)
    assert "SENTIREVIEW_METRICS" in message and "'sometimes'" in message
    assert "\n" not in message


# The real server: the Procfile's command, two workers, the shipped model.

_WORKER = re.compile(r"Booting worker with pid: (\d+)")
_FOLDER = re.compile(r"metrics folder \(PROMETHEUS_MULTIPROC_DIR\): (\S+)")


def _health_count(url: str) -> float:
    text = requests.get(url + "/metrics", timeout=10).text
    return value(text, "http_requests_total", route="/health", method="GET", status="200")


def _health_by_worker(folder: Path) -> dict[int, float]:
    """Each worker's own count of GET /health, read from its file in the metrics folder."""
    counts = {}
    for path in folder.glob("counter_*.db"):
        pid = int(path.stem.removeprefix("counter_"))
        counts[pid] = sum(
            s.value
            for metric in MultiProcessCollector.merge([str(path)])
            for s in metric.samples
            if s.name == "http_requests_total" and s.labels.get("route") == "/health"
        )
    return counts


def _get_health(url: str) -> None:
    # a new connection each time, so that any worker may take it
    r = requests.get(url + "/health", timeout=10, headers={"Connection": "close"})
    assert r.status_code == 200


@pytest.mark.slow
def test_the_counts_of_all_workers_add_up(tmp_path):
    log = tmp_path / "server.log"
    env = {"WEB_CONCURRENCY": "2"}
    # unset (empty): gunicorn.conf.py makes a temporary folder
    proc, url = serve({**env, "PROMETHEUS_MULTIPROC_DIR": ""}, log)
    try:
        folder = Path(_FOLDER.search(log.read_text()).group(1))  # made by gunicorn.conf.py
        assert folder.is_dir() and folder.name.startswith("sentireview-metrics-")
        before = _health_count(url)
        for _ in range(6):
            _get_health(url)
        # whichever worker answers the scrape, it sees the six
        for _ in range(6):
            assert _health_count(url) == before + 6
        by_worker = _health_by_worker(folder)
        assert sum(by_worker.values()) == before + 6
        # Until both workers have answered some (bounded): the total is still exact.
        sent = 6
        while sum(1 for n in _health_by_worker(folder).values() if n) < 2 and sent < 300:
            _get_health(url)
            sent += 1
        by_worker = _health_by_worker(folder)
        assert sum(1 for n in by_worker.values() if n) == 2, by_worker
        assert _health_count(url) == before + sent
        assert "PROMETHEUS_MULTIPROC_DIR was set after" not in log.read_text()
    finally:
        returncode = stop(proc)
    assert returncode == 0, log.read_text()[-2000:]
    assert not folder.exists()  # the temporary folder goes with the server


def _health_served(folder, pid: int) -> float:
    """The /health requests worker ``pid`` has counted, read from its own file."""
    from prometheus_client.mmap_dict import MmapedDict

    path = folder / f"counter_{pid}.db"
    if not path.exists():
        return 0.0
    return sum(value for key, value, *_ in MmapedDict.read_all_values_from_file(str(path))
               if '"/health"' in key and "http_requests_total" in key)


@pytest.mark.slow
def test_an_exited_worker_leaves_counts_but_no_live_values(tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"an earlier run's file")
    (folder / "notes.txt").write_text("not prometheus_client's")
    log = tmp_path / "server.log"
    proc, url = serve({"WEB_CONCURRENCY": "2", "PROMETHEUS_MULTIPROC_DIR": str(folder)}, log)
    try:
        assert not (folder / "counter_1.db").exists()  # emptied at start-up
        assert (folder / "notes.txt").exists()  # and nothing else removed
        before = _health_count(url)
        workers = [int(p) for p in _WORKER.findall(log.read_text())]
        assert len(workers) == 2
        # Until both workers have counted requests of their own (the kernel, not gunicorn,
        # picks the worker of each connection), and for at least 4 requests.
        sent, deadline = 0, time.monotonic() + 60  # the second worker may still be loading
        while sent < 4 or not all(_health_served(folder, pid) and
                                  (folder / f"gauge_livemax_{pid}.db").exists()
                                  for pid in workers):
            assert time.monotonic() < deadline, sorted(p.name for p in folder.iterdir())
            _get_health(url)
            sent += 1
        counted = _health_count(url)
        assert counted == before + sent

        gone = workers[0]
        os.kill(gone, signal.SIGTERM)  # a worker of this test's server; gunicorn replaces it
        deadline = time.monotonic() + 60
        while (len(_WORKER.findall(log.read_text())) < 3
               or (folder / f"gauge_livemax_{gone}.db").exists()):
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        replacement = int(_WORKER.findall(log.read_text())[-1])
        while not (folder / f"gauge_livemax_{replacement}.db").exists():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)

        text = requests.get(url + "/metrics", timeout=10).text
        # the exited worker's requests are still counted; its live gauge is gone
        assert value(text, "http_requests_total", route="/health", status="200") == counted
        assert _health_served(folder, gone) > 0  # its file, with its requests, stays
        info = samples(text, "sentireview_model_info")
        assert [s.value for s in info] == [1.0] and info[0].labels["kind"] == "lstm"
    finally:
        returncode = stop(proc)
    assert returncode == 0, log.read_text()[-2000:]
    assert folder.is_dir()  # an operator's folder stays
