"""TargetInvoker for HTTPS targets: one request, pinned to an address the stage's policy allowed just now.

The host is resolved once per call and every address checked (service/target_policy.py); the connection
goes to a checked address, with the URL's host name for the Host header and TLS (SNI and certificate
checks), so a DNS answer that changes between the check and the connect cannot redirect the call.
Redirects are not followed (a 3xx is a failed attempt): a redirect could lead anywhere.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Mapping
from urllib.parse import urlsplit

from punctual.domain.targets import Target
from punctual.service.ports import CallOutcome
from punctual.service.target_policy import TargetPolicy

MAX_READ_BYTES = 4096
USER_AGENT = "punctual-runner/1"


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, port: int | None, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, port: int | None, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


class HttpsInvoker:
    def __init__(self, policy: TargetPolicy) -> None:
        self._policy = policy

    def call(self, target: Target, body: bytes, headers: Mapping[str, str]) -> CallOutcome:
        assert target.url is not None
        addresses, refusal = self._policy.checked_addresses(target.url)
        if refusal is not None:
            return CallOutcome(ok=False, error=f"refused: {refusal}")
        parts = urlsplit(target.url)
        host = parts.hostname or ""
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection_type = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        connection = connection_type(host, addresses[0], parts.port, target.timeout_seconds)
        request_headers = {
            "User-Agent": USER_AGENT,
            "Content-Type": "application/json",
            **headers,
        }
        try:
            sent = body if target.method not in ("GET", "DELETE") else None
            connection.request(target.method, path, body=sent, headers=request_headers)
            response = connection.getresponse()
            text = response.read(MAX_READ_BYTES).decode("utf-8", "replace")
            status = response.status
            retry_after = response.getheader("Retry-After")
        except (OSError, http.client.HTTPException) as error:
            kind = "timed out" if isinstance(error, TimeoutError | socket.timeout) else "failed"
            return CallOutcome(ok=False, error=f"the request {kind}: {error}")
        finally:
            connection.close()
        ok = 200 <= status < 300
        return CallOutcome(
            ok=ok,
            status=status,
            result=text,
            error=None if ok else f"the target answered {status}",
            retry_after=retry_after,
        )
