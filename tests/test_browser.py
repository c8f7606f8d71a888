"""End to end in a real headless Chromium: sign in, upload a pack, review by keyboard, undo, export."""

from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery"
PACK = (
    "aldershire-annual-plan-monitoring-q2-2008-09.docx",
    "aldershire-annual-plan-monitoring-q2-2009-10.pdf",
    "aldershire-cc-cabinet-2010-12-20.pdf",
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.fail(
            "Chromium is expected at /usr/bin/chromium; run scripts/setup.sh", pytrace=False
        )
    env = {
        **os.environ,
        "COUNCILREG_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        "COUNCILREG_SECRET_KEY": "browser-test-secret-key-" + "x" * 20,
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    command = [sys.executable, "-m", "ingest.cli"]
    subprocess.run(
        [*command, "users", "add", "ada", "--role", "admin", "--password", PASSWORD],
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [*command, "review", "--port", str(port)], env=env, cwd=ROOT, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture
def page() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        context = browser.new_context(
            accept_downloads=True, viewport={"width": 1400, "height": 1000}
        )
        yield context.new_page()
        context.close()
        browser.close()


def _pack(corpus: Path, folder: Path) -> Path:
    path = folder / "committee-pack.zip"
    with zipfile.ZipFile(path, "w") as pack:
        for name in PACK:
            pack.write(corpus / name, f"pack/{name}")
    return path


def test_sign_in_upload_review_by_keyboard_undo_and_export(
    server: str, page: Page, corpus: Path, tmp_path: Path
) -> None:
    page.goto(f"{server}/queue")
    expect(page).to_have_url(f"{server}/login?next=/queue")
    page.fill("input[name=name]", "ada")
    page.fill("input[name=password]", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_contain_text("Review queue")

    page.goto(f"{server}/upload")
    page.set_input_files("input[name=files]", str(_pack(corpus, tmp_path)))
    page.click("#upload button[type=submit]")
    expect(page.locator("#job-state")).to_have_text("finished", timeout=120_000)
    expect(page.locator("#files")).to_contain_text("pack/aldershire-cc-cabinet-2010-12-20.pdf")
    expect(page.locator("#matched")).to_contain_text("pending review")

    page.goto(f"{server}/queue")
    page.keyboard.press("n")  # start reviewing: the POST claims the first pending match
    page.wait_for_load_state("networkidle")
    expect(page.locator("figure.source img").first).to_have_js_property("complete", True)
    assert page.locator("figure.source img").first.evaluate("img => img.naturalWidth") > 100
    # Screenshots go to a scratch folder; COUNCILREG_SCREENSHOTS=docs refreshes the README's.
    docs = Path(os.environ.get("COUNCILREG_SCREENSHOTS") or tmp_path)
    docs.mkdir(exist_ok=True)
    # On a laptop screen the decision keys stay in sight however long the page.
    page.set_viewport_size({"width": 1366, "height": 768})
    for button in ("#same", "#different", "#skip", "#target"):
        expect(page.locator(button)).to_be_in_viewport()
    page.screenshot(path=str(docs / "queue.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})
    seen = []
    for key in ("s", "d", "s"):
        link = page.locator("section.pair").get_attribute("data-link")
        seen.append(link)
        page.keyboard.press(key)
        page.wait_for_load_state()
        expect(page.locator("section.pair, p.done").first).to_be_visible()
        assert page.locator("section.pair").get_attribute("data-link") != link
    page.keyboard.press("u")
    page.wait_for_load_state()
    expect(page.locator("section.pair")).to_have_attribute("data-link", seen[-1])

    # M, type another item's id, Enter: the record goes to the typed item, not the suggested.
    pair = page.locator("section.pair")
    shown = {
        key: pair.get_attribute(f"data-{key}") or ""
        for key in ("record", "item", "kind", "council", "period")
    }
    listed = page.request.get(f"{server}/items.json", params={"council": shown["council"]}).json()
    target = next(
        i
        for i in listed["items"]
        if int(i["id"][3:]) != int(shown["item"])
        and i["kind"] == shown["kind"]
        and shown["period"] not in i["periods"]
    )
    page.keyboard.press("m")
    page.keyboard.type(target["id"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    held = page.request.get(f"{server}/items/{int(target['id'][3:])}.json").json()
    assert int(shown["record"]) in [o["record_id"] for o in held["occurrences"]]
    suggested = page.request.get(f"{server}/items/{shown['item']}.json").json()
    assert int(shown["record"]) not in [o["record_id"] for o in suggested["occurrences"]]

    item_link = page.locator("section.pair h2 a")
    item_link.click()
    expect(page.locator("h1")).to_contain_text("CR-")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(docs / "item.png"), full_page=True)
    page.goto(f"{server}/items")
    expect(page.locator("h1")).to_contain_text("items")
    page.set_viewport_size({"width": 1366, "height": 768})
    page.screenshot(path=str(docs / "register.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})

    with page.expect_download() as download:
        page.click("text=Register CSV")
    rows = list(
        csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig")))
    )
    assert rows and rows[0]["canonical_id"].startswith("CR-")
    assert any(row["periods"].count(";") == 2 for row in rows), "some items span all three years"
