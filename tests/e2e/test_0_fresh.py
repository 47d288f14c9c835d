"""End-to-end, first of all (the file name sorts first, so the data dir is as a new user's: the local model and
nothing else): every tab has a heading and says what to do next, and Models & Keys shows prices and model names whole.
"""

import pytest
from selenium.webdriver.common.by import By
from window import ARTIFACTS, app_window, wait

# Each tab's empty state: the element that says what to do next on a fresh data dir.
NEXT_STEP = {
    "chat": ".chat-empty.next-step",
    "datasets": "#no-datasets",
    "labeling": "#no-runs",
    "finetune": "#ft-no-labels",
    "evaluate": "#ev-empty",
    "models": ".next-step",
    "settings": "#server-next-step",
}


@pytest.fixture(scope="module")
def driver():
    with app_window("fresh.png") as drv:
        yield drv


@pytest.mark.parametrize("tab", list(NEXT_STEP))
def test_every_tab_on_a_fresh_data_dir_has_a_heading_and_a_next_step(driver, tab):
    wait(driver, lambda d: d.find_elements(By.ID, f"nav-{tab}"), what="the navigation")
    driver.find_element(By.ID, f"nav-{tab}").click()
    label = driver.find_element(By.ID, f"nav-{tab}").text
    heading = wait(driver, lambda d: [h for h in d.find_elements(By.CSS_SELECTOR, "main h1") if h.is_displayed()], what=f"{tab}'s heading")[0]
    assert heading.text == label, (heading.text, label)
    step = wait(driver, lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, f"main {NEXT_STEP[tab]}") if e.is_displayed()], what=f"{tab}'s next step")[0]
    # A next step names an action: a button on the page, or the exact command to type.
    text = step.text
    assert len(text.split()) >= 6, text
    actionable = step.find_elements(By.CSS_SELECTOR, "button, code, strong") or "press" in text.lower() or "Start" in text
    assert actionable, f"{tab}: {text!r} names no button or command"
    driver.save_screenshot(str(ARTIFACTS / f"fresh-{tab}.png"))


# Measures each field's text as the page draws it (canvas text metrics in the field's own font) against the field's
# inner width: a price or model name cut short fails, whatever the input's type.
FITS = """
const c = document.createElement('canvas').getContext('2d');
return [...document.querySelectorAll('#tier-table tbody input, #cost-mode')].map((el) => {
  const s = getComputedStyle(el);
  c.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
  const pad = parseFloat(s.paddingLeft) + parseFloat(s.paddingRight);
  // Number fields draw a spin button, a choice its arrow: leave room for them.
  const text = el.tagName === 'SELECT' ? el.options[el.selectedIndex].text : el.value;
  const spin = el.type === 'number' ? 18 : el.tagName === 'SELECT' ? 24 : 0;
  return [el.getAttribute('aria-label') || el.id, text, c.measureText(text).width, el.clientWidth - pad - spin];
});
"""


def test_models_and_keys_shows_whole_prices_and_model_names(driver):
    driver.find_element(By.ID, "nav-models").click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#tier-table tbody tr"), what="the tier table")
    fields = driver.execute_script(FITS)
    prices = [f for f in fields if "per 1M tokens" in (f[0] or "")]
    models = [f for f in fields if (f[0] or "").endswith(" model")]
    assert len(prices) >= 6 and len(models) >= 3, fields
    for label, value, width, room in fields:
        assert value != "", label
        assert width <= room, f"{label}: {value!r} needs {width:.0f}px, has {room:.0f}px"
    # Prices read per million tokens: the top tier's is dollars, not a row of zeros.
    top_in = [f for f in prices if f[0].startswith("top input")][0]
    assert float(top_in[1]) >= 0.5, top_in
    driver.save_screenshot(str(ARTIFACTS / "models-and-keys.png"))
