"""End-to-end: the Fine-tune tab trains a classifier on replayed paper labels in the real window — live
progress, the result's confusion matrix, the methods side by side, activation — and classifies a prompt with
the real encoder."""

import os
import pathlib
import subprocess

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from window import app_window, wait

APP = os.environ["APP_BINARY"]
DATA = pathlib.Path(os.environ["E2E_DATA_DIR"])
SHARED = pathlib.Path(os.environ["COMPLEXITYNET_SHARED_DATA"])
MODELS = pathlib.Path(os.environ["COMPLEXITYNET_TEST_MODELS"])


def cli(*args):
    subprocess.run([APP, "--data-dir", str(DATA), *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def driver():
    cli("dataset", "import", str(SHARED / "mbpp.jsonl"), "--name", "mbpp")
    cli("label", "run", "--dataset", "mbpp", "--name", "e2e-ft-labels", "--trials", "1", "--rule", "single3", "--limit", "150",
        "--tiers", "replay:codellama-7b-python,replay:gpt-3.5-turbo-1106,replay:gpt-4-1106-preview",
        "--replay", str(SHARED / "recorded" / "complexitynet-mbpp-outputs.jsonl"))
    cli("classifier", "fetch-encoder", "--from", str(MODELS / "all-MiniLM-L6-v2"))
    with app_window("finetune.png") as drv:
        yield drv


def test_train_compare_activate_and_classify_from_the_finetune_tab(driver):
    wait(driver, lambda d: d.find_elements(By.ID, "nav-finetune"), what="the navigation")
    driver.find_element(By.ID, "nav-finetune").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '#ft-labels option[value="e2e-ft-labels"]'), what="the label runs")
    Select(driver.find_element(By.ID, "ft-labels")).select_by_value("e2e-ft-labels")
    Select(driver.find_element(By.ID, "ft-method")).select_by_value("head")
    folds = driver.find_element(By.ID, "ft-folds")
    folds.clear()
    folds.send_keys("3")
    name = driver.find_element(By.ID, "ft-name")
    name.send_keys("e2e-head")
    driver.find_element(By.ID, "ft-train").click()
    metrics = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '#ft-metrics[data-classifier="e2e-head"]'), timeout=180, what="training to finish")
    assert "3-fold CV" in metrics[0].text
    rows = driver.find_elements(By.CSS_SELECTOR, "#ft-confusion tbody tr")
    assert len(rows) == 3, "levels 0, 1, 2"
    total = sum(int(td.text) for td in driver.find_elements(By.CSS_SELECTOR, "#ft-confusion tbody td"))
    assert total > 90, f"every labeled task predicted once across the folds ({total})"
    listed = [r.get_attribute("data-classifier") for r in driver.find_elements(By.CSS_SELECTOR, "#ft-classifiers tbody tr")]
    assert "default" in listed and "e2e-head" in listed, listed
    driver.find_element(By.CSS_SELECTOR, 'tr[data-classifier="e2e-head"] button.activate').click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, 'tr[data-classifier="e2e-head"] .badge'), what="activation")
    driver.find_element(By.ID, "ft-prompt").send_keys("Write a function to reverse a string.")
    driver.find_element(By.ID, "ft-classify").click()
    shown = wait(driver, lambda d: d.find_elements(By.ID, "ft-prediction"), what="the prediction")[0]
    assert "by e2e-head" in shown.text and shown.find_element(By.CSS_SELECTOR, ".level").text in {"0", "1", "2"}, shown.text


def test_the_evaluate_tab_draws_each_policy_against_the_hull_of_the_fixed_tiers(driver):
    driver.find_element(By.ID, "nav-evaluate").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '#ev-labels option[value="e2e-ft-labels"]'), what="the label runs")
    Select(driver.find_element(By.ID, "ev-labels")).select_by_value("e2e-ft-labels")
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '#ev-classifier option[value="e2e-head"]'), what="the classifiers")
    Select(driver.find_element(By.ID, "ev-classifier")).select_by_value("e2e-head")
    summary = wait(driver, lambda d: [e for e in d.find_elements(By.ID, "ev-summary") if "dial at 10.0%" in e.text], what="the report")[0]
    assert "saved" in summary.text, summary.text
    # The plot, inline: the fixed tiers' hull dashed, each policy's curve, the operating point.
    plot = driver.find_element(By.ID, "ev-plot")
    hull = plot.find_elements(By.CSS_SELECTOR, "polyline.hull")
    assert hull and hull[0].get_attribute("stroke-dasharray"), "the hull is drawn dashed"
    assert plot.find_elements(By.CSS_SELECTOR, "polyline.curve-dial"), "the dial's curve"
    assert plot.find_elements(By.CSS_SELECTOR, "polyline.curve-threshold"), "the threshold's curve"
    assert plot.find_elements(By.CSS_SELECTOR, "circle.operating-point")
    policies = [r.get_attribute("data-policy") for r in driver.find_elements(By.CSS_SELECTOR, "#ev-comparisons tbody tr")]
    assert policies.count("dial") == 4 and "threshold" in policies and policies.count("paper map") == 1, policies
    names = [r.find_element(By.TAG_NAME, "td").text for r in driver.find_elements(By.CSS_SELECTOR, "#ev-table tbody tr")]
    assert any("(always-mid)" in n for n in names) and "oracle" in names and "random tier" in names, names
    assert any(n.startswith("cascade L1→L2→L3") for n in names), names
    assert "upper bound" in driver.find_element(By.ID, "ev-caveat").text
    Select(driver.find_element(By.ID, "ev-policy")).select_by_value("threshold")
    wait(driver, lambda d: [e for e in d.find_elements(By.ID, "ev-summary") if "τ=0.50" in e.text], what="the threshold policy")
