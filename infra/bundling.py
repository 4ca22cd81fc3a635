"""The Lambda asset: the ``punctual`` package plus its runtime dependencies, built without Docker.

The dependencies are exactly what ``uv.lock`` pins for pyproject's ``[project] dependencies``: ``uv export``
writes them, indirect ones included, each with its hashes, and pip installs that list as it is
(``--require-hashes --no-deps``: nothing resolved afresh, nothing unverified) as arm64 / CPython 3.12
wheels by its cross-platform mode. pip runs isolated from the machine (``--isolated``, and
``PIP_CONFIG_FILE=/dev/null`` so that no pip.conf, user or global, can add an index or change an option).
An installed set is cached under ``.bundle-cache/`` keyed by the locked list, so only a change of the lock
runs pip again; CDK itself skips bundling when ``cdk.out`` already holds an asset with the same source hash.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = PROJECT_ROOT / "pyproject.toml"
FUNCTIONS_DIR = PROJECT_ROOT / "functions"
CACHE_DIR = PROJECT_ROOT / ".bundle-cache"
PACKAGE = "punctual"

RUNTIME = lambda_.Runtime.PYTHON_3_12
ARCHITECTURE = lambda_.Architecture.ARM_64
UV_EXPORT = (
    "export",
    "--frozen",  # the lock as committed: fails rather than re-resolving if pyproject changed without it
    "--no-dev",
    "--no-emit-project",
    "--no-emit-workspace",
    "--no-header",
    "--no-annotate",
    "--format",
    "requirements-txt",
)
# Each locked requirement, exactly: hashes checked, no dependency resolution, no machine-wide pip config.
PIP_LOCKED_FLAGS = ("--isolated", "--require-hashes", "--no-deps")
PIP_TARGET_FLAGS = (
    "--platform",
    "manylinux2014_aarch64",
    "--implementation",
    "cp",
    "--python-version",
    "3.12",
    "--only-binary=:all:",
)
# Removed after pip: the Lambda runtime ships boto3 and what it needs (a bundled copy would shadow the
# runtime's matching set and add tens of MB; aws-xray-sdk pulls botocore in), and console scripts in bin/
# are never run.
PRUNED = ("bin", "boto3", "botocore", "s3transfer", "jmespath")
# Not part of any Lambda: ``punctual dev`` only (with dependencies the asset does not carry), and the
# dashboard's static files (served by CloudFront on a stage).
SUBPACKAGES_NOT_SHIPPED = ("local", "dashboard")
# What never belongs in the asset (also keeps the source hash stable across local runs).
ASSET_EXCLUDES = ["**/__pycache__", "**/*.pyc", ".mypy_cache", ".pytest_cache", ".ruff_cache"]

Runner = Callable[..., Any]


def runtime_requirements(pyproject: Path = PYPROJECT) -> list[str]:
    """pyproject's ``[project] dependencies``: what the functions import at run time."""
    with pyproject.open("rb") as handle:
        dependencies = tomllib.load(handle)["project"]["dependencies"]
    return [str(requirement) for requirement in dependencies]


def _find_uv() -> str:
    """The pinned uv ``make install`` puts in .tools/, else one on PATH."""
    tools_uv = PROJECT_ROOT / ".tools" / "bin" / "uv"
    if tools_uv.exists():
        return str(tools_uv)
    found = shutil.which("uv")
    if found is None:
        raise RuntimeError("bundling needs uv to export uv.lock: run `make install` first")
    return found


def locked_requirements(uv: str | None = None, *, run: Runner = subprocess.run) -> str:
    """The runtime dependencies as uv.lock pins them, indirect ones included, one ``name==version`` with its
    ``--hash`` lines each (a requirements file)."""
    result = run([uv or _find_uv(), *UV_EXPORT], cwd=PROJECT_ROOT, check=True, capture_output=True, text=True)
    return str(result.stdout)


