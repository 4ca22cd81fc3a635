"""The gateway's static files: the dashboard at /ui/ and a vendored Swagger UI at /docs, never the handler,
never a CDN, never a file outside their folders."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from punctual.dashboard import STATIC_DIR
from punctual.local.fired_events import EventHub
from punctual.local.static_files import SWAGGER_UI_ENV, SWAGGER_UI_FILES, StaticFolder, swagger_ui_dir

from tests.integration.local.test_local_gateway import RecordingApi, serve

TIMEOUT = 10


@pytest.fixture
def api() -> RecordingApi:
    return RecordingApi()


@pytest.fixture
def url(api: RecordingApi) -> Iterator[str]:
    yield from serve(api, EventHub())


def test_the_dashboard_is_served_at_ui_with_its_security_headers(url: str, api: RecordingApi) -> None:
    redirect = requests.get(f"{url}/ui", timeout=TIMEOUT, allow_redirects=False)
    page = requests.get(f"{url}/ui/", timeout=TIMEOUT)

    assert redirect.status_code == 308 and redirect.headers["location"] == "/ui/"
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.text == (STATIC_DIR / "index.html").read_text()
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert api.events == []


def test_every_asset_the_page_references_is_served_from_this_origin(url: str) -> None:
    page = requests.get(f"{url}/ui/", timeout=TIMEOUT).text
    references = re.findall(r'(?:src|href)="([^"]+)"', page)

    assert references, "the page references its script and stylesheet"
    for reference in references:
        assert not reference.startswith(("http:", "https:", "//")), reference
        assert requests.get(f"{url}/ui/{reference}", timeout=TIMEOUT).status_code == 200, reference
    for module in (STATIC_DIR / "js").glob("*.js"):
        for imported in re.findall(r'from "([^"]+)"', module.read_text()):
            assert imported.startswith("./"), f"{module.name} imports {imported}"


def test_every_module_is_preloaded_by_the_page() -> None:
    """The page names every module up front (modulepreload), so imports do not load one level at a time."""
    page = (STATIC_DIR / "index.html").read_text()
    preloaded = set(re.findall(r'rel="modulepreload" href="js/([^"]+)"', page))
    modules = {module.name for module in (STATIC_DIR / "js").glob("*.js")} - {"main.js"}

    assert preloaded == modules


def test_text_assets_are_gzipped_for_clients_that_accept_it(url: str) -> None:
    raw = requests.get(f"{url}/ui/app.css", timeout=TIMEOUT, headers={"accept-encoding": "identity"})
    zipped = requests.get(
        f"{url}/ui/app.css", timeout=TIMEOUT, headers={"accept-encoding": "gzip"}, stream=True
    )

    assert "content-encoding" not in raw.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert gzip.decompress(zipped.raw.read()) == raw.content


@pytest.mark.parametrize(
    "path", ["/ui/nope.js", "/ui/%2e%2e/__init__.py", "/ui/js/%2e%2e/%2e%2e/__init__.py"]
)
def test_missing_or_outside_files_are_404s(url: str, path: str) -> None:
    assert requests.get(f"{url}{path}", timeout=TIMEOUT).status_code == 404


@pytest.mark.parametrize("relative", ["../__init__.py", "js/../../__init__.py", ".hidden", "js//main.js", ""])
def test_a_folder_never_reads_outside_itself_or_hidden_files(relative: str) -> None:
    assert StaticFolder(STATIC_DIR).get(relative) is None


def test_docs_load_swagger_ui_from_this_origin_only(url: str) -> None:
    page = requests.get(f"{url}/docs", timeout=TIMEOUT)

    assert page.status_code == 200
    assert "/openapi.json" in page.text
    assert "unpkg" not in page.text and "https://" not in page.text
    for asset in re.findall(r'(?:src|href)="(/docs/[^"]+)"', page.text):
        answer = requests.get(f"{url}{asset}", timeout=TIMEOUT)
        assert answer.status_code == 200, asset
        expected = (swagger_ui_dir() / asset.removeprefix("/docs/")).read_bytes()
        assert answer.content == expected, asset
    # Only the files the page needs: not the package's other bundles, source maps or package.json.
    assert requests.get(f"{url}/docs/package.json", timeout=TIMEOUT).status_code == 404
    assert requests.get(f"{url}/docs/swagger-ui-bundle.js.map", timeout=TIMEOUT).status_code == 404


def test_docs_explain_how_to_install_swagger_ui_when_it_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(SWAGGER_UI_ENV, str(tmp_path / "absent"))
    with_missing = serve(RecordingApi(), EventHub())
    base = next(with_missing)
    try:
        page = requests.get(f"{base}/docs", timeout=TIMEOUT)
    finally:
        with_missing.close()

    assert page.status_code == 503
    assert "make install" in page.text


def test_an_edited_file_is_served_anew(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text("one")
    folder = StaticFolder(tmp_path, allowed=None)
    first = folder.get("a.js")
    (tmp_path / "a.js").write_text("two, longer")
    second = folder.get("a.js")

    assert first is not None and first.body == b"one"
    assert second is not None and second.body == b"two, longer"


def test_swagger_ui_serves_only_the_files_its_page_needs() -> None:
    assert StaticFolder(STATIC_DIR, allowed=SWAGGER_UI_FILES).get("index.html") is None
