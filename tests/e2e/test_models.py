"""End-to-end: the Models & Keys tab in the real window — the local tier answers from SmolLM2, and an API key
typed into the page goes to the OS keychain and nowhere else (not the database, not the webview's storage)."""

import os
import pathlib
import secrets
import subprocess

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from window import APP, app_window, wait

DATA = pathlib.Path(os.environ["E2E_DATA_DIR"])


@pytest.fixture(scope="module")
def driver():
    with app_window("models.png") as drv:
        yield drv


def test_the_local_tier_streams_an_answer_with_tokens_and_cost(driver):
    wait(driver, lambda d: d.find_elements(By.ID, "nav-models"), what="the navigation")
    driver.find_element(By.ID, "nav-models").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-model="smollm2"]'), what="the local model row")
    prompt = driver.find_element(By.ID, "ask-prompt")
    prompt.send_keys("Write one sentence about the sea.")
    driver.find_element(By.ID, "ask-button").click()
    footer = wait(driver, lambda d: "tokens" in d.find_element(By.ID, "ask-footer").text and d.find_element(By.ID, "ask-footer"), what="the answer's footer")
    answer = driver.find_element(By.ID, "ask-answer").text
    assert len(answer.split()) >= 3, answer
    assert footer.text.startswith("smollm2 · "), footer.text
    assert "$" in footer.text


def files_under(root: pathlib.Path):
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if p.is_file() and "keyrings" not in p.parts]


def test_an_api_key_typed_in_the_page_lives_only_in_the_keychain(driver):
    key = "sk-e2e-" + secrets.token_hex(16)
    row_input = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-provider="openai"] input.key-input'), what="the key field")[0]
    assert row_input.get_attribute("type") == "password"
    row_input.send_keys(key)
    driver.find_element(By.CSS_SELECTOR, 'tr[data-provider="openai"] button.key-save').click()
    def mask_text(d):
        # The row re-renders when the key list refreshes: a node found a moment ago may be gone; look again.
        try:
            t = d.find_element(By.CSS_SELECTOR, '.key-mask[data-provider="openai"]').text
        except StaleElementReferenceException:
            return False
        return t if t.startswith("…") else False

    mask = wait(driver, mask_text, what="the key's mask")
    assert mask == "…" + key[-4:]
    assert driver.find_element(By.CSS_SELECTOR, 'tr[data-provider="openai"] input.key-input').get_attribute("value") == ""
    assert key not in driver.page_source
    assert key not in driver.execute_script("return JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")

    # It is a real keychain item…
    found = subprocess.run(["secret-tool", "lookup", "service", "complexitynet", "username", "openai"], capture_output=True, text=True)
    assert found.stdout == key, "the key must be in the Secret Service"
    # …and nowhere on disk: not the database, not the logs, not the webview's storage.
    roots = [DATA] + [pathlib.Path(p) for p in os.environ.get("E2E_WEBVIEW_DIRS", "").split(":") if p]
    searched = [f for r in roots for f in files_under(r)]
    assert any(f.name == "complexitynet.sqlite3" for f in searched)
    for f in searched:
        assert key.encode() not in f.read_bytes(), f"the key leaked into {f}"


def test_a_preset_switches_the_cloud_tiers_and_each_tier_says_what_routing_knows_of_its_model(driver):
    driver.find_element(By.ID, "nav-models").click()
    cell = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-tier="local"] td.ability'), what="the local tier's row")[0]
    assert "not learned for smollm2" in cell.text or "verified answers from smollm2" in cell.text, cell.text
    select = driver.find_element(By.CSS_SELECTOR, 'select[aria-label="tier preset"]')
    select.find_element(By.CSS_SELECTOR, 'option[value="paper-2023"]').click()
    assert "EvalPlus" in driver.find_element(By.ID, "tier-presets").text
    driver.find_element(By.XPATH, '//button[text()="Use these tiers"]').click()

    def mid_known(d):
        try:
            c = d.find_element(By.CSS_SELECTOR, 'tr[data-tier="mid"] td.ability')
            return c.text if "82.5%" in c.text else False
        except StaleElementReferenceException:
            return False

    text = wait(driver, mid_known, what="the paper preset's mid tier with its published figure")
    assert "published" in text, text
    assert driver.find_element(By.CSS_SELECTOR, 'input[aria-label="mid model"]').get_attribute("value") == "gpt-3.5-turbo"
    # The local tier keeps the user's model.
    assert driver.find_element(By.CSS_SELECTOR, 'input[aria-label="local model"]').get_attribute("value") == "smollm2"
    subprocess.run([APP, "--data-dir", str(DATA), "tiers", "preset", "openai"], check=True, capture_output=True)
