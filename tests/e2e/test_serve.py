"""The OpenAI-compatible server (`complexitynet serve`) driven by the official `openai` Python client and by curl:
model `auto` routed by the shipped classifier to the real local model (SmolLM2), streaming and not; the tier and
level reported in the body and headers; OpenAI-style errors; 50 concurrent clients against a fast tier; a client
that disconnects mid-stream cancels the upstream generation. The cloud tiers are a loopback server speaking the
OpenAI wire format (no paid API is reached)."""

import concurrent.futures
import http.server
import json
import os
import pathlib
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import openai
import pytest

APP = os.environ["APP_BINARY"]
MODELS = pathlib.Path(os.environ["COMPLEXITYNET_TEST_MODELS"])
KEY = "cn-serve-test-key"


class FakeCloud(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), FakeHandler)
        self.aborted = 0
        self.requests = 0


class FakeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.server.requests += 1
        if body["model"] == "limited":
            # A tier over its rate limit for the next hour.
            out = json.dumps({"error": {"message": "Rate limit reached", "type": "rate_limit_exceeded", "code": "rate_limit_exceeded"}}).encode()
            self.send_response(429)
            self.send_header("content-type", "application/json")
            self.send_header("retry-after", "3600")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        text = "ok " + body["messages"][-1]["content"][-8:]
        if body["model"] == "coder-wrong":
            text = "```python\ndef add(a, b):\n    return a - b\n```"
        elif body["model"] == "coder-right":
            text = "Here it is:\n```python\ndef add(a, b):\n    return a + b\n```"
        if not body.get("stream"):
            out = json.dumps({"id": "x", "object": "chat.completion", "model": body["model"],
                              "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                              "usage": {"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        pieces = 200 if body["model"] == "slow" else 3
        try:
            for i in range(pieces):
                chunk = {"id": "x", "object": "chat.completion.chunk", "model": body["model"],
                         "choices": [{"index": 0, "delta": {"content": f"w{i} "}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                if pieces > 3:
                    time.sleep(0.05)
            end = {"id": "x", "object": "chat.completion.chunk", "model": body["model"],
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 10, "completion_tokens": pieces, "total_tokens": 10 + pieces}}
            self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.server.aborted += 1


@pytest.fixture(scope="module")
def server():
    cloud = FakeCloud()
    threading.Thread(target=cloud.serve_forever, daemon=True).start()
    data = tempfile.mkdtemp()

    def cli(*args):
        subprocess.run([APP, "--data-dir", data, *args], check=True, capture_output=True)

    cli("models", "add", str(MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"), "--name", "smollm2")
    cli("tiers", "set", "local", "--model", "smollm2")
    cli("providers", "set", "fakecloud", "--kind", "openai", "--base-url", f"http://127.0.0.1:{cloud.server_port}/v1")
    cli("tiers", "set", "mid", "--provider", "fakecloud", "--model", "fast")
    cli("tiers", "set", "top", "--provider", "fakecloud", "--model", "slow")
    # A budget of 0.5% of always-top's cost buys only the local tier: `auto` answers there.
    cli("route-policy", "--cost-share", "0.005")
    proc = subprocess.Popen([APP, "--data-dir", data, "serve", "--port", "0", "--api-key", KEY],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("listening on http://127.0.0.1:"), line + proc.stderr.read()
    url = line.split()[2]
    yield url, cloud
    proc.terminate()
    proc.wait(timeout=10)


def client(url):
    return openai.OpenAI(base_url=url, api_key=KEY)


@pytest.fixture(scope="module")
def limited(server):
    """A second server whose routed tier (every level → top) is rate-limited; mid answers below it."""
    _, cloud = server
    data = tempfile.mkdtemp()

    def cli(*args):
        subprocess.run([APP, "--data-dir", data, *args], check=True, capture_output=True)

    cli("providers", "set", "fakecloud", "--kind", "openai", "--base-url", f"http://127.0.0.1:{cloud.server_port}/v1")
    cli("tiers", "set", "mid", "--provider", "fakecloud", "--model", "fast")
    cli("tiers", "set", "top", "--provider", "fakecloud", "--model", "limited")
    cli("route-policy", "--map", "0-2:3")
    proc = subprocess.Popen([APP, "--data-dir", data, "serve", "--port", "0", "--api-key", KEY],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("listening on http://127.0.0.1:"), line + proc.stderr.read()
    yield line.split()[2]
    proc.terminate()
    proc.wait(timeout=10)


def test_auto_falls_through_a_rate_limited_tier_like_the_chat(limited):
    raw = client(limited).chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "Write a function to add two numbers."}])
    assert raw.headers["x-complexitynet-tier"] == "mid", "the header names the tier that answered"
    r = raw.parse()
    assert r.choices[0].message.content == "ok numbers."
    info = r.model_extra["complexitynet"]
    assert info["tier"] == "mid"
    assert info["attempts"][0]["tier"] == "top" and "Rate limit" in info["attempts"][0]["error"], info
    assert "top failed, so mid answers" in info["reason"], info
    # Streaming too: the first chunk already names the tier that answers.
    chunks = list(client(limited).chat.completions.create(
        model="auto", stream=True, messages=[{"role": "user", "content": "Write a function to add two numbers."}]))
    assert chunks[0].model_extra["complexitynet"]["tier"] == "mid"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).strip()


@pytest.fixture(scope="module")
def verified(server):
    """A third server whose local tier answers wrong code and mid right code (both the loopback cloud)."""
    _, cloud = server
    data = tempfile.mkdtemp()

    def cli(*args):
        subprocess.run([APP, "--data-dir", data, *args], check=True, capture_output=True)

    cli("providers", "set", "fakecloud", "--kind", "openai", "--base-url", f"http://127.0.0.1:{cloud.server_port}/v1")
    cli("tiers", "set", "local", "--provider", "fakecloud", "--model", "coder-wrong")
    cli("tiers", "set", "mid", "--provider", "fakecloud", "--model", "coder-right")
    cli("tiers", "set", "top", "--provider", "fakecloud", "--model", "slow")
    # A budget of 0.5% of always-top's cost buys only the local tier: `auto` answers there.
    cli("route-policy", "--cost-share", "0.005")
    proc = subprocess.Popen([APP, "--data-dir", data, "serve", "--port", "0", "--api-key", KEY],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("listening on http://127.0.0.1:"), line + proc.stderr.read()
    yield line.split()[2]
    proc.terminate()
    proc.wait(timeout=10)


def test_tests_in_the_request_take_the_verified_cascade(verified):
    tests = ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]
    raw = client(verified).chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "Write add(a, b)."}],
        extra_body={"complexitynet": {"tests": tests}})
    assert raw.headers["x-complexitynet-tier"] == "mid", "the tier whose answer passed"
    r = raw.parse()
    assert "a + b" in r.choices[0].message.content
    v = r.model_extra["complexitynet"]["verification"]
    assert v["passed"] and v["tests"] == 2, v
    assert [(s["tier"], s["passed"]) for s in v["steps"]] == [("local", False), ("mid", True)], v
    assert "failed at assert" in v["steps"][0]["verdict"], v
    # The prompt's own asserts do the same, streamed; "never the top tier" caps the climb.
    chunks = list(client(verified).chat.completions.create(
        model="auto", stream=True, messages=[{"role": "user", "content": "Write add(a, b).\nassert add(2, 2) == 4"}],
        extra_body={"complexitynet": {"max_tier": "mid"}}))
    assert chunks[0].model_extra["complexitynet"]["tier"] == "mid"
    assert "a + b" in "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    end = [c.model_extra["complexitynet"] for c in chunks if c.model_extra.get("complexitynet", {}).get("verification")]
    assert end and end[-1]["verification"]["passed"], chunks[-1]
    # A bad tests list is a 400 naming the field.
    with pytest.raises(openai.BadRequestError) as e:
        client(verified).chat.completions.create(model="auto", messages=[{"role": "user", "content": "x"}],
                                                 extra_body={"complexitynet": {"tests": ["print(1)"]}})
    assert e.value.body["param"] == "complexitynet.tests", e.value.body


def test_out_of_range_fields_get_a_400_naming_the_field(server):
    url, _ = server
    c = client(url)
    for kwargs, field in [({"max_tokens": -5}, "max_tokens"), ({"temperature": 3}, "temperature"), ({"n": 2}, "n")]:
        with pytest.raises(openai.BadRequestError) as e:
            c.chat.completions.create(model="mid", messages=[{"role": "user", "content": "x"}], **kwargs)
        assert e.value.body["param"] == field, e.value.body


def test_models_lists_auto_and_each_tier(server):
    url, _ = server
    ids = [m.id for m in client(url).models.list()]
    assert ids == ["auto", "local", "mid", "top"]


def test_auto_routes_an_easy_prompt_to_the_local_model_without_streaming(server):
    url, _ = server
    raw = client(url).chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "Write a function to add two numbers."}], max_tokens=16, temperature=0)
    assert raw.headers["x-complexitynet-tier"] == "local"
    assert raw.headers["x-complexitynet-level"] == "0"
    r = raw.parse()
    assert r.choices[0].message.content.strip(), "SmolLM2 answered"
    assert r.model == "smollm2"
    info = r.model_extra["complexitynet"]
    assert info["tier"] == "local" and info["level"] == 0 and len(info["probabilities"]) == 3
    assert info["saved_usd"] > 0, "cheaper than the top tier"
    assert r.usage.completion_tokens > 0


