"""End to end in a real headless Chromium: start the app with ``streamlit run``, type a query, see 长沙's card.

Needs Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them); skipped without them.
Nothing is fetched from the network: the app runs on a copy of the seed knowledge base in a tmp dir.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from reformkb.kb import KnowledgeBase
from reformkb.settings import project_root

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
MARKUP = "岳阳市试点<script>alert(1)</script>**加粗**[链接](http://example.com)，容缺受理“秒批秒办”。"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                       reason="没有找到 chromium 和 chromedriver：请安装 Debian 的 chromium 与 chromium-driver"
                              "（make test 会自动安装）"),
]
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(seeded_home, tmp_path):
    """The app served by ``streamlit run`` on a free port, on a tmp copy of the seed knowledge base."""
    home = tmp_path / "kb"
    home.mkdir()
    shutil.copy(seeded_home / "reformkb.db", home / "reformkb.db")
    with KnowledgeBase(home=home) as kb:  # a record whose text looks like markup
        kb.add({"text": MARKUP})
    port = free_port()
    log = open(tmp_path / "streamlit.log", "w")
    # Started as `make run` starts it: from the project folder, so .streamlit/config.toml applies
    # (it keeps Streamlit from looking up the machine's external IP, see the check below).
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
        cwd=project_root(), env={**os.environ, "REFORMKB_HOME": str(home)}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail("streamlit did not start:\n" + (tmp_path / "streamlit.log").read_text())
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
    startup = (tmp_path / "streamlit.log").read_text()
    # Streamlit prints "Local/Network/External URL" only on the branch that looks up the external IP.
    assert "URL: http://localhost" in startup and "Local URL" not in startup, startup


@pytest.fixture
def browser(tmp_path):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-quic", "--no-first-run", "--disable-component-update",
                "--disable-sync", f"--user-data-dir={tmp_path / 'chromium'}", "--window-size=1400,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def result_card(driver, region: str) -> dict:
    """What the first search-result card (one with highlighted terms) shows, once it is ``region``'s.

    Read in one go inside the wait: Streamlit may redraw the page between two lookups.
    """
    def shown(d):
        cards = d.find_elements(By.CSS_SELECTOR, ".rk-card")
        if not cards or not cards[0].find_elements(By.TAG_NAME, "mark"):
            return False
        card = cards[0]
        if card.find_element(By.CSS_SELECTOR, ".rk-head").text != region:
            return False
        text = card.find_element(By.CSS_SELECTOR, ".rk-text")
        return {"card": card.text, "text": text.text, "marks": [m.text for m in card.find_elements(By.TAG_NAME, "mark")],
                "markup": len(text.find_elements(By.CSS_SELECTOR, "script, a, strong, em"))}

    return WebDriverWait(driver, 90, ignored_exceptions=(StaleElementReferenceException,)).until(shown)


def test_type_query_and_see_changsha_card(app_url, browser, tmp_path):
    browser.get(app_url)
    box = WebDriverWait(browser, 30).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "input[placeholder='例如：企业注销提速']"))
    box.send_keys("企业注销提速")
    card = result_card(browser, "长沙市")  # the best result comes first
    assert "20→0.5 个工作日，压缩 97.5%" in card["card"]
    assert "企业注销" in card["marks"]
    shot = tmp_path / "search.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 20_000

    # A record whose text looks like HTML or Markdown is shown as written, never rendered.
    browser.get(f"{app_url}/?q=容缺受理")  # the query can be given in the link
    card = result_card(browser, "岳阳市")
    assert "<script>alert(1)</script>**加粗**[链接](http://example.com)" in card["text"]
    assert card["markup"] == 0
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 (reading it raises when there is no alert)
