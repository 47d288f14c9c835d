"""The app window over WebDriver, shared by the end-to-end tests."""

import contextlib
import os
import pathlib

from selenium import webdriver
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.remote.file_detector import UselessFileDetector
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

APP = os.environ["APP_BINARY"]
ARTIFACTS = pathlib.Path(os.environ.get("E2E_ARTIFACTS", "target/e2e"))


@contextlib.contextmanager
def app_window(screenshot: str):
    """Starts the app through WebKitWebDriver; saves a screenshot and closes it afterwards."""
    opts = ArgOptions()
    opts.set_capability("browserName", "wry")
    # WebKit's own capability for the browser it starts: the app binary (tests/e2e/webdriver.sh).
    opts.set_capability("webkitgtk:browserOptions", {"binary": APP, "args": []})
    drv = webdriver.Remote(command_executor="http://127.0.0.1:4444", options=opts)
    # Typed paths are text for the app, not files to upload (selenium's default for remote sessions).
    drv.file_detector = UselessFileDetector()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield drv
    finally:
        drv.save_screenshot(str(ARTIFACTS / screenshot))
        drv.quit()


def wait(drv, cond, timeout=60, what="condition"):
    # An element React replaces while the condition looks at it is "stale": look again, as for one not there yet
    # (CI once failed waiting for the server's URL to disappear, the element re-rendered mid-query).
    return WebDriverWait(drv, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda d: cond(d), message=f"timed out waiting for {what}"
    )
