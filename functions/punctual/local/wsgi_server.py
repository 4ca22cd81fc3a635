"""A threaded HTTP/1.1 WSGI server that keeps connections open: the emulator's transport.

werkzeug's development server (the one moto's ThreadedMotoServer runs) closes the connection after every
response, so each AWS call the handlers made opened a TCP connection and the server started a thread for
it; under load that was over half of the emulator's CPU. boto3 pools its connections: here each
connection is served by one thread, request after request, until the client closes it.

It serves what the AWS SDKs and CLI send to the emulated services (JSON and query protocols): a body
with a Content-Length or chunked, a complete (not streamed) response. ``100-continue`` is answered by
``http.server``.
"""

from __future__ import annotations

import io
import logging
import socket
import sys
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote_to_bytes

log = logging.getLogger("punctual_dev.emulator")

_date_header: tuple[int, str] = (-1, "")  # the Date header of the current second

Wsgi = Callable[[dict[str, Any], Any], Iterable[bytes]]

# Set by the server from the response's length and the request's wish to keep the connection.
_SERVER_OWNED_HEADERS = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive"})


class BadRequestBody(ValueError):
    """A chunked request body that does not parse."""


class KeepAliveWsgiServer(ThreadingHTTPServer):
    daemon_threads = True  # an idle kept-alive connection must not hold up shutdown
    block_on_close = False

    def __init__(self, address: tuple[str, int], app: Wsgi) -> None:
        self.app = app
        super().__init__(address, WsgiRequestHandler)


class WsgiRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: KeepAliveWsgiServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header, formatted once a second rather than on every response (email.utils.formatdate
        was ~6% of the emulator's time in a burst of fires)."""
        global _date_header
        if timestamp is not None:
            return super().date_time_string(timestamp)
        second = int(time.time())
        cached = _date_header  # one (second, text) tuple, replaced whole: threads never see half of one
        if cached[0] != second:
            cached = _date_header = (second, super().date_time_string(second))
        return cached[1]

    def do_request(self) -> None:
        try:
            body = self._read_body()
        except (BadRequestBody, ValueError):
            self.close_connection = True
            self._respond("400 Bad Request", [("Content-Type", "text/plain")], [b"bad request body"])
            return
        chunks: list[bytes] = []
        response: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            response[:] = [status, headers]
            return chunks.append  # the WSGI write() callable: collected like the returned chunks

        try:
            result = self.server.app(self._environ(body), start_response)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:
            log.exception("the emulator failed on %s %s", self.command, self.path)
            self._respond("500 Internal Server Error", [("Content-Type", "text/plain")], [b"emulator error"])
            return
        status, headers = response if response else ("500 Internal Server Error", [])
        self._respond(status, headers, chunks)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_request

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise BadRequestBody("negative Content-Length")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size_line = self.rfile.readline(65537)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequestBody("bad chunk size") from None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(3)  # the CRLF after the chunk

    def _environ(self, body: bytes) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),  # PEP 3333: bytes as latin-1
            "QUERY_STRING": query,
            "RAW_URI": self.path,
            "REQUEST_URI": self.path,
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": str(self.client_address[1]),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        content_type = self.headers.get("Content-Type")
        if content_type:
            environ["CONTENT_TYPE"] = content_type
        for name, value in self.headers.items():
            key = "HTTP_" + name.upper().replace("-", "_")
            if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING"):
                continue
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _respond(self, status: str, headers: list[tuple[str, str]], chunks: list[bytes]) -> None:
        """Write the status line, headers and body at once (one segment: no Nagle wait behind the headers)."""
        payload = b"".join(chunks)
        lines = [f"{self.protocol_version} {status}", f"Date: {self.date_time_string()}"]
        lines += [f"{name}: {value}" for name, value in headers if name.lower() not in _SERVER_OWNED_HEADERS]
        lines.append(f"Content-Length: {len(payload)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.wfile.write(head + payload if self.command != "HEAD" else head)

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged: the handlers make thousands a minute."""
