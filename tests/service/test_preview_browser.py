"""The preview page in a real headless Chromium (Debian's), against a live stub-backed server."""

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn

from klarjournal.service.app import create_app
from klarjournal.service.settings import Settings
from tests.service.support import CLINICIAN_KEY, KEYS, StubTranslator

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]
NOTE = "Pt. indlagt med dyspnø. BT 145/90. Ingen tegn på DVT."


@pytest.fixture(scope="session")
def chromium() -> str:
    # Playwright's own browser download does not work here; Debian's chromium does.
    if not os.path.exists(CHROMIUM):
        if shutil.which("apt-get") is None:
            pytest.fail("chromium is missing and apt-get is not available to install it")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update"], check=True, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "chromium"], check=True, env=env,
                       capture_output=True)
    return CHROMIUM


def _serve(settings: Settings) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(settings, load=lambda _: StubTranslator())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the preview test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    yield from _serve(Settings())


@pytest.fixture(scope="module")
def keyed_url() -> Iterator[str]:
    yield from _serve(Settings(api_keys=KEYS))


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True,
                                             args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base_url):
    page = browser.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{base_url}/preview")
    page.wait_for_selector("#sample option:nth-child(2)", state="attached")
    yield page
    page.close()
    # CSP violations and script errors surface as console errors.
    assert problems == []


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def translate(page, text: str) -> None:
    page.fill("#note", text)
    page.click("#translate")
    page.wait_for_selector("#resultat:not([hidden])")
    # Locator assertions, not wait_for_function: the page's CSP forbids evaluating strings.
    expect(page.locator("#status")).to_contain_text("Færdig")


def test_pasted_note_shows_original_and_patient_text_side_by_side(page):
    assert page.get_attribute("html", "lang") == "da"
    translate(page, NOTE)
    assert page.text_content("#original") == NOTE
    plain = page.text_content("#plain")
    assert "åndenød" in plain and "blodprop i en dyb vene" in plain and "145/90" in plain
    assert "forkortelse for »dyb venetrombose«" in page.text_content("#glossary")


def test_hovering_a_term_highlights_its_source_with_details(page):
    translate(page, NOTE)
    dvt = page.locator("#plain [data-span]", has_text="blodprop i en dyb vene")
    index = dvt.get_attribute("data-span")
    dvt.hover()
    source = page.locator(f'#original [data-span="{index}"]')
    assert source.text_content() == "DVT"
    assert "active" in source.get_attribute("class")
    details = page.text_content("#details-list")
    assert "dyb venetrombose" in details and "leksikon" in details and "100 %" in details


def test_keyboard_focus_on_a_term_shows_its_details(page):
    page.focus("#note")
    page.fill("#note", NOTE)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#plain [data-span]")
    page.locator("#plain [data-span]").first.focus()
    assert "patienten" in page.text_content("#details-list")
    assert "active" in page.get_attribute('#original [data-span="0"]', "class")


def test_unresolved_and_low_confidence_terms_stand_out(page):
    translate(page, "Tbl. gives p.o. ved XQZW.")
    low = page.locator("#plain .term.low")
    assert low.text_content() == "gennem munden"
    assert page.locator("#original mark.unresolved").text_content() == "XQZW"
    assert "XQZW" in page.text_content("#unresolved")


def test_markup_in_a_note_stays_text(page):
    attack = ('<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
              '<b id="injected">Pt.</b> har DVT')
    translate(page, attack)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#injected").count() == 0
    assert page.locator("#resultat img, #resultat script, #resultat b").count() == 0
    assert page.text_content("#original") == attack
    assert "<script>" in page.text_content("#plain")


def test_a_bundled_sample_fills_the_note(page):
    page.select_option("#sample", index=1)
    assert page.input_value("#note").startswith("Pt. indlagt")
    assert page.input_value("#specialty") == "kardiologi"


def test_a_key_is_needed_when_the_server_has_keys(browser, keyed_url):
    page = browser.new_page()
    page.goto(f"{keyed_url}/preview")
    page.fill("#note", NOTE)
    page.click("#translate")
    expect(page.locator("#status")).to_contain_text("401")
    page.fill("#apikey", CLINICIAN_KEY)
    page.click("#translate")
    page.wait_for_selector("#plain [data-span]")
    assert "åndenød" in page.text_content("#plain")
    page.close()
