"""``punctual dev --resolve NAME=IP`` (as curl's): host names answered locally before the system resolver,
so a target's host can be pointed anywhere without DNS, e.g. to try the stage's address checks."""

from __future__ import annotations

from punctual.adapters.host_resolver import SocketResolver


def parse_override(spec: str) -> tuple[str, str]:
    name, _, address = spec.partition("=")
    if not name.strip() or not address.strip():
        raise ValueError(f"--resolve {spec!r}: expected NAME=IP")
    return name.strip().lower(), address.strip()


class OverridingResolver:
    def __init__(self, overrides: dict[str, list[str]]) -> None:
        self._overrides = overrides
        self._system = SocketResolver()

    def addresses(self, host: str) -> list[str]:
        return list(self._overrides.get(host.lower(), [])) or self._system.addresses(host)
