"""`floorwatch demo` end to end: a real subprocess on embedded defaults (amqtt broker, collector,
SQLite file, simulator, analytics, uvicorn), used over real HTTP and by a real browser, then
stopped with SIGINT.

The tests of this module share one demo run (the expensive part) and run in file order: the
last one stops it with Ctrl-C and checks the shutdown.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

START = "2026-10-01"  # the installations' first day: October gets scorecards
DAYS = 3
PERIOD = "2026-10"
READY_TIMEOUT_S = 240.0  # about 20 s on a quiet 2-core machine; generous for a loaded one
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningDemo:
    process: subprocess.Popen[str]
    folder: Path
    url: str
    lines: list[str] = field(default_factory=list)
    key: str = ""
    report: Path | None = None
    exit_code: int | None = None

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not any(text in line for line in self.lines):
            if self.process.poll() is not None:
                time.sleep(0.5)  # let the reader thread collect the last lines
                pytest.fail(f"the demo exited ({self.process.returncode}):\n{self.output}")
            if time.monotonic() > deadline:
                pytest.fail(f"no {text!r} line within {timeout_s:.0f} s:\n{self.output}")
            time.sleep(0.2)

    def interrupt(self, timeout_s: float = 60.0) -> int:
        """Ctrl-C (SIGINT); returns the exit code. Idempotent."""
        if self.exit_code is None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
            try:
                self.exit_code = self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                self.exit_code = -9
        return self.exit_code


def start_demo(
    workdir: Path, start: str, days: int, **env: str
) -> tuple[RunningDemo, threading.Thread]:
    """`floorwatch demo` in a subprocess in `workdir` (FLOORWATCH_* only as given), with a
    thread collecting its output."""
    port = _free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("FLOORWATCH_")}
    environment |= {"COLUMNS": "160", **env}
    command = [sys.executable, "-m", "floorwatch", "demo", "--start", start, "--days", str(days)]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--dir", "demo"],
        cwd=workdir,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = RunningDemo(process, workdir / "demo", f"http://127.0.0.1:{port}")

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            running.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    return running, reader


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    running, reader = start_demo(tmp_path_factory.mktemp("demo-run"), START, DAYS)
    try:
        running.wait_for("ready", READY_TIMEOUT_S)
        key = re.search(r"admin key\s+(fwk_\S+)", running.output)
        report = re.search(r"report\s+(/\S+\.html)", running.output)
        assert key and report, running.output
        running.key, running.report = key.group(1), Path(report.group(1))
        yield running
    finally:
        running.interrupt()
        reader.join(timeout=10)


def test_demo_prints_where_to_look(demo: RunningDemo) -> None:
    assert f"{demo.url}/docs" in demo.output
    assert demo.report is not None and demo.report.is_file()
    assert demo.report.name == f"report-{PERIOD}.html"
    assert re.search(r"scored\s+2026-10: 12 scorecards", demo.output), demo.output


def test_report_and_scorecard_through_the_api_with_the_printed_key(demo: RunningDemo) -> None:
    auth = {"Authorization": f"Bearer {demo.key}"}
    with httpx.Client(base_url=demo.url, timeout=30) as client:
        assert client.get(f"/api/v1/reports/{PERIOD}").status_code == 401  # a key is needed
        report = client.get(f"/api/v1/reports/{PERIOD}", headers=auth)
        assert report.status_code == 200
        assert report.headers["content-type"].startswith("text/html")
        assert "<img" in report.text and "data:image/png;base64," in report.text

        cards = client.get("/api/v1/scorecards", params={"period": PERIOD}, headers=auth)
        assert cards.status_code == 200
        listed = cards.json()
        assert len(listed) == 12  # the pilot's twelve installations of 2026-10-01
        installation = listed[0]["installation"]
        card = client.get(f"/api/v1/scorecards/{installation}/{PERIOD}", headers=auth)
        assert card.status_code == 200
        scorecard = card.json()
        assert scorecard["installation"] == installation and scorecard["period"] == PERIOD
        assert set(scorecard["document"]["kpis"]) >= {"dry_time_share", "data_availability"}

        state = client.get("/api/v1/state", headers=auth)  # live state from the ingested data
        assert state.status_code == 200 and state.json()


def test_report_and_docs_render_in_a_real_browser_without_errors(
    demo: RunningDemo, tmp_path: Path
) -> None:
    from playwright.sync_api import ConsoleMessage, sync_playwright

    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(
                viewport={"width": 1280, "height": 900},
                locale="sv-SE",  # a Swedish browser: Accept-Language sv-SE
                extra_http_headers={"Authorization": f"Bearer {demo.key}"},
            )
            page = context.new_page()
            page.on("console", on_console)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            failed: list[str] = []
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.on(
                "response",
                lambda response: (
                    failed.append(f"{response.status} {response.url}")
                    if response.status >= 400
                    else None
                ),
            )

            response = page.goto(f"{demo.url}/api/v1/reports/{PERIOD}", wait_until="load")
            assert response is not None and response.status == 200
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])"
            )
            assert len(images) >= 3, "the report's charts"
            assert all(done and width > 0 and height > 0 for done, width, height in images)
            assert PERIOD in page.title() + page.inner_text("body")
            assert page.get_attribute("html", "lang") == "sv"
            assert "Rangordning" in page.inner_text("body")
            page.screenshot(path=str(tmp_path / "report.png"), full_page=True)

            response = page.goto(f"{demo.url}/docs", wait_until="load")
            assert response is not None and response.status == 200
            # the offline docs page: every operation listed, nothing fetched from elsewhere
            assert page.locator(".op").count() >= 20
            assert "/api/v1/scorecards/{installation_id}/{period}" in page.inner_text("body")
            assert (
                page.eval_on_selector_all(
                    "script[src], link[href][rel=stylesheet]", "els => els.length"
                )
                == 0
            )
            page.screenshot(path=str(tmp_path / "docs.png"), full_page=False)
        finally:
            browser.close()
    assert failed == [], failed
    assert errors == [], errors
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_the_demos_report_opens_in_swedish(demo: RunningDemo) -> None:
    assert demo.report is not None
    text = demo.report.read_text()
    assert '<html lang="sv">' in text
    assert f"Rena och torra entréer — rapport {PERIOD}" in text and "Rangordning" in text
    assert "League table" not in text
    # the same report in English beside it, for the API to serve to those who ask
    english = demo.report.with_name(f"report-{PERIOD}.en.html").read_text()
    assert '<html lang="en">' in english and "League table" in english


def _chart_pages(pdf: Path) -> tuple[int, dict[str, list[int]], list[str]]:
    """(pages, image digest -> the pages it is drawn on, each page's text)."""
    import hashlib

    from pypdf import PdfReader

    reader = PdfReader(pdf)
    drawn: dict[str, list[int]] = {}
    texts = []
    for number, page in enumerate(reader.pages, start=1):
        texts.append(page.extract_text() or "")
        for image in page.images:
            digest = hashlib.sha256(image.data).hexdigest()
            drawn.setdefault(digest, []).append(number)
    return len(reader.pages), drawn, texts


def test_the_report_prints_to_a4_with_every_chart_whole(demo: RunningDemo, tmp_path: Path) -> None:
    """Printed by headless Chromium as a browser prints it (the print stylesheet, A4): a page
    per supplier, no chart cut across two pages, the reproducibility block on the last page
    alone. A chart cut by a page break is drawn on both pages: each must be on one."""
    from playwright.sync_api import sync_playwright

    assert demo.report is not None
    pdf, control = tmp_path / "report.pdf", tmp_path / "control.pdf"
    # The control: the first chart taller than a page, the stylesheet's cap removed; Chromium
    # then slices it over two pages, and the check below must see that.
    tall = demo.report.read_text().replace("max-height: 235mm;", "")
    tall = tall.replace("<img alt=", "<img style='height:330mm;width:auto' alt=", 1)
    (tmp_path / "tall.html").write_text(tall)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page()
            page.goto(demo.report.as_uri(), wait_until="load")
            charts = page.locator("figure.chart img").count()
            suppliers = page.locator("section.supplier h3").all_inner_texts()
            page.pdf(path=str(pdf), prefer_css_page_size=True)
            page.goto((tmp_path / "tall.html").as_uri(), wait_until="load")
            page.pdf(path=str(control), prefer_css_page_size=True)
        finally:
            browser.close()
    _, control_drawn, _ = _chart_pages(control)
    assert [len(where) for where in control_drawn.values()].count(2) == 1, control_drawn
    pages, drawn, texts = _chart_pages(pdf)
    assert charts >= 3 and sorted(suppliers) == ["entre-ren", "skrapzon", "torrgolv"]
    assert len(drawn) == charts, "every chart printed"
    cut = {digest[:8]: where for digest, where in drawn.items() if len(where) > 1}
    assert not cut, f"charts cut across pages: {cut}"
    # title and league table, a page or more per supplier, rain, data quality and method,
    # reproducibility: at least 7 pages; a report of 12 installations fits in 20
    assert 7 <= pages <= 20, pages
    # each supplier starts a page (the first under the chapter's heading)
    tops = [re.sub(r"^\s*Leverantörer och installationer\s*", "", t).lstrip() for t in texts]
    starts = [next((n for n, t in enumerate(tops) if t.startswith(s)), None) for s in suppliers]
    assert None not in starts and len(set(starts)) == 3, (starts, [t[:60] for t in texts])
    assert texts[-1].lstrip().startswith("Reproducerbarhet")
    assert "Registrets kontrollsumma" in texts[-1] and "Metod" not in texts[-1]
    assert any("Metod" in text for text in texts[:-1])
    print(f"report: {pages} A4 pages, {charts} charts")


def test_ctrl_c_stops_everything_cleanly(demo: RunningDemo) -> None:
    assert demo.interrupt() == 0, demo.output
    time.sleep(0.2)
    assert "Traceback" not in demo.output
    assert "stopped cleanly" in demo.output
    store = demo.folder / "floorwatch.db"
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        readings = conn.execute("SELECT count(*) FROM readings").fetchone()[0]
        scorecards = conn.execute(
            "SELECT count(*) FROM points WHERE measurement = 'scorecard'"
        ).fetchone()[0]
    assert readings > 80_000 and scorecards == 12


def test_ctrl_c_while_ingesting_stops_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOORWATCH_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "floorwatch",
            "demo",
            "--start",
            START,
            "--days",
            "5",
            "--port",
            str(_free_port()),
            "--dir",
            "demo",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:  # the season line comes just before publishing starts
        lines.append(line)
        if "season" in line:
            break
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    try:
        rest, _ = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail("the demo did not stop within 60 s of Ctrl-C")
    output = "".join(lines) + rest
    assert process.returncode == 0, output
    assert "interrupted: stopping" in output and "Traceback" not in output
    assert "ready" not in output
    with sqlite3.connect(tmp_path / "demo" / "floorwatch.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
