"""End-to-end: a prompt typed in the Chat tab is classified and routed — the level and tier appear before the
answer — and answered by the real local model (SmolLM2), with tokens, cost and the amount saved against the top
tier; the conversation is stored and exports as Markdown."""

import os
import pathlib
import subprocess

import pytest
from selenium.webdriver.common.by import By
from window import app_window, wait

APP = os.environ["APP_BINARY"]
DATA = pathlib.Path(os.environ["E2E_DATA_DIR"])
MODELS = pathlib.Path(os.environ["COMPLEXITYNET_TEST_MODELS"])


@pytest.fixture(scope="module")
def driver():
    subprocess.run([APP, "--data-dir", str(DATA), "classifier", "fetch-encoder", "--from", str(MODELS / "all-MiniLM-L6-v2")],
                   check=True, capture_output=True)
    with app_window("chat.png") as drv:
        yield drv


def test_a_typed_prompt_is_routed_and_answered_by_the_local_model(driver):
    wait(driver, lambda d: d.find_elements(By.ID, "nav-chat"), what="the navigation")
    driver.find_element(By.ID, "nav-chat").click()
    box = wait(driver, lambda d: d.find_elements(By.ID, "chat-input"), what="the chat box")[0]
    box.send_keys("Write a function to add two numbers.")
    driver.find_element(By.ID, "chat-send").click()
    # The decision shows while the answer streams, then the stored answer replaces the live one.
    answer = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".msg.assistant[data-message]"), timeout=120, what="the answer")[0]
    assert answer.find_element(By.CSS_SELECTOR, ".level-badge").text == "level 0"
    assert answer.find_element(By.CSS_SELECTOR, ".route-tier").text == "local"
    assert answer.find_element(By.CSS_SELECTOR, ".answer-text").text.strip(), "SmolLM2 answered"
    meta = answer.find_element(By.CSS_SELECTOR, ".msg-meta").text
    assert "tokens" in meta and "saved $" in meta, meta
    assert "today" in driver.find_element(By.ID, "chat-totals").text
    titles = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#chat-conversations .dataset-name")]
    assert titles and titles[0].startswith("Write a function to add two numbers"), titles
    driver.find_element(By.XPATH, "//button[text()='Export Markdown']").click()
    exported = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#chat-export textarea"), what="the export")[0]
    assert "**local (" in exported.get_attribute("value")


def test_the_settings_switch_starts_the_same_server_from_the_app(driver):
    import json
    import urllib.request

    driver.find_element(By.ID, "nav-settings").click()
    port = wait(driver, lambda d: d.find_elements(By.ID, "server-port"), what="the server settings")[0]
    port.clear()
    port.send_keys("0")
    driver.find_element(By.ID, "server-toggle").click()
    shown = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#server-url code"), what="the server to start")[0]
    url = shown.text
    assert url.startswith("http://127.0.0.1:"), url
    with urllib.request.urlopen(f"{url}/models") as r:
        ids = [m["id"] for m in json.loads(r.read())["data"]]
    assert ids[0] == "auto" and "local" in ids, ids
    driver.find_element(By.ID, "server-toggle").click()
    wait(driver, lambda d: not d.find_elements(By.ID, "server-url"), what="the server to stop")


def test_a_prompt_with_asserts_is_verified_in_the_sandbox_and_each_step_shown(driver):
    driver.find_element(By.ID, "nav-chat").click()
    driver.find_element(By.ID, "chat-new").click()
    box = wait(driver, lambda d: d.find_elements(By.ID, "chat-input"), what="the chat box")[0]
    from selenium.webdriver.common.keys import Keys
    box.send_keys("Write a Python function add(a, b) that returns a + b.")
    box.send_keys(Keys.SHIFT, Keys.ENTER)  # a new line, not send
    box.send_keys("assert add(1, 2) == 3")
    from selenium.webdriver.support.ui import Select
    Select(driver.find_element(By.ID, "chat-tier")).select_by_value("local")
    driver.find_element(By.ID, "chat-send").click()
    answer = wait(driver, lambda d: [m for m in d.find_elements(By.CSS_SELECTOR, ".msg.assistant[data-message]")
                                     if m.find_elements(By.CSS_SELECTOR, "ol.cascade li")], timeout=120, what="the verified answer")[0]
    steps = [li.text for li in answer.find_elements(By.CSS_SELECTOR, "ol.cascade li")]
    assert steps[0].startswith("local"), steps
    assert any("asserts passed" in s or "no answer" in s for s in steps), steps
