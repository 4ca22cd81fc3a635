from __future__ import annotations

from tests.integration.api.fixtures import quiet_empty_metrics, stack

__all__ = ["quiet_empty_metrics", "stack"]
