"""Local bundling without Docker: uv.lock exported with hashes, pip's isolated cross-platform install of
exactly that list, pruning, caching; no network here."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import DockerImage

from infra import bundling
from infra.bundling import (
    PACKAGE,
    PIP_TARGET_FLAGS,
    PYPROJECT,
    LocalPipBundling,
    docker_command,
    locked_requirements,
    pip_environment,
    runtime_requirements,
)

REQUIREMENTS = (
    "croniter==7.0.0 \\\n    --hash=sha256:" + "a" * 64 + "\n"
    "pydantic==2.13.4 \\\n    --hash=sha256:" + "b" * 64 + "\n"
)


class FakePip:
    """Records pip invocations and 'installs' a few packages into --target."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.environments: list[dict[str, str]] = []
        self.requirement_files: list[str] = []

    def __call__(self, args: list[str], *, check: bool, env: dict[str, str]) -> None:
        assert check
        self.calls.append(args)
        self.environments.append(env)
        self.requirement_files.append(Path(args[args.index("--requirement") + 1]).read_text())
        target = Path(args[args.index("--target") + 1])
        for name in ("croniter", "pydantic", "botocore", "boto3", "bin"):
            (target / name).mkdir()
            (target / name / "__init__.py").write_text("")
        (target / "botocore-1.44.0.dist-info").mkdir()
        (target / "croniter-7.0.0.dist-info").mkdir()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    package = tmp_path / "functions" / PACKAGE
    for sub in ("domain", "local", "__pycache__"):
        (package / sub).mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "domain" / "model.py").write_text("MODEL = 1\n")
    (package / "local" / "cli.py").write_text("")
    (package / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"")
    return tmp_path / "functions"


def _bundle(bundler: LocalPipBundling, output: Path) -> bool:
    output.mkdir()
    options: Any = {"image": DockerImage.from_registry("unused")}
    return bundler.try_bundle(str(output), options)


def test_requirements_are_pyprojects_runtime_dependencies() -> None:
    with PYPROJECT.open("rb") as handle:
        declared = tomllib.load(handle)["project"]["dependencies"]
    requirements = runtime_requirements()
    assert requirements == declared
    names = {requirement.split("==")[0].split("[")[0] for requirement in requirements}
    assert {"aws-lambda-powertools", "pydantic", "tzdata"} <= names
    assert "boto3" not in names  # the Lambda runtime provides it


def test_installs_arm64_cpython_312_wheels_and_copies_the_package(source: Path, tmp_path: Path) -> None:
    pip = FakePip()
    bundler = LocalPipBundling(
        REQUIREMENTS, source_dir=source, cache_dir=tmp_path / "cache", pip=["pip"], run=pip
    )
    output = tmp_path / "out"

    assert _bundle(bundler, output) is True

    [call] = pip.calls
    assert call[:2] == ["pip", "install"]
    assert pip.requirement_files == [REQUIREMENTS]  # the locked list, as exported
    flags = " ".join(call)
    assert " ".join(PIP_TARGET_FLAGS) in flags
    assert "--platform manylinux2014_aarch64" in flags and "--python-version 3.12" in flags
    assert "--only-binary=:all:" in flags and "--implementation cp" in flags
    assert (output / "croniter").is_dir() and (output / "pydantic").is_dir()
    assert (output / PACKAGE / "domain" / "model.py").read_text() == "MODEL = 1\n"


def test_prunes_what_the_runtime_provides_and_what_lambda_never_runs(source: Path, tmp_path: Path) -> None:
    bundler = LocalPipBundling(
        REQUIREMENTS, source_dir=source, cache_dir=tmp_path / "cache", pip=["pip"], run=FakePip()
    )
    output = tmp_path / "out"
    _bundle(bundler, output)
    shipped = {path.name for path in output.iterdir()}
    assert not {"boto3", "botocore", "botocore-1.44.0.dist-info", "bin"} & shipped
    assert not (output / PACKAGE / "local").exists()  # punctual dev only
    assert not (output / PACKAGE / "__pycache__").exists()


