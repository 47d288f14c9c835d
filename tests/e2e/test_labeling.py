"""End-to-end: the Labeling tab drives a real label run — the paper's recorded answers replayed, every answer
verified in the sandbox — with the estimate first, live progress, per-tier pass rates, the task grid and a
task's trials."""

import os
import pathlib
import subprocess

import pytest
from selenium.webdriver.common.by import By
from window import app_window, wait

APP = os.environ["APP_BINARY"]
DATA = pathlib.Path(os.environ["E2E_DATA_DIR"])
SHARED = pathlib.Path(os.environ["COMPLEXITYNET_SHARED_DATA"])


@pytest.fixture(scope="module")
def driver():
    # MBPP in the data dir (idempotent: the Datasets test may have imported it already).
    subprocess.run([APP, "--data-dir", str(DATA), "dataset", "import", str(SHARED / "mbpp.jsonl"), "--name", "mbpp"], check=True, capture_output=True)
    with app_window("labeling.png") as drv:
        yield drv


def test_a_replayed_label_run_from_the_labeling_tab(driver):
    wait(driver, lambda d: d.find_elements(By.ID, "nav-labeling"), what="the navigation")
    driver.find_element(By.ID, "nav-labeling").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#label-dataset option"), what="the dataset list")
    driver.find_element(By.XPATH, "//button[text()=\"Paper's recorded answers\"]").click()
    name = driver.find_element(By.ID, "label-name")
    name.clear()
    name.send_keys("e2e-replay")
    driver.find_element(By.ID, "label-replay").send_keys(str(SHARED / "recorded" / "complexitynet-mbpp-outputs.jsonl"))
    driver.find_element(By.ID, "label-limit").send_keys("30")
    assert not driver.find_element(By.ID, "label-start").is_enabled(), "the estimate comes first"
    driver.find_element(By.ID, "label-estimate").click()
    total = wait(driver, lambda d: d.find_elements(By.ID, "label-estimate-total"), what="the estimate")[0]
    assert total.text == "$0", "replayed answers cost nothing"
    driver.find_element(By.ID, "label-start").click()
    run = wait(
        driver,
        lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, '#label-runs button[data-run="e2e-replay"] .run-status') if e.text == "complete"],
        what="the run to complete",
    )
    assert run
    rates = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#label-tier-rates .pass-rate")]
    assert len(rates) == 3 and all(r.endswith("%") for r in rates), rates
    assert "level 0" in driver.find_element(By.ID, "label-histogram").text
    cells = driver.find_elements(By.CSS_SELECTOR, "#label-grid .cell")
    assert len(cells) == 30
    driver.find_element(By.CSS_SELECTOR, '#label-grid .cell[data-task-id="2"]').click()
    verdicts = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#label-trials .trial-verdict"), what="task 2's trials")
    assert len(verdicts) == 3, [v.text for v in verdicts]
    assert all(v.text in {"passed", "failed", "error", "timed_out", "memory_exceeded", "output_limit"} for v in verdicts)
    # Beside each raw answer: which reading of it ran, and what was dropped from it.
    first = driver.find_elements(By.CSS_SELECTOR, "#label-trials details.trial")[0]
    first.find_element(By.TAG_NAME, "summary").click()
    candidate = wait(driver, lambda d: [e for e in first.find_elements(By.CSS_SELECTOR, ".extraction-candidate") if e.text], what="the extraction")[0]
    assert candidate.text.startswith("from "), candidate.text
    assert first.find_element(By.CSS_SELECTOR, ".trial-answer").text.strip(), "the raw answer is shown"
