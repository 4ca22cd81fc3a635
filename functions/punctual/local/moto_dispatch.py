"""moto's request dispatch for the emulator without a directory listing or a class walk per request.

To route a request, moto's server asks whether the host names one of its service packages by listing
moto's installation directory and ``isdir``-ing each of its ~250 entries: every request, inside the
dispatcher's lock (~2 ms). The packages do not change while the process runs, so the emulator lists them
once. Then, to find the action's method, it lists the response class's functions with ``inspect.getmembers``
(~4% of the emulator's time in a burst of fires); a class's functions do not change either, so that list
is kept per class.

Installed only by the emulator process (``install``), never at import.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from moto import backends
from moto.core import responses

_moto_modules = backends.list_of_moto_modules
_method_names = responses.method_names_from_class  # type: ignore[attr-defined]

PATCHED: tuple[tuple[object, str], ...] = (  # what install replaces
    (backends, "list_of_moto_modules"),
    (responses, "method_names_from_class"),
)


def install() -> None:
    """List moto's service packages once, and each response class's functions once."""
    names = tuple(_moto_modules())

    def list_of_moto_modules() -> Iterable[str]:
        return names

    backends.list_of_moto_modules = list_of_moto_modules
    # A copy per call: moto's callers get a list they may keep, as from the original.
    cached = functools.cache(lambda clazz: tuple(_method_names(clazz)))
    responses.method_names_from_class = lambda clazz: list(cached(clazz))  # type: ignore[attr-defined]
