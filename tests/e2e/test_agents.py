"""The coding agents developers use, run for real through `complexitynet serve`, offline: Claude Code (from npm,
`ANTHROPIC_BASE_URL`) and Codex CLI (from npm, a `wire_api = "responses"` provider), and the official `openai`
client with tools. The cloud tiers are a loopback server speaking the real OpenAI and Anthropic wire formats
whose models call the client's own tools (tests/e2e/fake_tiers.py): a file is written by the agent's Write tool,
a project's tests are run by its Bash tool.

- Claude Code finishes a tool-using task through an OpenAI-compatible tier, routed under its own model name, and
  `--model top` pins the top tier;
- Codex finishes one through an Anthropic tier;
- a cheap tier whose edits keep failing the project's tests hands the turn to the next tier, whose edit makes
  them pass; the ledger shows both, and the cheap tier's calls claim no savings;
- the openai client's tool calls round-trip, streamed and not.
"""

import json
import os
import pathlib
import subprocess
import tempfile

import openai
import pytest

import fake_tiers

APP = os.environ["APP_BINARY"]
MODELS = pathlib.Path(os.environ["COMPLEXITYNET_TEST_MODELS"])
# The clients installed from npm by scripts/test.sh (node_modules/.bin): a missing one is a failure, not a skip.
AGENTS = pathlib.Path(os.environ.get("AGENT_CLIENTS", ""))
KEY = "cn-agents-test-key"


def agent_bin(name):
    path = AGENTS / name
    assert path.exists(), f"{path} is missing: scripts/test.sh installs the agents from npm (AGENT_CLIENTS)"
    return str(path)


