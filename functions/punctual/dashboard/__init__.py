"""The web dashboard: static pages (HTML, CSS, ES modules; no library, no build step) under ``static/``.

``punctual dev`` serves them at ``/ui/``; a stage deploys the same folder to a private S3 bucket behind
CloudFront (infra/dashboard.py). They talk to the API only over HTTP, so nothing here is imported by a
handler, and the Lambda asset leaves this package out (infra/bundling.py).
"""

from __future__ import annotations

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent / "static"
