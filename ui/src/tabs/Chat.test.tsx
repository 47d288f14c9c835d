import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { Channel } from "@tauri-apps/api/core";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { ChatEvent, ChatMessage } from "../ipc/types";
import { blocks, ChatTab } from "./Chat";

afterEach(() => {
  cleanup();
  clearMocks();
});

const decision = { level: 0, tier: "local", model: "smollm2", probabilities: [0.9, 0.05, 0.05], levels: [0, 1, 2], reason: "level 0 → L1 (paper map)", classifier: "default", expected: [], chosen: "local", flagged: false, available: true, tiers: [{ tier: "local", model: "smollm2", expected: null, available: true, note: "local model installed", learned_for: "codellama-7b-python", calibrated: false, source: "not learned for smollm2 (the classifier's figure is codellama-7b-python's)" }, { tier: "mid", model: "gpt-4o-mini", expected: 0.8, available: true, note: "", learned_for: null, calibrated: true, source: "published: MBPP 80.0%" }], budget: null, router: null };

function backend() {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  let stored: ChatMessage[] = [];
  mockIPC((cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: a });
    switch (cmd) {
      case "chat_conversations":
        return stored.length ? [{ id: 1, title: "add", created_at: "", messages: stored.length }] : [];
      case "chat_totals":
        return { today: { answers: 1, cost_usd: 0.000003, saved_usd: 0.0004, failing: 0 }, month: { answers: 1, cost_usd: 0.000003, saved_usd: 0.0004, failing: 0 } };
      case "tiers_list":
        return { cost_mode: "usd", tiers: [{ name: "local" }, { name: "mid" }, { name: "top" }], providers: [] };
      case "chat_messages":
        return stored;
      case "chat_send": {
        const ch = a.on_event as Channel<ChatEvent>;
        ch.onmessage({ event: "routed", decision });
        ch.onmessage({ event: "piece", text: "```python\ndef add(a, b):\n" });
        ch.onmessage({ event: "piece", text: "    return a + b\n```" });
        const answer: ChatMessage = { id: 2, conversation_id: 1, role: "assistant", content: "```python\ndef add(a, b):\n    return a + b\n```", tier: "local", model: "smollm2", level: 0, route: { decision, verification: null }, prompt_tokens: 12, completion_tokens: 9, cost_usd: 0.000004, saved_usd: 0.0006, feedback: null, verified: null, created_at: "" };
        stored = [{ ...answer, id: 1, role: "user", content: a.prompt as string, route: null, tier: null, model: null, level: null }, answer];
        return answer;
      }
      case "chat_feedback":
        stored = stored.map((m) => (m.id === a.message ? { ...m, feedback: a.feedback as string } : m));
        return null;
      case "prompt_checks":
        return { entry_point: null, prelude: "", setup: "", stub: "", items: [] };
      default:
        throw { code: "internal", message: `unexpected ${cmd}` };
    }
  });
  return calls;
}

describe("Chat tab", () => {
  it("shows the level and tier, then the answer with its cost and savings", async () => {
    const calls = backend();
    render(<ChatTab />);
    fireEvent.change(await screen.findByLabelText("Message"), { target: { value: "add two numbers" } });
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    await waitFor(() => expect(document.querySelector('.msg.assistant[data-message="2"] .route-tier')?.textContent).toBe("local"));
    const msg = document.querySelector('.msg.assistant[data-message="2"]')!;
    expect(msg.querySelector(".level-badge")?.textContent).toBe("level 0");
    // What routing knows of each tier's model: never a figure learned for another model.
    expect(msg.querySelector('.route-tiers li[data-tier="local"]')?.textContent).toContain("not learned for smollm2");
    expect(msg.querySelector('.route-tiers li[data-tier="mid"]')?.textContent).toContain("passes 80% (published: MBPP 80.0%)");
    expect(msg.querySelector("pre.code .tok-kw")?.textContent).toBe("def");
    expect(msg.querySelector(".msg-meta")?.textContent).toContain("12 + 9 tokens");
    expect(msg.querySelector(".msg-meta")?.textContent).toContain("saved $0.0006");
    expect(calls.find((c) => c.cmd === "chat_send")?.args).toMatchObject({ conversation: null, prompt: "add two numbers", tier: null });
  });

  it("sends feedback and regenerates on another tier", async () => {
    const calls = backend();
    render(<ChatTab />);
    fireEvent.change(await screen.findByLabelText("Message"), { target: { value: "add two numbers" } });
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    await waitFor(() => expect(document.querySelector('[data-feedback="worked"]')).toBeTruthy());
    fireEvent.click(document.querySelector('[data-feedback="worked"]')!);
    await waitFor(() => expect(calls.some((c) => c.cmd === "chat_feedback" && c.args.feedback === "worked")).toBe(true));
    fireEvent.click(screen.getByRole("button", { name: "top" }));
    await waitFor(() => expect(calls.filter((c) => c.cmd === "chat_send").length).toBe(2));
    expect(calls.filter((c) => c.cmd === "chat_send")[1].args).toMatchObject({ conversation: 1, prompt: "add two numbers", tier: "top" });
  });
});

