"""The gunicorn worker classes of the Procfile's server (``worker_class`` in gunicorn.conf.py).

- :class:`BufferingWorker` (the default): reads each request whole -- headers and body --
  without tying the worker to the socket, then runs the app. Slow clients (a body announced
  and sent a few bytes at a time, headers sent slowly) cost an idle socket, not a worker.
- :class:`JSONErrorsSyncWorker`: gunicorn's sync worker, for a deployment behind a proxy that
  buffers requests itself (``GUNICORN_CMD_ARGS="--worker-class
  senti_api.server.JSONErrorsSyncWorker"``).

With both, the errors gunicorn answers itself, before the app sees the request (400 for a
malformed request, 414 for a request line over the limit, 431 for headers over the limits,
500 for a bug), are ``{"error": "..."}`` JSON like every answer of the app, instead of
gunicorn's HTML or text page. A prediction is stopped with a 503 by the app before gunicorn's
worker timeout (``SENTIREVIEW_PREDICT_TIMEOUT``); with the sync worker, a request cut short by
that timeout also gets a JSON 503.
"""

from __future__ import annotations

import io
import json
import sys
from http import HTTPStatus

from gunicorn import util
from gunicorn.asgi.protocol import ASGIProtocol
from gunicorn.workers import gasgi
from gunicorn.workers.gasgi import ASGIWorker
from gunicorn.workers.sync import SyncWorker


def write_json_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's ``util.write_error`` with a JSON body (same status line, connection closed)."""
    body = json.dumps({"error": mesg or reason}).encode("utf-8")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "Cache-Control: no-store\r\n"
        "\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


class JSONErrorsSyncWorker(SyncWorker):
    """The sync worker with JSON error answers (see the module docstring)."""

    timed_out = False

    def init_process(self) -> None:
        # gunicorn's workers call util.write_error for these answers; this process only.
        util.write_error = write_json_error
        super().init_process()

    def handle_abort(self, sig, frame) -> None:
        # The arbiter's WORKER TIMEOUT: the SystemExit raised next ends the request.
        self.timed_out = True
        super().handle_abort(sig, frame)

    def handle_error(self, req, client, addr, exc) -> None:
        if self.timed_out and isinstance(exc, SystemExit):
            self.log.warning("request timed out: the worker is stopped and replaced")
            try:
                write_json_error(client, 503, "Service Unavailable",
                                 "the request took too long; try fewer or shorter reviews")
            except Exception:
                self.log.debug("Failed to send the timeout answer.")
            return
        super().handle_error(req, client, addr, exc)


# Slow clients (issue 18, and the slow headers of issue 17). A sync worker reads a request
# itself, so a client that announces a body and sends it slowly holds the worker until
# gunicorn's timeout kills it. BufferingWorker reads every request -- headers and body --
# with gunicorn's asyncio worker (no thread, no process per connection: a slow client is an
# idle socket), and only then runs the WSGI app, on the event loop's thread, one request at a
# time: one compute thread per worker, as with the sync worker.


def _environ(scope: dict, body: bytes) -> dict:
    """The WSGI environ of an ASGI HTTP ``scope`` whose whole ``body`` has been read."""
    server = scope.get("server") or ("localhost", 80)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": scope.get("root_path", "").encode("utf-8").decode("latin-1"),
        "PATH_INFO": scope["path"].encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]) if server[1] is not None else "80",
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = str(client[0]), str(client[1])
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name in ("content-length", "transfer-encoding"):
            continue  # the body is whole: CONTENT_LENGTH above is its length
        key = "CONTENT_TYPE" if name == "content-type" else "HTTP_" + name.upper().replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


class BufferedWSGI:
    """An ASGI app that serves a WSGI app with each request body read whole first.

    A body over ``max_body`` bytes (however it is framed) is not read further: the WSGI app
    sees the announced size over its limit and answers its own 413, and the connection is
    closed. A client that stops sending is dropped by gunicorn after its ``timeout``.
    """

    def __init__(self, app, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # no websockets here
        body, over = bytearray(), False
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":  # gone, or silent for gunicorn's timeout
                await _send_error(send, 408, "the request body did not arrive in time")
                return
            body += message.get("body", b"")
            if len(body) > self.max_body:
                over = True
                break
            if not message.get("more_body"):
                break
        environ = _environ(scope, bytes(body))
        if over:  # the app answers 413 from the length; the rest is never read
            environ["CONTENT_LENGTH"] = str(len(body))
            environ["wsgi.input"] = io.BytesIO()
        status, headers, chunks = self._call(environ)
        if over:
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"".join(chunks)})

    def _call(self, environ: dict) -> tuple[int, list[tuple[bytes, bytes]], list[bytes]]:
        started: list = []

        def start_response(status, headers, exc_info=None):
            started[:] = [status, headers]
            return lambda data: chunks.append(data)

        chunks: list[bytes] = []
        result = self.app(environ, start_response)
        try:
            chunks.extend(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        status, headers = started
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        return int(status.split(" ", 1)[0]), raw, chunks


async def _send_error(send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body)),
               (b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"),
               (b"connection", b"close")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class JSONErrorsProtocol(ASGIProtocol):
    """gunicorn's asyncio HTTP protocol with its own error answers in JSON."""

    def _send_error_response(self, status, message, extra_headers=()):
        reason = self._get_reason_phrase(status)
        if reason == "Unknown":
            try:
                reason = HTTPStatus(status).phrase
            except ValueError:
                reason = "Error"
        body = json.dumps({"error": message or reason}).encode("utf-8")
        extra = "".join(f"{name}: {value}\r\n" for name, value in extra_headers)
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Cache-Control: no-store\r\n"
            f"{extra}"
            "Connection: close\r\n"
            "\r\n"
        )
        self._safe_write(head.encode("latin-1") + body)


class BufferingWorker(ASGIWorker):
    """gunicorn's asyncio worker running the WSGI app through :class:`BufferedWSGI`."""

    def init_process(self) -> None:
        gasgi.ASGIProtocol = JSONErrorsProtocol  # the worker builds one per connection
        super().init_process()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        app = self.asgi
        settings = getattr(app, "extensions", {}).get("sentireview.settings")
        max_body = settings.max_body_bytes if settings is not None else 1024 * 1024
        self.asgi = BufferedWSGI(app, max_body)
