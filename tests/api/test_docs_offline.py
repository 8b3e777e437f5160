"""/docs and /redoc work without internet: every script, style and icon they reference is served by the
service itself (a lab network with no route to a CDN still gets working API pages)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

pytestmark = pytest.mark.e2e


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.refs.append(value)


def _refs(html: str) -> list[str]:
    parser = _Refs()
    parser.feed(html)
    return parser.refs


@pytest.mark.parametrize("page, kinds", [("/docs", {".js", ".css", ".png"}), ("/redoc", {".js", ".png"})])
def test_doc_pages_reference_only_assets_the_service_serves(service, page, kinds):
    resp = httpx.get(service.url + page, timeout=10)
    assert resp.status_code == 200 and "text/html" in resp.headers["content-type"]
    html = resp.text
    # No external URL anywhere in the page: not in a tag, not in the inline script (fonts, CDN, favicon).
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.I), re.findall(r"\S*//\S+", html)
    refs = _refs(html)
    assert {ref[ref.rfind("."):] for ref in refs} >= kinds, refs
    for ref in refs:
        assert ref.startswith("/"), ref
        asset = httpx.get(service.url + ref, timeout=10)
        assert asset.status_code == 200, ref
        assert len(asset.content) > 1000, ref
    # the page loads the OpenAPI document from the service too
    assert "/openapi.json" in html
    assert httpx.get(service.url + "/openapi.json", timeout=10).json()["info"]["title"] == "RoboCortex"


def test_swagger_bundle_is_the_real_script(service):
    js = httpx.get(service.url + "/docs-assets/swagger-ui-bundle.js", timeout=10)
    assert "javascript" in js.headers["content-type"]
    assert "SwaggerUIBundle" in js.text
    redoc = httpx.get(service.url + "/docs-assets/redoc.standalone.js", timeout=10)
    assert "Redoc" in redoc.text
