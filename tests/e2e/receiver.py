"""A local HTTP receiver for HTTPS targets under ``punctual dev``: it verifies every call's signature with the
Python client's ``verify`` and answers from a per-path script (the last status repeats)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from punctual_client import SignatureError, verify


@dataclass
class Call:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float  # time.time()
    event: Any = None  # the verified event; None when the signature was refused
    refusal: str | None = None


@dataclass
class Receiver:
    port: int = 0
    secret: str = ""
    scripts: dict[str, list[int]] = field(default_factory=dict)
    delays: dict[str, float] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    now: Callable[[], float] | None = None  # the verifier's clock (tests with a fake clock pass theirs)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def calls_to(self, path: str) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.path == path]

    def answer(self, call: Call) -> int:
        with self.lock:
            self.calls.append(call)
            script = self.scripts.get(call.path, [200])
            seen = sum(1 for c in self.calls if c.path == call.path)
            status = script[min(seen, len(script)) - 1]
        if call.refusal is not None:
            return 401
        time.sleep(self.delays.get(call.path, 0))
        return status


@contextmanager
def running_receiver(secret: str, now: Callable[[], float] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(secret=secret, now=now)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            call = Call(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time())
            try:
                call.event = verify(
                    body,
                    self.headers.get("Punctual-Signature"),
                    receiver.secret,
                    now=receiver.now() if receiver.now else None,
                )
            except SignatureError as error:
                call.refusal = str(error)
            status = receiver.answer(call)
            payload = b'{"handled": true}' if status < 300 else b'{"handled": false}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
