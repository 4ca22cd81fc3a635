"""Identifiers. A scheduled occurrence's tracking id is derived, so every delivery of the same link
computes the same claim key and a duplicate finds the claim."""

from __future__ import annotations

import uuid
from datetime import datetime

from punctual.domain.timefmt import format_instant

_OCCURRENCE_NAMESPACE = uuid.UUID("5b0f6c1e-3c1f-4b8e-9d0a-7a1f2c3d4e5f")


def occurrence_tracking_id(task_id: str, occurrence: datetime) -> str:
    return uuid.uuid5(_OCCURRENCE_NAMESPACE, f"{task_id}#{format_instant(occurrence)}").hex


def random_id() -> str:
    return uuid.uuid4().hex


class RandomIds:
    """The production IdGenerator."""

    def new_id(self) -> str:
        return random_id()