class Served:
    """A data dir, the loopback tiers, and `complexitynet serve` over them."""

    def __init__(self, mid_provider="fake", mid="fake-writer-mid", top="fake-writer-top"):
        self.tiers = fake_tiers.start()
        port = self.tiers.server_address[1]
        self.data = tempfile.mkdtemp()
        self.cli("models", "add", str(MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"), "--name", "smollm2")
        self.cli("tiers", "set", "local", "--model", "smollm2", "--price-in", "0", "--price-out", "0")
        self.cli("providers", "set", "fake", "--kind", "openai", "--base-url", f"http://127.0.0.1:{port}/v1")
        self.cli("providers", "set", "fakeanth", "--kind", "anthropic", "--base-url", f"http://127.0.0.1:{port}")
        # mid costs a tenth of top; a budget of a tenth buys mid for what local cannot take (tool calls).
        self.cli("tiers", "set", "mid", "--provider", mid_provider, "--model", mid, "--price-in", "0.00025",
                 "--price-out", "0.001")
        self.cli("tiers", "set", "top", "--provider", "fake", "--model", top, "--price-in", "0.0025",
                 "--price-out", "0.01")
        self.cli("route-policy", "--cost-share", "0.1")
        self.proc = subprocess.Popen([APP, "--data-dir", self.data, "serve", "--port", "0", "--api-key", KEY],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line + self.proc.stderr.read()
        self.url = line.split()[2]  # http://127.0.0.1:PORT/v1
        self.base = self.url.removesuffix("/v1")

    def cli(self, *args):
        out = subprocess.run([APP, "--data-dir", self.data, *args], check=True, capture_output=True, text=True)
        return out.stdout

    def usage(self, by):
        return json.loads(self.cli("usage", "--by", by, "--json"))["rows"]

    def models(self):
        return [r["body"]["model"] for r in self.tiers.requests]

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self.tiers.shutdown()


@pytest.fixture
def served():
    made = []

    def make(**kw):
        s = Served(**kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def claude(s, prompt, cwd, *extra):
    home = tempfile.mkdtemp()
    env = dict(os.environ, HOME=home, ANTHROPIC_BASE_URL=s.base, ANTHROPIC_API_KEY=KEY,
               CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1")
    out = subprocess.run([agent_bin("claude"), "-p", prompt, "--output-format", "json", *extra], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


def codex(s, prompt, cwd):
    home = tempfile.mkdtemp()
    pathlib.Path(home, "config.toml").write_text(
        'model = "gpt-5-codex"\nmodel_provider = "cn"\n[model_providers.cn]\nname = "ComplexityNet"\n'
        f'base_url = "{s.url}"\nenv_key = "CN_KEY"\nwire_api = "responses"\n')
    env = dict(os.environ, CODEX_HOME=home, CN_KEY=KEY)
    out = subprocess.run([agent_bin("codex"), "exec", "--skip-git-repo-check",
                          "--dangerously-bypass-approvals-and-sandbox", prompt], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_claude_code_writes_a_file_through_an_openai_tier_routed_under_its_own_model_name(served):
    s = served()
    work = tempfile.mkdtemp()
    target = pathlib.Path(work, "hello.txt")
    r = claude(s, f"Create the file. FILE={target} CONTENT=hi-from-claude", work, "--allowedTools", "Write")
    assert r["subtype"] == "success" and r["result"] == "Done: the file is written.", r
    assert target.read_text() == "hi-from-claude", "Claude Code's own Write tool wrote it"
    # Claude Code named its own model; it was routed: tools rule out the local tier, the budget buys mid.
    assert set(s.models()) == {"fake-writer-mid"}, s.models()
    bodies = [r["body"] for r in s.tiers.requests]
    assert bodies[0]["tools"] and any(t["function"]["name"] == "Write" for t in bodies[0]["tools"])
    assert bodies[-1]["messages"][-1]["role"] == "tool", "the tool's result came back to the tier"
    assert bodies[0]["max_tokens"] <= 64000
    rows = {r["key"]: r for r in s.usage("client")}
    assert rows["claude-cli"]["calls"] == len(s.tiers.requests), rows
    conv = s.usage("conversation")
    assert len(conv) == 1, "the tool rounds are one conversation: %s" % conv
    # Pinned: `--model top` names a tier.
    s.tiers.requests.clear()
    target2 = pathlib.Path(work, "again.txt")
    claude(s, f"Create the file. FILE={target2} CONTENT=pinned", work, "--allowedTools", "Write", "--model", "top")
    assert target2.read_text() == "pinned"
    assert set(s.models()) == {"fake-writer-top"}, s.models()


def test_codex_writes_a_file_through_an_anthropic_tier(served):
    s = served(mid_provider="fakeanth", mid="fake-writer-claude")
    work = tempfile.mkdtemp()
    target = pathlib.Path(work, "codex.txt")
    out = codex(s, f"Create the file. FILE={target} CONTENT=hi-from-codex", work)
    assert "Done: the file is written." in out, out
    assert target.read_text().strip() == "hi-from-codex", "Codex's exec_command wrote it"
    paths = {r["path"] for r in s.tiers.requests}
    assert paths == {"/v1/messages"}, "Codex's Responses requests reached the Anthropic tier as Messages"
    first = s.tiers.requests[0]["body"]
    assert any(t["name"] == "exec_command" for t in first["tools"]), first["tools"]
    last = s.tiers.requests[-1]["body"]["messages"]
    assert any(b.get("type") == "tool_result" for m in last if isinstance(m["content"], list) for b in m["content"])
    rows = {r["key"]: r for r in s.usage("client")}
    assert "codex_exec" in rows, rows


def test_a_cheap_tier_whose_edits_keep_failing_the_tests_hands_the_turn_up(served):
    s = served(mid="fake-weak-mid", top="fake-strong-top")
    work = tempfile.mkdtemp()
    pathlib.Path(work, "test_add.py").write_text(fake_tiers.TESTS)
    pathlib.Path(work, "add.py").write_text("def add(a, b):\n    raise NotImplementedError\n")
    r = claude(s, f"Make the tests pass. PROJECT={work}", work, "--allowedTools", "Write Bash")
    assert r["result"] == "All tests pass now: add returns a + b.", r
    assert pathlib.Path(work, "add.py").read_text() == fake_tiers.FIXED
    done = subprocess.run(["python3", "test_add.py"], cwd=work, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    models = s.models()
    # mid wrote, ran the tests (failing), wrote again, ran them again (failing again): the turn climbed.
    assert models[:4] == ["fake-weak-mid"] * 4 and set(models[4:]) == {"fake-strong-top"}, models
    tiers = {r["key"]: r for r in s.usage("tier")}
    assert tiers["mid"]["calls"] == 4 and tiers["top"]["calls"] == len(models) - 4, tiers
    assert tiers["mid"]["top_usd"] == 0, "the abandoned tier's calls claim no savings"
    assert tiers["top"]["top_usd"] == pytest.approx(tiers["top"]["cost_usd"]), tiers


def test_the_openai_clients_tool_calls_round_trip_streamed_and_not(served):
    s = served()
    c = openai.OpenAI(base_url=s.url, api_key=KEY)
    tools = [{"type": "function", "function": {"name": "Write", "description": "Write a file",
              "parameters": {"type": "object", "properties": {"file_path": {"type": "string"},
                             "content": {"type": "string"}}, "required": ["file_path", "content"]}}}]
    msgs = [{"role": "user", "content": "Create it. FILE=/tmp/x.txt CONTENT=abc ✓"}]
    for stream in (False, True):
        if stream:
            chunks = list(c.chat.completions.create(model="auto", messages=msgs, tools=tools, stream=True,
                                                    stream_options={"include_usage": True}))
            calls = {}
            for ch in chunks:
                for d in (ch.choices[0].delta.tool_calls or []) if ch.choices else []:
                    cur = calls.setdefault(d.index, {"id": d.id, "name": d.function.name, "arguments": ""})
                    cur["arguments"] += d.function.arguments or ""
            finish = [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason]
            assert finish == ["tool_calls"], finish
            assert chunks[-1].usage.completion_tokens == 20 and not chunks[-1].choices
            call = calls[0]
        else:
            r = c.chat.completions.create(model="auto", messages=msgs, tools=tools)
            assert r.choices[0].finish_reason == "tool_calls"
            tc = r.choices[0].message.tool_calls[0]
            call = {"id": tc.id, "name": tc.function.name, "arguments": tc.function.arguments}
        assert call["name"] == "Write" and json.loads(call["arguments"]) == {"file_path": "/tmp/x.txt", "content": "abc"}
        follow = msgs + [{"role": "assistant", "content": None, "tool_calls": [
            {"id": call["id"], "type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}]},
            {"role": "tool", "tool_call_id": call["id"], "content": "written"}]
        r2 = c.chat.completions.create(model="auto", messages=follow, tools=tools)
        assert r2.choices[0].message.content == "Done: the file is written."
        assert r2.model_extra["complexitynet"]["tier"] == "mid"
