"""The emulated AWS endpoint: moto's server on a background thread, one request at a time.

moto's backends are not thread-safe: TransactWriteItems, for one, deep-copies the table while another
request may be writing it ("dictionary changed size during iteration"). Requests are therefore served
one at a time, which also makes each one atomic as it is on AWS (and lets TransactWriteItems skip moto's
whole-table copies: see moto_transactions). SQS long polls are the exception: they
wait for messages (woken when one arrives) and must not hold every other request up meanwhile.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import ThreadedMotoServer

from punctual.local import moto_dispatch, moto_dynamodb_responses, moto_items, moto_sqs, moto_transactions
from punctual.local.wsgi_server import KeepAliveWsgiServer

Wsgi = Callable[[dict[str, Any], Any], Iterable[bytes]]


def is_long_poll(environ: dict[str, Any], body: bytes) -> bool:
    """An SQS ReceiveMessage with WaitTimeSeconds > 0, in the JSON or the query protocol."""
    try:
        if environ.get("HTTP_X_AMZ_TARGET") == "AmazonSQS.ReceiveMessage":
            return int(json.loads(body or b"{}").get("WaitTimeSeconds") or 0) > 0
        if b"Action=ReceiveMessage" in body:
            return int(parse_qs(body.decode())["WaitTimeSeconds"][0]) > 0
    except (ValueError, KeyError, IndexError, AttributeError):
        return False
    return False


# moto, made fit for the emulator's load: installed by the server in its process (the emulator's child).
MOTO_PATCHES = (moto_dispatch, moto_dynamodb_responses, moto_items, moto_sqs, moto_transactions)


class SerializedApp:
    def __init__(self, app: Wsgi) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = b""
        length = environ.get("CONTENT_LENGTH")
        if length and length.isdigit():
            body = environ["wsgi.input"].read(int(length))
            environ["wsgi.input"] = io.BytesIO(body)
        if is_long_poll(environ, body):
            return self._app(environ, start_response)
        with self._lock:
            result = self._app(environ, start_response)
            try:
                return list(result)  # the whole answer is built inside the lock
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()


class EmulatorServer(ThreadedMotoServer):
    """ThreadedMotoServer serving the serialized app over kept-alive connections (see wsgi_server); ``start``
    reports a failed bind in ``error`` instead of waiting forever."""

    error: BaseException | None = None

    def _server_entry(self) -> None:
        try:
            app = SerializedApp(DomainDispatcherApplication(create_backend_app))
            server = KeepAliveWsgiServer((self._ip_address, self._port), app)
            self._server = server  # type: ignore[assignment]  # stop() only calls shutdown()
            for patch in MOTO_PATCHES:
                patch.install()
            self._server_ready_event.set()
            server.serve_forever()
        except BaseException as error:
            self.error = error
            self._server_ready_event.set()
