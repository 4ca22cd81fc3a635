"""The emulator lists moto's service packages once; the dispatcher gets the same list as from moto."""

from __future__ import annotations

from moto import backends
from punctual.local import moto_dispatch


def test_the_listed_packages_are_moto_s(moto_restored: None) -> None:
    from_moto = list(backends.list_of_moto_modules())

    moto_dispatch.install()

    assert list(backends.list_of_moto_modules()) == from_moto
    assert {"dynamodb", "sqs", "sns", "scheduler"} <= set(from_moto)
