"""End-to-end: a prompt typed in the Chat tab is classified and routed — the level and tier appear before the
answer — and answered by the real local model (SmolLM2), with tokens, cost and the amount saved against the top
tier; the conversation is stored and exports as Markdown. A prompt with asserts is verified in the sandbox, tier by
tier (the mid tier is a loopback server speaking the OpenAI wire format); an answer that fails its tests is marked
and claims no savings. A prompt whose examples are in prose shows its checks before the answer and climbs when an
answer fails them; a prompt without any gets checks proposed by a tier, which the user edits and accepts, and the
answer is verified against the edited ones."""

import http.server
import json
import os
import pathlib
import subprocess
import threading

import pytest
from selenium.webdriver.common.by import By
from window import app_window, wait

APP = os.environ["APP_BINARY"]
DATA = pathlib.Path(os.environ["E2E_DATA_DIR"])
MODELS = pathlib.Path(os.environ["COMPLEXITYNET_TEST_MODELS"])


class Coder(http.server.BaseHTTPRequestHandler):
    """The mid tier: always answers the same add(a, b), in the OpenAI wire format."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        prompt = body["messages"][-1]["content"]
        if "You write test cases" in prompt:
            # Asked to propose checks: two example calls, the second one wrong (the user fixes it).
            text = "```python\nassert tag('ab') == '[BA]'\nassert tag('x') == '[Y]'\n```"
        elif "tag(" in prompt and body["model"] == "wrong-1":
            text = "```python\ndef tag(s):\n    return s\n```"
        elif "tag(" in prompt:
            text = "```python\ndef tag(s):\n    return '[' + s[::-1].upper() + ']'\n```"
        else:
            text = "```python\ndef add(a, b):\n    return a + b\n```"
        out = json.dumps({"id": "x", "object": "chat.completion", "model": body["model"],
                          "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                          "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def cli(*args):
    subprocess.run([APP, "--data-dir", str(DATA), *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def driver():
    coder = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Coder)
    threading.Thread(target=coder.serve_forever, daemon=True).start()
    cli("providers", "set", "coder", "--kind", "openai", "--base-url", f"http://127.0.0.1:{coder.server_port}/v1")
    cli("tiers", "set", "mid", "--provider", "coder", "--model", "coder-1")
    with app_window("chat.png") as drv:
        yield drv
    # The later tests share this data dir: the mid tier goes back to its default.
    cli("tiers", "set", "mid", "--provider", "openai", "--model", "gpt-3.5-turbo")
    coder.shutdown()


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


def test_the_settings_switch_starts_the_server_with_a_fresh_key_shown_once_and_a_snippet(driver):
    import json
    import urllib.error
    import urllib.request

    driver.find_element(By.ID, "nav-settings").click()
    from selenium.webdriver.common.keys import Keys
    port = wait(driver, lambda d: d.find_elements(By.ID, "server-port"), what="the server settings")[0]
    # Select and replace (a bare clear() can be undone by React re-rendering the controlled field).
    port.send_keys(Keys.CONTROL, "a")
    port.send_keys("0")
    wait(driver, lambda d: d.find_element(By.ID, "server-port").get_attribute("value") == "0", what="port 0")
    assert not driver.find_element(By.ID, "server-no-key").is_selected(), "a key by default"
    toggle = wait(driver, lambda d: [b for b in d.find_elements(By.ID, "server-toggle") if b.is_enabled()],
                  what="the server's state")[0]
    toggle.click()
    shown = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#server-url code"), what="the server to start")[0]
    url = shown.text
    assert url.startswith("http://127.0.0.1:"), url
    key = driver.find_element(By.ID, "server-key-value").text
    assert key.startswith("cn-local-") and len(key) > 40, key
    snippet = driver.find_element(By.ID, "server-snippet-python").get_attribute("textContent")
    assert f'base_url="{url}"' in snippet and key in snippet, snippet

    def models(headers):
        req = urllib.request.Request(f"{url}/models", headers=headers)
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    code, body = models({"Authorization": f"Bearer {key}"})
    assert code == 200 and body["data"][0]["id"] == "auto" and any(m["id"] == "local" for m in body["data"]), body
    code, body = models({})
    assert code == 401 and body["error"]["code"] == "invalid_api_key", body
    code, body = models({"Authorization": f"Bearer {key}", "Origin": "http://evil.example"})
    assert code == 403 and body["error"]["code"] == "origin_not_allowed", body
    # The app's own window's origin may call it (its page's CSP keeps the page itself on IPC, but a request with
    # that origin is let through, with CORS).
    origin = driver.execute_script("return window.location.origin")
    code, body = models({"Authorization": f"Bearer {key}", "Origin": origin})
    assert code == 200, (origin, body)
    # The key is nowhere in the webview's own storage.
    stored = driver.execute_script("return JSON.stringify(localStorage) + JSON.stringify(sessionStorage)")
    assert key not in stored
    # An agent's request through it (Anthropic's Messages, as Claude Code sends it) is in the window's spend view,
    # under the name the client gives itself.
    body = json.dumps({"model": "local", "max_tokens": 4, "messages": [{"role": "user", "content": "Say hi."}]}).encode()
    req = urllib.request.Request(f"{url.removesuffix('/v1')}/v1/messages", data=body, headers={
        "x-api-key": key, "anthropic-version": "2023-06-01", "Content-Type": "application/json",
        "User-Agent": "e2e-agent/1.0"})
    with urllib.request.urlopen(req, timeout=120) as r:
        assert r.status == 200
    driver.find_element(By.ID, "usage-refresh").click()
    try:
        row = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, '#usage-table tr[data-key="e2e-agent"]'),
                   what="the agent's row in the spend view")[0]
    except Exception as e:
        raise AssertionError(f"the spend view shows: {driver.find_element(By.ID, 'usage').text}") from e
    cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
    assert cells[:3] == ["e2e-agent", "1", "0"] and cells[3].endswith("(0)"), cells  # one call, answered
    driver.find_element(By.ID, "server-toggle").click()
    wait(driver, lambda d: not d.find_elements(By.ID, "server-url"), what="the server to stop")


def send(driver, lines, cap=""):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select
    driver.find_element(By.ID, "nav-chat").click()
    driver.find_element(By.ID, "chat-new").click()
    box = wait(driver, lambda d: d.find_elements(By.ID, "chat-input"), what="the chat box")[0]
    for i, line in enumerate(lines):
        if i:
            box.send_keys(Keys.SHIFT, Keys.ENTER)  # a new line, not send
        box.send_keys(line)
    Select(driver.find_element(By.ID, "chat-max-tier")).select_by_value(cap)
    before = len(driver.find_elements(By.CSS_SELECTOR, ".msg.assistant[data-message]"))
    driver.find_element(By.ID, "chat-send").click()
    return wait(driver, lambda d: [m for m in d.find_elements(By.CSS_SELECTOR, ".msg.assistant[data-message]")
                                   if m.find_elements(By.CSS_SELECTOR, "ol.cascade li")][before:] or None,
                timeout=180, what="the verified answer")[0]


def test_a_prompt_with_asserts_climbs_the_tiers_until_an_answer_passes(driver):
    # SmolLM2 (135M, greedy) does not write this function; mid's answer does: the answer climbs exactly one tier.
    answer = send(driver, ["Write a Python function tag(s) that returns s reversed and upper-cased, in square brackets.",
                           "assert tag('ab') == '[BA]'"])
    steps = answer.find_elements(By.CSS_SELECTOR, "ol.cascade li")
    assert [s.text.split()[0] for s in steps] == ["local", "mid"], [s.text for s in steps]
    assert steps[0].get_attribute("class") == "failed", [s.text for s in steps]
    assert steps[1].get_attribute("class") == "passed", [s.text for s in steps]
    assert answer.get_attribute("data-verified") == "true"
    meta = answer.find_element(By.CSS_SELECTOR, ".msg-meta").text
    assert "passed its tests" in meta and "saved $" in meta, meta


def test_an_answer_that_fails_its_tests_is_marked_and_claims_no_savings(driver):
    # No add(a, b) returns 4 for (1, 2): every tier's answer fails, and the chat is capped at mid ("never the top").
    answer = send(driver, ["Write a Python function add(a, b).", "assert add(1, 2) == 4"], cap="mid")
    steps = [li.text for li in answer.find_elements(By.CSS_SELECTOR, "ol.cascade li")]
    assert [s.split()[0] for s in steps] == ["local", "mid"], steps
    assert answer.get_attribute("data-verified") == "false"
    assert "failing" in answer.get_attribute("class")
    meta = answer.find_element(By.CSS_SELECTOR, ".msg-meta").text
    assert "failed its tests" in meta and "no savings claimed" in meta and "saved $" not in meta, meta
    assert "failing answer" in driver.find_element(By.ID, "chat-totals").text
    driver.find_element(By.XPATH, "//button[text()='Export Markdown']").click()
    exported = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#chat-export textarea"), what="the export")[0]
    assert "FAILED its tests" in exported.get_attribute("value")


def test_a_prompt_with_prose_examples_shows_its_checks_and_climbs_when_an_answer_fails_them(driver):
    from selenium.webdriver.common.keys import Keys
    # The local tier answers wrongly here (a loopback model), so the climb is certain.
    cli("tiers", "set", "local", "--provider", "coder", "--model", "wrong-1")
    try:
        driver.find_element(By.ID, "nav-chat").click()
        driver.find_element(By.ID, "chat-new").click()
        box = wait(driver, lambda d: d.find_elements(By.ID, "chat-input"), what="the chat box")[0]
        box.send_keys("Write tag(s): the string reversed and upper-cased, in brackets.")
        box.send_keys(Keys.SHIFT, Keys.ENTER)
        box.send_keys("For example: tag('ab') ➞ '[BA]'")
        summary = wait(driver, lambda d: d.find_elements(By.ID, "chat-checks-summary"), what="the checks")[0]
        assert summary.text.startswith("1 check from the prompt's examples"), summary.text
        before = len(driver.find_elements(By.CSS_SELECTOR, ".msg.assistant[data-message]"))
        driver.find_element(By.ID, "chat-send").click()
        answer = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".msg.assistant[data-message]")[before:] or None,
                      timeout=120, what="the verified answer")[0]
        steps = [li.text for li in answer.find_elements(By.CSS_SELECTOR, "ol.cascade li")]
        assert steps[0].startswith("local") and "failed" in steps[0], steps
        assert steps[1].startswith("mid") and "passed" in steps[1], steps
        assert answer.get_attribute("data-verified") == "true"
        checks = answer.find_element(By.CSS_SELECTOR, ".answer-checks").get_attribute("textContent")
        assert "assert tag('ab') == '[BA]'" in checks, checks
    finally:
        cli("tiers", "set", "local", "--provider", "local", "--model", "smollm2")


def test_add_checks_proposes_the_user_edits_and_accepts_and_the_answer_is_verified_against_the_edit(driver):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select
    driver.find_element(By.ID, "nav-chat").click()
    driver.find_element(By.ID, "chat-new").click()
    box = wait(driver, lambda d: d.find_elements(By.ID, "chat-input"), what="the chat box")[0]
    box.send_keys("Write tag(s) that returns s reversed, upper-cased and in square brackets.")
    wait(driver, lambda d: d.find_elements(By.ID, "chat-checks-none"), what="no checks in the prompt")
    Select(driver.find_element(By.ID, "chat-checks-tier")).select_by_value("mid")
    driver.find_element(By.ID, "chat-checks-add").click()
    second = wait(driver, lambda d: d.find_elements(By.ID, "chat-proposed-1"), what="the proposed checks")[0]
    assert second.get_attribute("value") == "assert tag('x') == '[Y]'"
    # The user fixes the wrong one, then accepts.
    second.send_keys(Keys.CONTROL, "a")
    second.send_keys("assert tag('x') == '[X]'")
    wait(driver, lambda d: d.find_element(By.ID, "chat-proposed-1").get_attribute("value") == "assert tag('x') == '[X]'",
         what="the edit")
    driver.find_element(By.ID, "chat-checks-accept").click()
    summary = wait(driver, lambda d: d.find_elements(By.ID, "chat-checks-summary"), what="the accepted checks")[0]
    assert summary.text.startswith("2 checks you settled on"), summary.text
    # Straight to mid: with the unedited check its answer would fail (and top has no key), so a pass proves the
    # edited checks were the ones run.
    Select(driver.find_element(By.ID, "chat-tier")).select_by_value("mid")
    before = len(driver.find_elements(By.CSS_SELECTOR, ".msg.assistant[data-message]"))
    driver.find_element(By.ID, "chat-send").click()
    answer = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".msg.assistant[data-message]")[before:] or None,
                  timeout=120, what="the verified answer")[0]
    Select(driver.find_element(By.ID, "chat-tier")).select_by_value("")
    steps = [li.text for li in answer.find_elements(By.CSS_SELECTOR, "ol.cascade li")]
    assert steps and steps[0].startswith("mid") and "passed" in steps[0], steps
    assert answer.get_attribute("data-verified") == "true"
    checks = answer.find_element(By.CSS_SELECTOR, ".answer-checks").get_attribute("textContent")
    assert "assert tag('x') == '[X]'" in checks and "[Y]" not in checks, checks
