"""Static files served by the local gateway: the dashboard at ``/ui/`` and Swagger UI at ``/docs``.

Nothing comes from a CDN: the dashboard is this repository's ``punctual/dashboard/static`` folder, and
Swagger UI is the ``swagger-ui-dist`` npm package pinned in package-lock.json (``make install`` runs
``npm ci``), read from ``node_modules``. Files are gzipped once, in memory, for clients that accept it.
"""

from __future__ import annotations

import gzip
import mimetypes
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from punctual.dashboard import STATIC_DIR as DASHBOARD_DIR

REPO_ROOT = Path(__file__).resolve().parents[3]
SWAGGER_UI_ENV = "PUNCTUAL_SWAGGER_UI_DIR"
# The only Swagger UI files /docs needs (the package holds ~12 MB of other bundles and source maps).
SWAGGER_UI_FILES = frozenset({"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"})
_COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")
_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
}


def swagger_ui_dir() -> Path:
    return Path(os.environ.get(SWAGGER_UI_ENV) or REPO_ROOT / "node_modules" / "swagger-ui-dist")


SWAGGER_UI_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>punctual API (local)</title>
<link rel="icon" href="/docs/favicon-32x32.png">
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui"});</script>
</body></html>
"""

SWAGGER_UI_MISSING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Swagger UI is not installed</title></head>
<body><h1>Swagger UI is not installed</h1>
<p>It comes from the <code>swagger-ui-dist</code> npm package: run <code>make install</code> (or
<code>npm ci</code>) in the repository, or set <code>PUNCTUAL_SWAGGER_UI_DIR</code>. The API's document is
at <a href="/openapi.json">/openapi.json</a>.</p></body></html>
"""


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    gzipped: bytes | None
    content_type: str


class StaticFolder:
    """Files of one folder by relative path; anything outside it, hidden, or missing is None."""

    def __init__(self, root: Path, *, allowed: frozenset[str] | None = None) -> None:
        self._root, self._allowed = root.resolve(), allowed
        # Keyed by path and modification time, so an edited file is served anew without a restart.
        self._cache: dict[tuple[str, int], StaticFile | None] = {}
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self._root.is_dir()

    def get(self, relative: str) -> StaticFile | None:
        path = self._path(relative)
        if path is None:
            return None
        key = (relative, path.stat().st_mtime_ns)
        with self._lock:
            if key not in self._cache:
                self._cache[key] = _load(path)
            return self._cache[key]

    def _path(self, relative: str) -> Path | None:
        if self._allowed is not None and relative not in self._allowed:
            return None
        if any(part.startswith(".") or part == "" for part in relative.split("/")):
            return None
        path = (self._root / relative).resolve()
        if not path.is_relative_to(self._root) or not path.is_file():
            return None
        return path


def _load(path: Path) -> StaticFile:
    body = path.read_bytes()
    content_type = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if content_type.startswith("text/"):
        content_type += "; charset=utf-8"
    gzipped = gzip.compress(body, 6) if content_type.startswith(_COMPRESSIBLE) else None
    return StaticFile(body, gzipped, content_type)


def dashboard_folder() -> StaticFolder:
    return StaticFolder(DASHBOARD_DIR)


def swagger_ui_folder() -> StaticFolder:
    return StaticFolder(swagger_ui_dir(), allowed=SWAGGER_UI_FILES)
