"""Cloud tiers played by a loopback server that speaks the real OpenAI Chat Completions and Anthropic Messages
wire formats (JSON and SSE, tool calls included) and works like an agent's model: it calls the client's own
tools to do the task the prompt states, then answers.

Each model name behaves as it says:
  - ``*writer*``: writes the file the prompt names (``FILE=/abs/path CONTENT=text``), then says it is done;
  - ``*weak*``: writes a broken ``add.py`` and runs the project's tests, again and again (they keep failing);
  - ``*strong*``: writes a correct ``add.py``, runs the tests, and says they pass once they do.
The tools it calls are whichever the client offers: Claude Code's ``Write``/``Bash``, Codex's ``exec_command``.
Every request is appended to ``requests`` (and to the log file, one JSON line each) for the tests to read.
"""

import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BROKEN = "def add(a, b):\n    return a - b\n"
FIXED = "def add(a, b):\n    return a + b\n"
TESTS = "import unittest\nfrom add import add\n\nclass T(unittest.TestCase):\n    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\nunittest.main()\n"


def conversation(body, anthropic):
    """(texts of the human messages, tool results in order, the tool names offered, the tool calls made)."""
    humans, results, calls = [], [], []
    for m in body.get("messages", []):
        content = m.get("content")
        if anthropic and isinstance(content, list):
            for b in content:
                if b.get("type") == "text" and m["role"] == "user":
                    humans.append(b["text"])
                elif b.get("type") == "tool_result":
                    c = b.get("content")
                    results.append(c if isinstance(c, str) else "".join(x.get("text", "") for x in c or []))
                elif b.get("type") == "tool_use":
                    calls.append((b["name"], b.get("input", {})))
        elif m["role"] == "tool":
            results.append(content if isinstance(content, str) else json.dumps(content))
        elif m["role"] == "user":
            humans.append(content if isinstance(content, str) else "".join(p.get("text", "") for p in content or []))
        elif m["role"] == "assistant":
            for c in m.get("tool_calls") or []:
                calls.append((c["function"]["name"], json.loads(c["function"]["arguments"] or "{}")))
    if anthropic:
        tools = [t["name"] for t in body.get("tools", [])]
    else:
        tools = [t["function"]["name"] for t in body.get("tools", [])]
    return humans, results, tools, calls


def write_call(tools, path, content, new_file=True):
    # Claude Code's Write tool wants an existing file read first: a file written again goes through Bash.
    if "Write" in tools and new_file:
        return ("Write", {"file_path": path, "content": content})
    if "Bash" in tools:
        return ("Bash", {"command": f"cat > {path} <<'EOF'\n{content}EOF", "description": "Write the file"})
    if "exec_command" in tools:
        body = content if content.endswith("\n") else content + "\n"
        return ("exec_command", {"cmd": f"cat > {path} <<'EOF'\n{body}EOF"})
    return None


def run_call(tools, cwd):
    cmd = f"cd {cwd} && python3 test_add.py 2>&1; true"
    if "Bash" in tools:
        return ("Bash", {"command": cmd, "description": "Run the tests"})
    if "exec_command" in tools:
        return ("exec_command", {"cmd": cmd})
    return None


