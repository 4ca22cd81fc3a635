"""What a stage lets tasks call: its Lambda allow-list, and HTTPS hosts outside punctual's own network.

Checked at create/PATCH (a 422 naming the field) and again by the runner just before each call, so a name
that resolved to a public address at create and to 169.254.169.254 later (DNS rebinding) is still refused.
"""

from __future__ import annotations

import fnmatch
from urllib.parse import urlsplit

from punctual.domain import address_safety
from punctual.domain.errors import ErrorDetail, UnprocessableError
from punctual.domain.targets import Target, TargetType
from punctual.service.ports import HostResolver
from punctual.service.settings import ServiceSettings


class TargetPolicy:
    def __init__(self, settings: ServiceSettings, resolver: HostResolver) -> None:
        self._settings, self._resolver = settings, resolver

    def function_arn(self, function: str) -> str:
        """A bare name as the stage's ARN; an ARN as given (with any qualifier)."""
        return function if function.startswith("arn:") else self._settings.lambda_arn_prefix + function

    def check(self, target: Target) -> None:
        """Raise 422 unless the stage allows this target."""
        if target.type is TargetType.LAMBDA:
            assert target.function is not None
            arn = self.function_arn(target.function)
            if not any(fnmatch.fnmatchcase(arn, pattern) for pattern in self._settings.lambda_targets):
                raise UnprocessableError(
                    f"this stage does not allow calling {target.function}",
                    [ErrorDetail("target.function", "not in the stage's lambda_targets")],
                )
        elif target.type is TargetType.HTTPS:
            assert target.url is not None
            reason = self.url_refusal(target.url)
            if reason is not None:
                raise UnprocessableError(
                    f"this stage does not allow calling {target.url}: {reason}",
                    [ErrorDetail("target.url", reason)],
                )

    def url_refusal(self, url: str) -> str | None:
        """Why ``url`` may not be called now, or None. Every address its host resolves to must be allowed."""
        return self.checked_addresses(url)[1]

    def checked_addresses(self, url: str) -> tuple[list[str], str | None]:
        """The host's addresses, resolved once, and why they may not be called (None: they may). The caller
        connects to one of these very addresses, so a later DNS answer cannot change where the call goes."""
        parts = urlsplit(url)
        insecure = self._settings.allow_insecure_targets
        if parts.scheme != "https" and not insecure:
            return [], "only https:// URLs are allowed on this stage"
        host = parts.hostname or ""
        try:
            addresses = self._resolver.addresses(host)
        except Exception:
            return [], f"could not resolve {host}"
        if not addresses:
            return [], f"{host} does not resolve"
        for address in addresses:
            reason = address_safety.refusal(address, allow_loopback=insecure)
            if reason is not None:
                return addresses, f"{host}: {reason}"
        return addresses, None