def test_auto_streams_with_the_level_before_the_text(server):
    url, _ = server
    stream = client(url).chat.completions.create(
        model="auto", stream=True, max_tokens=12, temperature=0,
        messages=[{"role": "user", "content": "Write a function to add two numbers."}])
    chunks = list(stream)
    assert chunks[0].model_extra["complexitynet"]["level"] == 0, "the level comes first"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert chunks[-1].choices[0].finish_reason in ("stop", "length")


def test_curl_works_and_errors_are_openai_style(server):
    url, _ = server
    out = subprocess.run(["curl", "-s", "-H", f"Authorization: Bearer {KEY}", "-H", "content-type: application/json",
                          "-d", json.dumps({"model": "mid", "messages": [{"role": "user", "content": "hello there"}]}),
                          f"{url}/chat/completions"], capture_output=True, text=True, check=True)
    body = json.loads(out.stdout)
    assert body["choices"][0]["message"]["content"] == "ok lo there"
    assert body["complexitynet"]["tier"] == "mid"

    def status(body: bytes, key=KEY):
        req = urllib.request.Request(f"{url}/chat/completions", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {key}", "content-type": "application/json"})
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    msg = [{"role": "user", "content": "x"}]
    code, err = status(b"{not json")
    assert code == 400 and err["error"]["type"] == "invalid_request_error"
    # A model no tier serves (a client's own default, say) is routed, not refused.
    code, body = status(json.dumps({"model": "gpt-9", "messages": msg}).encode())
    assert code == 200 and body["complexitynet"]["tier"] in ("local", "mid", "top"), body
    code, err = status(json.dumps({"model": "auto", "messages": []}).encode())
    assert code == 400 and "messages" in err["error"]["message"]
    code, err = status(json.dumps({"model": "auto", "messages": [{"role": "user", "content": "a" * (2 << 20)}]}).encode())
    assert code == 413 and err["error"]["code"] == "request_too_large"
    code, err = status(json.dumps({"model": "auto", "messages": msg}).encode(), key="wrong")
    assert code == 401 and err["error"]["code"] == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=url, api_key="wrong").models.list()