def act(model, humans, results, tools, calls):
    """The next step: ('call', name, args) or ('text', answer)."""
    prompt = "\n".join(humans)
    if "writer" in model or not tools:
        m = re.search(r"FILE=(\S+)\s+CONTENT=(\S+)", prompt)
        if m and not results and tools:
            c = write_call(tools, m.group(1), m.group(2))
            if c:
                return ("call",) + c
        return ("text", "Done: the file is written." if results else "Hello from the fake tier.")
    cwd = re.search(r"PROJECT=(\S+)", prompt)
    cwd = cwd.group(1) if cwd else "."
    if "weak" in model:
        # Writes the broken function, runs the tests, and does it again: it never fixes it.
        last = calls[-1][0] if calls else None
        if not calls or "test_add" in json.dumps(calls[-1][1]):
            return ("call",) + write_call(tools, f"{cwd}/add.py", BROKEN, new_file=False)
        return ("call",) + run_call(tools, cwd)
    # strong
    if results and re.search(r"\bOK\b", results[-1]) and "Ran" in results[-1]:
        return ("text", "All tests pass now: add returns a + b.")
    wrote_fixed = any(FIXED in str(args.get("content", "")) + str(args.get("cmd", "")) + str(args.get("command", ""))
                      for _, args in calls)
    if not wrote_fixed:
        return ("call",) + write_call(tools, f"{cwd}/add.py", FIXED, new_file=False)
    return ("call",) + run_call(tools, cwd)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply_json(self, obj, status=200):
        out = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def sse(self, events):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        for name, data in events:
            head = f"event: {name}\n" if name else ""
            self.wfile.write(f"{head}data: {data if isinstance(data, str) else json.dumps(data)}\n\n".encode())
            self.wfile.flush()
        self.close_connection = True

    def do_POST(self):
        n = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(n))
        anthropic = self.path.endswith("/v1/messages")
        self.server.requests.append({"path": self.path, "body": body})
        if self.server.log:
            with open(self.server.log, "a") as f:
                f.write(json.dumps({"path": self.path, "body": body}) + "\n")
        model = body.get("model", "")
        step = act(model, *conversation(body, anthropic))
        n_call = len(self.server.requests)
        if anthropic:
            self.anthropic(body, model, step, n_call)
        else:
            self.openai(body, model, step, n_call)

    def openai(self, body, model, step, n):
        usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
        if step[0] == "call":
            calls = [{"id": f"call_{n}", "type": "function", "function": {"name": step[1], "arguments": json.dumps(step[2])}}]
            msg, finish = {"role": "assistant", "content": None, "tool_calls": calls}, "tool_calls"
        else:
            msg, finish = {"role": "assistant", "content": step[1]}, "stop"
        if not body.get("stream"):
            return self.reply_json({"id": f"chatcmpl-{n}", "object": "chat.completion", "model": model,
                                    "choices": [{"index": 0, "message": msg, "finish_reason": finish}], "usage": usage})
        chunk = lambda delta, fin=None: {"id": f"c{n}", "object": "chat.completion.chunk", "model": model,
                                         "choices": [{"index": 0, "delta": delta, "finish_reason": fin}]}
        events = [(None, chunk({"role": "assistant", "content": ""}))]
        if step[0] == "call":
            args = json.dumps(step[2])
            events.append((None, chunk({"tool_calls": [{"index": 0, "id": f"call_{n}", "type": "function",
                                                        "function": {"name": step[1], "arguments": ""}}]})))
            for i in range(0, len(args), 7):  # the arguments in pieces, as real providers stream them
                events.append((None, chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[i:i + 7]}}]})))
        else:
            for i in range(0, len(step[1]), 5):
                events.append((None, chunk({"content": step[1][i:i + 5]})))
        events.append((None, chunk({}, finish)))
        events.append((None, {"id": f"c{n}", "object": "chat.completion.chunk", "model": model, "choices": [], "usage": usage}))
        events.append((None, "[DONE]"))
        self.sse(events)

    def anthropic(self, body, model, step, n):
        usage = {"input_tokens": 100, "output_tokens": 20}
        if step[0] == "call":
            content, stop = [{"type": "tool_use", "id": f"toolu_{n}", "name": step[1], "input": step[2]}], "tool_use"
        else:
            content, stop = [{"type": "text", "text": step[1]}], "end_turn"
        if not body.get("stream"):
            return self.reply_json({"id": f"msg_{n}", "type": "message", "role": "assistant", "model": model,
                                    "content": content, "stop_reason": stop, "stop_sequence": None, "usage": usage})
        events = [("message_start", {"type": "message_start", "message": {"id": f"msg_{n}", "type": "message",
                   "role": "assistant", "model": model, "content": [], "stop_reason": None,
                   "usage": {"input_tokens": 100, "output_tokens": 1}}})]
        if step[0] == "call":
            events.append(("content_block_start", {"type": "content_block_start", "index": 0,
                           "content_block": {"type": "tool_use", "id": f"toolu_{n}", "name": step[1], "input": {}}}))
            args = json.dumps(step[2])
            for i in range(0, len(args), 7):
                events.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                               "delta": {"type": "input_json_delta", "partial_json": args[i:i + 7]}}))
        else:
            events.append(("content_block_start", {"type": "content_block_start", "index": 0,
                           "content_block": {"type": "text", "text": ""}}))
            events.append(("content_block_delta", {"type": "content_block_delta", "index": 0,
                           "delta": {"type": "text_delta", "text": step[1]}}))
        events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
        events.append(("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 20}}))
        events.append(("message_stop", {"type": "message_stop"}))
        self.sse(events)


def start(port=0, log=None):
    """Starts the server in a thread; returns it (``server.server_address[1]`` is the port)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.requests = []
    server.log = log
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    s = start(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None)
    print(s.server_address[1], flush=True)
    threading.Event().wait()
