"""One ``punctual dev`` per test session (per xdist worker), on free ports, stopped at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.harness import DevProcess, running_dev

# Local Lambda targets for tests/e2e/test_dev_targets.py.
TARGET_FUNCTIONS = (
    "--function",
    "sleepy=tests.e2e.target_functions:sleep_200ms",
    "--function",
    "slow=tests.e2e.target_functions:sleep_12s",
    "--function",
    "explode=tests.e2e.target_functions:explode",
)


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    # Jitter off for speed; the sweeper every second so it runs during the session; handler logs at INFO.
    args = ("--no-jitter", "--seed", "1", "--sweep-interval", "1", "--log-level", "INFO", *TARGET_FUNCTIONS)
    with running_dev(tmp_path_factory.mktemp("dev"), *args) as process:
        yield process