describe("blocks", () => {
  it("splits prose and fenced code, even an unclosed fence while streaming", () => {
    expect(blocks("Here:\n```python\nx = 1\n```\nDone")).toEqual([
      { code: false, lang: "", text: "Here:\n" },
      { code: true, lang: "python", text: "x = 1" },
      { code: false, lang: "", text: "\nDone" },
    ]);
    expect(blocks("```py\nx = ")).toEqual([{ code: true, lang: "py", text: "x = " }]);
  });
});

describe("Chat tab: the verified cascade", () => {
  it("shows each tier's verdict when a prompt carries asserts", async () => {
    mockIPC((cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      if (cmd === "chat_conversations") return [];
      if (cmd === "chat_totals") return { today: { answers: 0, cost_usd: 0, saved_usd: 0, failing: 0 }, month: { answers: 0, cost_usd: 0, saved_usd: 0, failing: 0 } };
      if (cmd === "tiers_list") return { cost_mode: "usd", tiers: [{ name: "local" }, { name: "mid" }], providers: [] };
      if (cmd === "chat_messages") return [];
      if (cmd === "prompt_checks") return { entry_point: "add", prelude: "", setup: "", stub: "", items: [{ kind: "assert", source: "assert add(1, 2) == 3", code: "assert add(1, 2) == 3" }] };
      if (cmd === "chat_send") {
        const ch = a.on_event as Channel<ChatEvent>;
        ch.onmessage({ event: "routed", decision });
        ch.onmessage({ event: "checks", summary: "1 check (assert) from the prompt's examples", checks: [] });
        ch.onmessage({ event: "step", tier: "local", model: "smollm2", verdict: "failed at assert 0 (0/1 asserts passed)", passed: false });
        // Hold the answer back so the live view can be inspected.
        return new Promise(() => undefined);
      }
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    render(<ChatTab />);
    fireEvent.change(await screen.findByLabelText("Message"), { target: { value: "add\nassert add(1, 2) == 3" } });
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    await waitFor(() => expect(document.querySelector("#chat-live ol.cascade li.failed")?.textContent).toContain("failed at assert 0"));
    expect(document.querySelector("#chat-live-checks")?.textContent).toBe("1 check (assert) from the prompt's examples");
  });
});

describe("Chat tab: the honest ledger", () => {
  it("marks an answer that failed its tests, claims no savings for it, and sends the chat's cap", async () => {
    const calls: { cmd: string; args: Record<string, unknown> }[] = [];
    let stored: ChatMessage[] = [];
    mockIPC((cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args: a });
      if (cmd === "chat_conversations") return stored.length ? [{ id: 1, title: "add", created_at: "", messages: 2 }] : [];
      if (cmd === "chat_totals")
        return { today: { answers: 1, cost_usd: 0.01, saved_usd: 0, failing: 1 }, month: { answers: 1, cost_usd: 0.01, saved_usd: 0, failing: 1 } };
      if (cmd === "tiers_list") return { cost_mode: "usd", tiers: [{ name: "local" }, { name: "mid" }, { name: "top" }], providers: [] };
      if (cmd === "chat_messages") return stored;
      if (cmd === "prompt_checks") return { entry_point: "add", prelude: "", setup: "", stub: "", items: [] };
      if (cmd === "chat_send") {
        const cascade = [
          { tier: "local", model: "smollm2", verdict: "failed at assert 0 (0/1 asserts passed)", passed: false, cost_usd: 0.000004 },
          { tier: "mid", model: "gpt", verdict: "failed at assert 0 (0/1 asserts passed)", passed: false, cost_usd: 0.0003 },
        ];
        const answer: ChatMessage = { id: 2, conversation_id: 1, role: "assistant", content: "def add(a, b): return a - b", tier: "mid", model: "gpt", level: 0, route: { decision, verification: { passed: false, tests: 1, checks: [{ kind: "assert", source: "assert add(1, 2) == 3", code: "assert add(1, 2) == 3" }], steps: cascade } }, prompt_tokens: 12, completion_tokens: 9, cost_usd: 0.000304, saved_usd: 0, feedback: null, verified: false, created_at: "" };
        stored = [{ ...answer, id: 1, role: "user", content: a.prompt as string, route: null, tier: null, model: null, level: null, verified: null }, answer];
        return answer;
      }
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    render(<ChatTab />);
    fireEvent.change(await screen.findByLabelText("Highest tier"), { target: { value: "mid" } });
    fireEvent.change(screen.getByLabelText("Message"), { target: { value: "add\nassert add(1, 2) == 3" } });
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    await waitFor(() => expect(document.querySelector('.msg.assistant[data-message="2"]')).toBeTruthy());
    const msg = document.querySelector('.msg.assistant[data-message="2"]')!;
    expect(msg.getAttribute("data-verified")).toBe("false");
    expect(msg.classList.contains("failing")).toBe(true);
    const meta = msg.querySelector(".msg-meta")?.textContent ?? "";
    expect(meta).toContain("failed its tests");
    expect(meta).toContain("no savings claimed");
    expect(meta).not.toContain("saved $");
    expect(msg.querySelectorAll("ol.cascade li.failed").length).toBe(2);
    expect(document.querySelector("#chat-totals")?.textContent).toContain("1 failing answer this month claims no savings");
    expect(calls.find((c) => c.cmd === "chat_send")?.args).toMatchObject({ max_tier: "mid", tier: null });
  });
});

describe("Chat tab: checks before the answer", () => {
  function checksBackend(derived: { kind: string; source: string; code: string }[]) {
    const calls: { cmd: string; args: Record<string, unknown> }[] = [];
    mockIPC((cmd, args) => {
      const a = (args ?? {}) as Record<string, unknown>;
      calls.push({ cmd, args: a });
      if (cmd === "chat_conversations") return [];
      if (cmd === "chat_totals") return { today: { answers: 0, cost_usd: 0, saved_usd: 0, failing: 0 }, month: { answers: 0, cost_usd: 0, saved_usd: 0, failing: 0 } };
      if (cmd === "tiers_list") return { cost_mode: "usd", tiers: [{ name: "local" }, { name: "mid" }], providers: [] };
      if (cmd === "chat_messages") return [];
      if (cmd === "prompt_checks") return { entry_point: "add", prelude: "", setup: "", stub: "", items: derived };
      if (cmd === "propose_checks") return [{ kind: "proposed", source: "assert add(1, 2) == 3", code: "assert add(1, 2) == 3" }];
      if (cmd === "chat_send") return new Promise(() => undefined);
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    return calls;
  }

  it("shows the checks the prompt's examples give, and sends the user's edit of them", async () => {
    const calls = checksBackend([{ kind: "example", source: "add(1, 2) ➞ 3", code: "assert add(1, 2) == 3" }]);
    render(<ChatTab />);
    fireEvent.change(await screen.findByLabelText("Message"), { target: { value: "Write add.\nadd(1, 2) ➞ 3" } });
    await waitFor(() => expect(document.querySelector("#chat-checks-summary")?.textContent).toContain("1 check from the prompt's examples"));
    fireEvent.change(screen.getByLabelText("Check 1"), { target: { value: "assert add(2, 2) == 4" } });
    expect(document.querySelector("#chat-checks-summary")?.textContent).toContain("1 check you settled on");
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    await waitFor(() => expect(calls.some((c) => c.cmd === "chat_send")).toBe(true));
    expect(calls.find((c) => c.cmd === "chat_send")?.args.checks).toEqual([{ kind: "user", source: "add(1, 2) ➞ 3", code: "assert add(2, 2) == 4" }]);
  });

  it("offers Add checks when there are none: a tier proposes, the user accepts, the answer is verified by them", async () => {
    const calls = checksBackend([]);
    render(<ChatTab />);
    fireEvent.change(await screen.findByLabelText("Message"), { target: { value: "Write add(a, b) returning the sum." } });
    fireEvent.click(await screen.findByRole("button", { name: "Add checks" }));
    await waitFor(() => expect(screen.getByLabelText("Check 1")).toBeTruthy());
    expect(calls.find((c) => c.cmd === "propose_checks")?.args).toEqual({ prompt: "Write add(a, b) returning the sum.", tier: null });
    fireEvent.click(screen.getByRole("button", { name: "Accept 1 check" }));
    await waitFor(() => expect(document.querySelector("#chat-checks-summary")?.textContent).toContain("1 check you settled on"));
    fireEvent.click(screen.getByRole("button", { name: "Send" }));
    await waitFor(() => expect(calls.some((c) => c.cmd === "chat_send")).toBe(true));
    expect(calls.find((c) => c.cmd === "chat_send")?.args.checks).toEqual([{ kind: "proposed", source: "assert add(1, 2) == 3", code: "assert add(1, 2) == 3" }]);
  });
});
