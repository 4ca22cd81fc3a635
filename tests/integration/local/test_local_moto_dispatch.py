"""The emulator lists moto's service packages once; the dispatcher gets the same list as from moto."""

from __future__ import annotations

from moto import backends
from punctual.local import moto_dispatch


def test_the_listed_packages_are_moto_s(moto_restored: None) -> None:
    from_moto = list(backends.list_of_moto_modules())

    moto_dispatch.install()

    assert list(backends.list_of_moto_modules()) == from_moto
    assert {"dynamodb", "sqs", "sns", "scheduler"} <= set(from_moto)


def test_a_response_class_s_functions_are_listed_once_and_as_moto_lists_them(moto_restored: None) -> None:
    from moto.core import responses
    from moto.dynamodb.responses import DynamoHandler

    from_moto = responses.method_names_from_class(DynamoHandler)  # type: ignore[attr-defined]

    moto_dispatch.install()

    listed = responses.method_names_from_class(DynamoHandler)  # type: ignore[attr-defined]
    assert listed == from_moto and "transact_write_items" in listed
    listed.append("not a method")  # a caller's copy: the next request's list is untouched
    assert responses.method_names_from_class(DynamoHandler) == from_moto  # type: ignore[attr-defined]
