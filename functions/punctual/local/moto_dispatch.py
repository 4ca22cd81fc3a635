"""moto's request dispatch for the emulator without a directory listing per request.

To route a request, moto's server asks whether the host names one of its service packages by listing
moto's installation directory and ``isdir``-ing each of its ~250 entries: every request, inside the
dispatcher's lock (~2 ms). The packages do not change while the process runs, so the emulator lists them
once.

Installed only by the emulator process (``install``), never at import.
"""

from __future__ import annotations

from collections.abc import Iterable

from moto import backends

_moto_modules = backends.list_of_moto_modules


PATCHED: tuple[tuple[object, str], ...] = ((backends, "list_of_moto_modules"),)  # what install replaces


def install() -> None:
    """List moto's service packages once; the dispatcher then reads that list."""
    names = tuple(_moto_modules())

    def list_of_moto_modules() -> Iterable[str]:
        return names

    backends.list_of_moto_modules = list_of_moto_modules