def test_installed_requirements_are_cached(source: Path, tmp_path: Path) -> None:
    pip = FakePip()
    cache = tmp_path / "cache"
    first = LocalPipBundling(REQUIREMENTS, source_dir=source, cache_dir=cache, pip=["pip"], run=pip)
    _bundle(first, tmp_path / "out1")
    _bundle(first, tmp_path / "out2")
    assert len(pip.calls) == 1
    assert (tmp_path / "out2" / "croniter").is_dir()

    changed = LocalPipBundling(
        REQUIREMENTS.replace("7.0.0", "7.0.1"), source_dir=source, cache_dir=cache, pip=["pip"], run=pip
    )
    _bundle(changed, tmp_path / "out3")
    assert len(pip.calls) == 2
    assert not [p for p in cache.iterdir() if p.name.startswith("staging-")]


def test_a_failed_install_leaves_no_cache_entry(source: Path, tmp_path: Path) -> None:
    def failing(args: list[str], *, check: bool, env: dict[str, str]) -> None:
        raise RuntimeError("no network")

    cache = tmp_path / "cache"
    bundler = LocalPipBundling(REQUIREMENTS, source_dir=source, cache_dir=cache, pip=["pip"], run=failing)
    with pytest.raises(RuntimeError):
        _bundle(bundler, tmp_path / "out")
    assert [p.name for p in cache.iterdir()] == []


def test_without_pip_cdk_falls_back_to_docker(
    source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundling, "_find_pip", lambda: None)  # a machine with no pip at all
    bundler = LocalPipBundling(REQUIREMENTS, source_dir=source, cache_dir=tmp_path / "cache", run=FakePip())
    assert _bundle(bundler, tmp_path / "out") is False


def test_docker_command_carries_the_requirements() -> None:
    # The command is part of the asset's source hash: a changed requirement must change it.
    assert docker_command(REQUIREMENTS) != docker_command(REQUIREMENTS.replace("7.0.0", "7.0.1"))
    script = docker_command(REQUIREMENTS)[-1]
    assert "croniter==7.0.0" in script and "--hash=sha256:" + "a" * 64 in script and "rm -rf" in script
    assert "PIP_CONFIG_FILE=/dev/null pip install --isolated --require-hashes --no-deps" in script


def test_pip_installs_the_locked_list_only_with_hashes_and_isolated(source: Path, tmp_path: Path) -> None:
    pip = FakePip()
    bundler = LocalPipBundling(
        REQUIREMENTS, source_dir=source, cache_dir=tmp_path / "cache", pip=["pip"], run=pip
    )
    _bundle(bundler, tmp_path / "out")
    [call] = pip.calls
    assert {"--isolated", "--require-hashes", "--no-deps"} <= set(call)
    [environment] = pip.environments
    assert environment["PIP_CONFIG_FILE"] == os.devnull


def test_pip_environment_drops_the_machines_pip_settings() -> None:
    environment = pip_environment({"PATH": "/bin", "PIP_INDEX_URL": "https://mirror.example", "pip_x": "1"})
    assert environment == {"PATH": "/bin", "PIP_CONFIG_FILE": os.devnull}


def test_the_lock_export_pins_every_runtime_dependency_with_hashes() -> None:
    """The real uv.lock, exported by the pinned uv (no network: --frozen reads the lock only)."""
    exported = locked_requirements()
    pins = dict(
        line.split(" ")[0].split("==") for line in exported.splitlines() if line and not line.startswith(" ")
    )
    declared = {re.split(r"[<>=\[; ]", requirement)[0].lower() for requirement in runtime_requirements()}
    assert declared <= set(pins)  # every direct dependency, pinned
    assert len(pins) > len(declared)  # and the indirect ones (pydantic-core, typing-extensions, ...)
    assert "boto3" not in pins and "pytest" not in pins  # no dev dependency
    hashed = [line for line in exported.splitlines() if line.strip().startswith("--hash=sha256:")]
    assert len(hashed) >= len(pins)


def test_the_lock_export_command_is_frozen_and_runtime_only() -> None:
    calls: list[list[str]] = []

    class Result:
        stdout = "x==1 \\\n    --hash=sha256:00\n"

    def run(args: list[str], **kwargs: Any) -> Result:
        calls.append(args)
        assert kwargs["check"] is True
        return Result()

    assert locked_requirements("uv", run=run) == Result.stdout
    [call] = calls
    assert call[:2] == ["uv", "export"]
    assert {"--frozen", "--no-dev", "--no-emit-project"} <= set(call)
    assert "--no-hashes" not in call
