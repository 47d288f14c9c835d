"""End-to-end: the real app window, driven over WebDriver (WebKitWebDriver under Xvfb).

Run through tests/e2e/run.sh, which builds nothing: it needs the debug binary (APP_BINARY), WebKitWebDriver
(tests/e2e/webdriver.sh starts it) and the shared MBPP file (COMPLEXITYNET_SHARED_DATA).
"""

import functools
import http.server
import os
import pathlib
import threading

import pytest
from selenium.webdriver.common.by import By
from window import app_window, wait

SHARED = pathlib.Path(os.environ["COMPLEXITYNET_SHARED_DATA"])
MBPP = SHARED / "mbpp.jsonl"


@pytest.fixture(scope="module")
def driver():
    assert MBPP.is_file(), f"MBPP not found at {MBPP}: set COMPLEXITYNET_SHARED_DATA to the shared data folder"
    with app_window("datasets.png") as drv:
        yield drv


def find(drv, css):
    return drv.find_element(By.CSS_SELECTOR, css)


def texts(drv, css):
    return [e.text for e in drv.find_elements(By.CSS_SELECTOR, css)]


def test_the_window_opens_with_the_apps_navigation(driver):
    wait(driver, lambda d: d.find_elements(By.ID, "nav-datasets"), what="the navigation")
    labels = texts(driver, ".sidebar .nav-item")
    assert labels == ["Chat", "Datasets", "Labeling", "Fine-tune", "Evaluate", "Models & Keys", "Settings"]
    assert find(driver, "#nav-chat").get_attribute("aria-current") == "page", "a coding assistant first: it opens on Chat"
    find(driver, "#nav-evaluate").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "section.evaluate h1"), what="the Evaluate tab")
    find(driver, "#nav-datasets").click()
    wait(driver, lambda d: d.find_elements(By.ID, "import-path"), what="the Datasets tab")


def test_import_mbpp_shows_974_tasks_and_task_2_has_three_asserts(driver):
    find(driver, "#import-path").send_keys(str(MBPP))
    find(driver, "#import-button").click()
    count = wait(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, '.dataset-item[data-name="mbpp"] .task-count'),
        what="mbpp in the dataset list",
    )[0]
    assert count.text == "974 tasks"
    item = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '.task-item[data-task-id="2"]'), what="task 2")[0]
    item.click()
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#task-asserts li")) == 3, what="three asserts")
    asserts = texts(driver, "#task-asserts li")
    assert all(a.startswith("assert similar_elements(") for a in asserts), asserts
    assert find(driver, "#task-signature").text == "similar_elements(test_tup1, test_tup2)"
    assert "def similar_elements" in find(driver, "#task-reference").text


def test_search_narrows_the_task_list(driver):
    search = find(driver, "#task-search")
    search.send_keys("similar_elements")
    wait(driver, lambda d: d.find_element(By.ID, "task-range").text.endswith("of 1"), what="one search hit")
    assert [e.get_attribute("data-task-id") for e in driver.find_elements(By.CSS_SELECTOR, ".task-item")] == ["2"]


def test_a_malformed_file_shows_code_and_line_and_imports_nothing(driver, tmp_path_factory):
    bad = tmp_path_factory.mktemp("bad") / "broken.jsonl"
    bad.write_text('{"id": "a", "prompt": "Add", "tests": ["assert add(1, 2) == 3"]}\n{"id": "b", "prompt": "x"}\n')
    path = find(driver, "#import-path")
    path.clear()
    path.send_keys(str(bad))
    find(driver, "#import-button").click()
    alert = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "[role=alert]"), what="the error banner")[0]
    assert alert.get_attribute("data-code") == "dataset_malformed"
    assert f"{bad}:2: missing field" in alert.text
    assert [e.get_attribute("data-name") for e in driver.find_elements(By.CSS_SELECTOR, ".dataset-item")] == ["mbpp"]


def test_download_from_a_mirror_shows_progress_and_verifies(driver):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(SHARED))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        find(driver, ".download-form summary").click()
        find(driver, "#download-url").send_keys(f"http://127.0.0.1:{server.server_port}/mbpp.jsonl")
        find(driver, "#download-mbpp").click()
        notice = wait(driver, lambda d: d.find_elements(By.ID, "dataset-notice"), what="the download notice")[0]
        wait(driver, lambda d: "Downloaded and verified mbpp: 974 tasks" in notice.text, what="download to finish")
    finally:
        server.shutdown()