def test_fifty_concurrent_clients_get_their_own_answers(server):
    url, _ = server
    c = client(url)

    def one(i):
        r = c.chat.completions.create(model="mid", messages=[{"role": "user", "content": f"request {i:04d}"}])
        return r.choices[0].message.content

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(one, range(50)))
    assert answers == [f"ok est {i:04d}" for i in range(50)], "each client got the answer to its own prompt"
    assert [m.id for m in c.models.list()][0] == "auto", "still up"


def test_a_client_that_disconnects_mid_stream_cancels_the_generation(server):
    url, cloud = server
    before = cloud.aborted
    # `top` streams from the fake cloud's slow model: 200 pieces over 10 s.
    req = urllib.request.Request(f"{url}/chat/completions", method="POST",
                                 data=json.dumps({"model": "top", "stream": True, "messages": [{"role": "user", "content": "go"}]}).encode(),
                                 headers={"Authorization": f"Bearer {KEY}", "content-type": "application/json"})
    resp = urllib.request.urlopen(req)
    got = []
    while len(got) < 3:
        line = resp.readline()
        if line.startswith(b"data: "):
            got.append(line)
    resp.close()  # the client goes away mid-stream
    deadline = time.time() + 5
    while cloud.aborted == before and time.time() < deadline:
        time.sleep(0.05)
    assert cloud.aborted == before + 1, "the upstream generation was cancelled, not run to its end"
