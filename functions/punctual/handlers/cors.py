"""CORS for the dashboard's origin: a stage serves the dashboard from CloudFront (infra/dashboard.py) and
sets ``CORS_ALLOW_ORIGIN`` to that one origin; without it (``punctual dev``, where the dashboard is on the
API's own origin) the API sends no CORS headers at all."""

from __future__ import annotations

import os

from aws_lambda_powertools.event_handler import CORSConfig

CORS_ORIGIN_ENV = "CORS_ALLOW_ORIGIN"
# What the dashboard sends beyond the CORS-safelisted headers.
ALLOWED_HEADERS = ("Content-Type", "x-api-key", "X-Punctual-User", "Idempotency-Key")
ALLOWED_METHODS = ("GET", "POST", "PATCH", "DELETE", "OPTIONS")
MAX_AGE_SECONDS = 600


def cors_config(environ: os._Environ[str] | dict[str, str] = os.environ) -> CORSConfig | None:
    origin = (environ.get(CORS_ORIGIN_ENV) or "").strip()
    if not origin:
        return None
    return CORSConfig(allow_origin=origin, allow_headers=list(ALLOWED_HEADERS), max_age=MAX_AGE_SECONDS)
