"""The partner feedback page in a real browser (Chromium through Playwright): the API served
by uvicorn on a loopback port, the page opened with the partner's key, the problems of the
rejected records listed. A screenshot goes to test-artifacts/.

Chromium comes from Debian (`chromium`, at /usr/bin/chromium; `.ci/run` installs it). Without
it the test is skipped, except under CI or HUB_REQUIRE_BROWSER=1, where it fails."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from hub.api.app import ApiSettings, create_app
from hub.api.keys import create_key
from hub.models import Rejection
from hub.store.db import make_engine, migrate
from tests.conftest import ROOT
from tests.test_api import courses_data, stage

CHROMIUM = os.environ.get("HUB_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"


def _browser_required() -> bool:
    return bool(os.environ.get("CI") or os.environ.get("HUB_REQUIRE_BROWSER"))


def _need_browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    missing = None
    if sync_playwright is None:
        missing = "playwright is not installed (pip install -e '.[dev]')"
    elif not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)"
    if missing:
        if _browser_required():
            pytest.fail(missing + " (CI requires the browser test to run)")
        pytest.skip(missing)
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(tmp_path):
    """The read API on a loopback port, with a partner delivery that has rejected records."""
    import uvicorn

    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    problems = [
        Rejection(partner_id="vhs-nk", domain="courses", source_id="K-2026-17", rule="COURSE_LEVEL_INVALID",
                  field="cefr_levels", value="A9", message="Sprachniveau ungültig",
                  message_en="invalid level", title="Deutschkurs A9"),
        Rejection(partner_id="vhs-nk", domain="courses", source_id="K-2026-18",
                  rule="ADDRESS_POSTAL_CODE_INVALID", field="address.postal_code", value="6653",
                  message="PLZ ungültig", message_en="invalid postal code", title="Abendkurs B1"),
    ]
    stage(engine, "vhs-nk", "courses", courses_data(), rejections=problems, items=5)
    registry = tmp_path / "registry.yaml"
    registry.write_text("partners:\n  - id: vhs-nk\n    name: Volkshochschule Neunkirchen\n"
                        "    feeds: [{format: csv-courses, source: 'file:///tmp/vhs.csv'}]\n", encoding="utf-8")
    key, _ = create_key(engine, name="vhs", scopes=["feedback"], partner_id="vhs-nk")
    app = create_app(engine, ApiSettings(registry_path=registry))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", key
    finally:
        server.should_exit = True
        thread.join(10)
        engine.dispose()


def test_partner_opens_its_feedback_page_in_a_browser(served):
    sync_playwright = _need_browser()
    base, key = served
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 900})
            page = context.new_page()
            response = page.goto(f"{base}/partners/vhs-nk/feedback?key={key}")
            assert response.status == 200
            assert page.url == f"{base}/partners/vhs-nk/feedback", "the key must leave the address"
            text = page.inner_text("body")
            assert "Volkshochschule Neunkirchen" in text
            for expected in ("COURSE_LEVEL_INVALID", "ADDRESS_POSTAL_CODE_INVALID", "K-2026-17",
                             "K-2026-18", "Deutschkurs A9", "A9"):
                assert expected in text, expected
            assert "<table" not in text and "&lt;" not in text  # markup rendered, not shown
            problem_rows = page.locator("tr.error-row")
            assert problem_rows.count() == 4  # two in the overview by rule, two records
            assert "K-2026-17" in problem_rows.nth(2).inner_text()
            rows = page.locator("#sync-history tr")
            assert rows.count() == 2  # the header and one delivery
            assert "5" in rows.nth(1).inner_text()
            page.screenshot(path=str(ARTIFACTS / "feedback_page.png"), full_page=True)

            # the CSV for a spreadsheet: a download, with the cookie as the key
            with page.expect_download() as download:
                page.click("#downloads a >> nth=0")
            saved = Path(download.value.path()).read_bytes().decode("utf-8-sig")
            assert download.value.suggested_filename == "feedback-vhs-nk-courses.csv"
            assert "K-2026-17" in saved and "COURSE_LEVEL_INVALID" in saved

            page.reload()  # the cookie keeps the partner signed in
            assert "COURSE_LEVEL_INVALID" in page.inner_text("body")

            # a new browser without the key: the sign-in form, then the page
            fresh = browser.new_context().new_page()
            first = fresh.goto(f"{base}/partners/vhs-nk/feedback?lang=en")
            assert first.status == 401
            fresh.fill("#key", key)
            with fresh.expect_navigation():
                fresh.click("button[type=submit]")
            assert "key=" not in fresh.url and "lang=en" in fresh.url
            assert "Your latest deliveries" in fresh.inner_text("body")
            assert "COURSE_LEVEL_INVALID" in fresh.inner_text("body")
        finally:
            browser.close()
    assert (ARTIFACTS / "feedback_page.png").stat().st_size > 10_000