def pip_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment pip runs in: no PIP_* variable of the machine, and no configuration file at all."""
    source = os.environ if environ is None else environ
    clean = {key: value for key, value in source.items() if not key.upper().startswith("PIP_")}
    return {**clean, "PIP_CONFIG_FILE": os.devnull}


def _find_pip() -> list[str] | None:
    """pip for the cross-platform install. The uv-managed .venv has none; ``make install`` puts one in
    .tools/. Any pip works: the target interpreter is given explicitly."""
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    tools_pip = PROJECT_ROOT / ".tools" / "bin" / "pip"
    if tools_pip.exists():
        return [str(tools_pip)]
    found = shutil.which("pip3") or shutil.which("pip")
    return [found] if found else None


def _prune(site_dir: Path) -> None:
    for name in PRUNED:
        for path in [site_dir / name, *site_dir.glob(f"{name}-*.dist-info")]:
            shutil.rmtree(path, ignore_errors=True)


@jsii.implements(ILocalBundling)
class LocalPipBundling:
    """CDK's local bundling hook: returning False would make CDK fall back to Docker."""

    def __init__(
        self,
        requirements: str,
        *,
        source_dir: Path = FUNCTIONS_DIR,
        cache_dir: Path = CACHE_DIR,
        pip: Sequence[str] | None = None,
        run: Runner = subprocess.run,
    ) -> None:
        self._requirements = requirements  # the locked requirements file's text
        self._source_dir = source_dir
        self._cache_dir = cache_dir
        self._pip = list(pip) if pip is not None else _find_pip()
        self._run = run

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        if self._pip is None:
            return False
        output = Path(output_dir)
        shutil.copytree(self._dependencies(self._pip), output, dirs_exist_ok=True)
        shutil.copytree(
            self._source_dir / PACKAGE,
            output / PACKAGE,
            dirs_exist_ok=True,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", *SUBPACKAGES_NOT_SHIPPED),
        )
        return True

    def _dependencies(self, pip: list[str]) -> Path:
        """The installed requirements for the Lambda platform, from the cache or installed into it once."""
        key = hashlib.sha256(
            "\n".join([*PIP_LOCKED_FLAGS, *PIP_TARGET_FLAGS, *PRUNED, self._requirements]).encode()
        )
        installed = self._cache_dir / f"site-{key.hexdigest()[:16]}"
        if installed.is_dir():
            return installed
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        # Install beside the final place and rename: an interrupted or concurrent synth never sees half a set.
        staging = Path(tempfile.mkdtemp(prefix="staging-", dir=self._cache_dir))
        requirements_file = staging.with_suffix(".txt")
        try:
            requirements_file.write_text(self._requirements)
            self._run(
                [
                    *pip,
                    "install",
                    "-qq",  # errors only
                    *PIP_LOCKED_FLAGS,
                    "--disable-pip-version-check",
                    "--no-warn-conflicts",  # the target dir is checked against pip's own environment
                    "--no-compile",
                    *PIP_TARGET_FLAGS,
                    "--cache-dir",
                    str(self._cache_dir / "pip"),
                    "--target",
                    str(staging),
                    "--requirement",
                    str(requirements_file),
                ],
                check=True,
                env=pip_environment(),
            )
            _prune(staging)
            try:
                staging.rename(installed)
            except OSError:
                if not installed.is_dir():  # lost a race to an identical install, which is fine
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            requirements_file.unlink(missing_ok=True)
        return installed


def docker_command(requirements: str) -> list[str]:
    """The same build inside the SAM image, for machines where local bundling is unavailable. It is also
    part of the asset's source hash, so changing the lock re-bundles."""
    prune = " ".join(f"/asset-output/{name} /asset-output/{name}-*.dist-info" for name in PRUNED)
    script = " && ".join(
        [
            f"printf '%s' {shlex.quote(requirements)} > /tmp/requirements.txt",
            f"PIP_CONFIG_FILE=/dev/null pip install {' '.join(PIP_LOCKED_FLAGS)} --no-compile "
            "--target /asset-output --requirement /tmp/requirements.txt",
            f"rm -rf {prune}",
            f"cp -r {PACKAGE} /asset-output/",
            *(f"rm -rf /asset-output/{PACKAGE}/{name}" for name in SUBPACKAGES_NOT_SHIPPED),
        ]
    )
    return ["bash", "-c", script]


def lambda_code(requirements: str | None = None) -> lambda_.Code:
    """One asset for the three functions; ``requirements`` (a locked requirements file) defaults to uv.lock's."""
    requirements = requirements if requirements is not None else locked_requirements()
    image: DockerImage = RUNTIME.bundling_image
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        exclude=ASSET_EXCLUDES,
        bundling=BundlingOptions(
            image=image,
            platform="linux/arm64",
            command=docker_command(requirements),
            # jsii calls try_bundle(output_dir, options) with the options struct as one positional argument,
            # which the generated (keyword-lifted) ILocalBundling stub does not express.
            local=cast(ILocalBundling, LocalPipBundling(requirements)),
        ),
    )
