"""gunicorn settings for Senti-review (the Procfile passes this file with ``--config``).

Environment: ``WEB_CONCURRENCY`` worker processes (default 2: one per core of a small
dyno), ``HOST`` (default 0.0.0.0) and ``PORT`` (default 8000, Heroku sets it),
``GUNICORN_TIMEOUT`` seconds (default 30, Heroku's router limit), ``SENTIREVIEW_THREADS``
compute threads per worker (default 1). ``SENTIREVIEW_MODEL_DIR`` and ``SENTIREVIEW_STATIC_DIR``
default to ``ml_model/`` beside this file and ``webapp/react/dist``.

Each worker imports the app itself (no preload), so each loads its own copy of the model
and a worker that is recycled comes back with a fresh one. The app runs one
request at a time per worker, each prediction on one compute thread, so N workers use N
cores without oversubscription. The worker class (``senti_api.server.BufferingWorker``)
reads each request whole with gunicorn's asyncio worker before the app runs, so a slow client
holds a socket, not a worker; gunicorn's own error answers (414, 431, ...) are JSON.

``/metrics`` adds up the counts of all workers through files in ``PROMETHEUS_MULTIPROC_DIR``
(prometheus-client's multiprocess mode): an operator's folder, or else a fresh temporary one
(removed on exit); emptied of earlier runs' files at start-up.
"""

import os
import shutil
import tempfile
from pathlib import Path

_here = Path(__file__).resolve().parent

# `senti_api` and `sentireview` are installed packages (requirements.txt installs the project).
wsgi_app = "senti_api.wsgi:serve()"

# The served model and the front-end build are files of this checkout, not of the installed
# package (a plain `pip install .` puts senti_api in site-packages): name them from this
# file's folder, never from the working directory. An operator's own value wins.
for _name, _path in (("SENTIREVIEW_MODEL_DIR", _here / "ml_model"),
                     ("SENTIREVIEW_STATIC_DIR", _here.parent / "react" / "dist")):
    if not os.environ.get(_name, "").strip():
        os.environ[_name] = str(_path)

# Metrics (senti_api/metrics.py). prometheus_client picks its multiprocess mode when first
# imported, which the master does when it loads the worker class: set the folder here, before.
_METRICS_DIR_MADE = "_SENTIREVIEW_METRICS_DIR_MADE"  # the folder this file made (removed on exit)
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip():
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="sentireview-metrics-")
    os.environ[_METRICS_DIR_MADE] = os.environ["PROMETHEUS_MULTIPROC_DIR"]
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
# The files prometheus_client writes there (only these are removed from an operator's folder).
_METRICS_FILES = ("counter_", "gauge_", "histogram_", "summary_")


def on_starting(server):
    """Once, in the master: forget the values of an earlier run (their pids may be reused)."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    stale = [p for p in folder.glob("*.db") if p.name.startswith(_METRICS_FILES)]
    for path in stale:
        path.unlink(missing_ok=True)
    server.log.info("metrics folder (PROMETHEUS_MULTIPROC_DIR): %s (%d stale files removed)",
                    folder, len(stale))


def child_exit(server, worker):
    """In the master, for each worker that exited: drop its live gauges (the models it served);
    its counters stay, so no request is uncounted."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """The temporary metrics folder goes with the server (an operator's own stays)."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if folder and os.environ.get(_METRICS_DIR_MADE) == folder:
        shutil.rmtree(folder, ignore_errors=True)


bind = f"{os.environ.get('HOST') or '0.0.0.0'}:{os.environ.get('PORT') or '8000'}"
workers = int(os.environ.get("WEB_CONCURRENCY") or 2)
# Requests are read whole by an asyncio loop, then the app runs on that loop's thread, one
# request at a time: slow clients cost a socket, not a worker (senti_api/server.py).
worker_class = "senti_api.server.BufferingWorker"
threads = 1
preload_app = False
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
# The app stops a prediction with a 503 well before gunicorn would kill the worker.
os.environ.setdefault("SENTIREVIEW_PREDICT_TIMEOUT", str(max(1, timeout * 2 // 3)))
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then (jittered so they do not all restart at once): a safety net
# against slow leaks in native libraries, at the cost of one model load per recycle.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 0)
max_requests_jitter = max_requests // 10
# Request-line and header limits (gunicorn's defaults are generous; reviews travel in bodies).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# No runtime control socket ($HOME/.gunicorn/gunicorn.ctl): one less thing shared between
# instances on a machine, and nothing to manage on a dyno.
control_socket_disable = True
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# One compute thread per worker unless told otherwise: read by ONNX Runtime (the back end
# takes SENTIREVIEW_THREADS) and by OpenMP/BLAS should torch be used.
_threads = os.environ.get("SENTIREVIEW_THREADS") or "1"
for _name in ("SENTIREVIEW_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_name, _threads)

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'

# The app's own loggers (senti_api, sentireview) go to stderr next to gunicorn's.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s [%(process)d] %(levelname)s %(name)s: %(message)s",
                  "datefmt": "%Y-%m-%d %H:%M:%S"},
        "access": {"format": "%(message)s"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain",
                   "stream": "ext://sys.stderr"},
        "access": {"class": "logging.StreamHandler", "formatter": "access",
                   "stream": "ext://sys.stdout"},
    },
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["stderr"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["access"], "propagate": False},
    },
}
