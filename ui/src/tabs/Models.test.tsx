import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { Channel } from "@tauri-apps/api/core";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { AskEvent } from "../ipc/types";
import { describeCompletion, ModelsTab } from "./Models";

afterEach(() => {
  cleanup();
  clearMocks();
});

const KEY = "sk-ui-test-0123456789WXYZ";

function backend(opts: { noStore?: string } = {}) {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  let stored: string | null = null;
  let calibrated = false;
  let preset = "openai";
  mockIPC((cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: a });
    switch (cmd) {
      case "tiers_list":
        return {
          cost_mode: "usd",
          tiers: [
            { name: "local", position: 1, provider: "local", model: "smollm2", input_per_1k: 0.0002, output_per_1k: 0.0002, paper_units: 1 },
            { name: "mid", position: 2, provider: "openai", model: preset === "paper-2023" ? "gpt-3.5-turbo" : "gpt-4o-mini", input_per_1k: 0.002, output_per_1k: 0.002, paper_units: 10 },
          ],
          providers: [
            { name: "local", kind: "local", base_url: "", concurrency: 1, timeout_s: 120 },
            { name: "openai", kind: "openai", base_url: "https://api.openai.com/v1", concurrency: 8, timeout_s: 120 },
          ],
          abilities: [
            { tier: "local", model: "smollm2", ability: null, rate: null, source: "unknown", detail: "not learned for smollm2: nothing is known of it yet" },
            { tier: "mid", model: "gpt-3.5-turbo", ability: calibrated ? 1.2 : 0.9, rate: calibrated ? 0.71 : 0.66, source: calibrated ? "calibrated" : "published", detail: calibrated ? "calibrated: passed 28 of 40 MBPP tasks" : "published: MBPP 66.0%" },
          ],
        };
      case "tier_presets":
        return [
          { name: "openai", title: "OpenAI: GPT-4o mini / GPT-4o", source: "prices: openai.com/api/pricing", tiers: [] },
          { name: "paper-2023", title: "The paper's three (2023)", source: "the ComplexityNet paper's tiers", tiers: [] },
        ];
      case "tier_preset_apply":
        preset = a.name as string;
        return null;
      case "calibrate_tiers": {
        const req = a.request as { n: number; dry_run: boolean };
        const estimate = { tasks: req.n, trials: 1, tiers: [], cost_usd: 0.042, budget_usd: null };
        if (req.dry_run) return { run: "calibrate-local-mid-40", estimate, tiers: [], budget: "", fixed: [], hull_at_budget: null };
        const ch = a.on_event as Channel<unknown>;
        ch.onmessage({ event: "trial", tier_index: 1, passed: true, cost_usd: 0.001 });
        calibrated = true;
        return {
          run: "calibrate-local-mid-40",
          estimate,
          tiers: [
            { tier: "local", model: "smollm2", passed: 1, tasks: 40, rate: 0.08, on_hull: true },
            { tier: "mid", model: "gpt-3.5-turbo", passed: 28, tasks: 40, rate: 0.71, on_hull: true },
          ],
          budget: "10% of always-top's cost buys mid for 12% of prompts",
          fixed: [
            { tier: "local", cost_share: 0.1, pass_rate: 0.025 },
            { tier: "mid", cost_share: 1, pass_rate: 0.7 },
          ],
          hull_at_budget: 0.0925,
        };
      }
      case "keys_list":
        return { keychain: "secret-service", problem: opts.noStore ?? null, providers: [{ provider: "openai", key: stored ? `…${stored.slice(-4)}` : null }] };
      case "key_set":
        stored = a.key as string;
        return `…${stored.slice(-4)}`;
      case "models_list":
        return [];
      case "models_catalog":
        return [
          { name: "codellama-7b-instruct.Q4_K_M", title: "Code Llama 7B", size: 4081095360, license: "Llama 2", checksum: "published", scores: [{ benchmark: "HumanEval", pass_at_1: 0.348, source: "Code Llama paper" }] },
          { name: "qwen2.5-coder-7b-instruct.Q4_K_M", title: "Qwen2.5-Coder 7B", size: null, license: "Apache-2.0", checksum: "unpinned", scores: [{ benchmark: "HumanEval", pass_at_1: 0.884, source: "arXiv:2409.12186" }] },
        ];
      case "ask_tier": {
        const ch = a.on_event as Channel<AskEvent>;
        ch.onmessage({ event: "started", tier: "local", provider: "local", model: "smollm2" });
        ch.onmessage({ event: "piece", text: "def add(a, b):" });
        ch.onmessage({ event: "piece", text: "\n    return a + b" });
        return {
          tier: "local",
          completion: { text: "def add(a, b):\n    return a + b", model: "smollm2", usage: { prompt_tokens: 12, completion_tokens: 9 }, finish_reason: "stop", latency_ms: 321, cost_usd: 0.0000042, attempts: 1, usage_estimated: false },
        };
      }
      default:
        throw { code: "internal", message: `unexpected ${cmd}` };
    }
  });
  return calls;
}

describe("Models & Keys tab", () => {
  it("shows the tier table with prices", async () => {
    backend();
    render(<ModelsTab />);
    expect(await screen.findByLabelText("mid model")).toHaveProperty("value", "gpt-4o-mini");
    expect(screen.getByText("L2")).toBeTruthy();
  });

  it("switches every tier to a preset, naming where its prices come from", async () => {
    const calls = backend();
    render(<ModelsTab />);
    await screen.findByText("prices: openai.com/api/pricing");
    fireEvent.change(screen.getByLabelText("tier preset"), { target: { value: "paper-2023" } });
    expect(screen.getByText("the ComplexityNet paper's tiers")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Use these tiers" }));
    await waitFor(() => expect(screen.getByLabelText("mid model")).toHaveProperty("value", "gpt-3.5-turbo"));
    expect(calls.find((c) => c.cmd === "tier_preset_apply")?.args).toMatchObject({ name: "paper-2023" });
  });

  it("shows what routing knows of each tier's model and calibrates the tiers after showing the cost", async () => {
    const calls = backend();
    render(<ModelsTab />);
    await screen.findByText("published: MBPP 66.0%");
    // Said once: what is known, not "nothing yet" beside "nothing is known of it yet".
    const local = document.querySelector('tr[data-tier="local"] td.ability')?.textContent ?? "";
    expect(local).toBe("not learned for smollm2: nothing is known of it yet");
    // Prices in the unit people read them in: dollars per million tokens, whole.
    expect(screen.getByLabelText("mid input $ per 1M tokens")).toHaveProperty("value", "2");
    const run = screen.getByRole("button", { name: "Calibrate" }) as HTMLButtonElement;
    expect(run.disabled).toBe(true);
    fireEvent.click(screen.getByRole("button", { name: "Estimate cost" }));
    expect((await screen.findByText(/about \$0\.04/)).id).toBe("calibrate-cost");
    expect(calls.find((c) => c.cmd === "calibrate_tiers")?.args).toMatchObject({ request: { n: 100, dataset: "mbpp", dry_run: true, tiers: ["local", "mid"] } });
    fireEvent.click(screen.getByRole("button", { name: "Calibrate" }));
    await screen.findByText("calibrated: passed 28 of 40 MBPP tasks");
    expect(document.querySelector("#calibrate-result")?.textContent).toContain("28/40");
    expect(screen.getByText(/buys mid/)).toBeTruthy();
    expect(document.querySelector("#calibrate-hull")?.textContent).toContain("9.3%");
  });

  it("says beside the key fields what to start when no keychain can keep a key", async () => {
    backend({ noStore: "no keychain here can keep an API key (x): start a Secret Service: GNOME Keyring" });
    render(<ModelsTab />);
    const notice = await screen.findByRole("alert");
    expect(notice.id).toBe("keychain-problem");
    expect(notice.textContent).toContain("GNOME Keyring");
    expect(document.querySelector('.key-mask[data-provider="openai"]')?.textContent).toBe("no keychain (see above)");
  });

  it("writes a key to the keychain and never shows it again, only its mask", async () => {
    const calls = backend();
    render(<ModelsTab />);
    const input = (await screen.findByLabelText("openai API key")) as HTMLInputElement;
    expect(input.type).toBe("password");
    fireEvent.change(input, { target: { value: KEY } });
    fireEvent.click(screen.getByRole("button", { name: "Save key" }));
    await waitFor(() => expect(document.querySelector('.key-mask[data-provider="openai"]')?.textContent).toBe("…WXYZ"));
    expect(calls.find((c) => c.cmd === "key_set")?.args).toMatchObject({ provider: "openai", key: KEY });
    expect((screen.getByLabelText("openai API key") as HTMLInputElement).value).toBe("");
    expect(document.body.innerHTML).not.toContain(KEY);
    expect(JSON.stringify(localStorage)).not.toContain(KEY);
    expect(JSON.stringify(sessionStorage)).not.toContain(KEY);
  });

  it("shows each catalog model's published scores, their source and how its download is checked", async () => {
    backend();
    render(<ModelsTab />);
    await waitFor(() => expect(document.querySelector("#catalog-detail")?.textContent).toContain("HumanEval pass@1 34.8%"));
    fireEvent.change(screen.getByLabelText("Catalog model"), { target: { value: "qwen2.5-coder-7b-instruct.Q4_K_M" } });
    const detail = document.querySelector("#catalog-detail")?.textContent ?? "";
    expect(detail).toContain("HumanEval pass@1 88.4%");
    expect(detail).toContain("source: arXiv:2409.12186");
    expect(detail).toContain("the first complete download pins it");
    expect(screen.getByRole("option", { name: /Qwen2.5-Coder 7B \(size not published\)/ })).toBeTruthy();
  });

  it("streams an answer from a tier and then shows model, tokens, cost and latency", async () => {
    backend();
    render(<ModelsTab />);
    fireEvent.change(await screen.findByLabelText("Prompt"), { target: { value: "add two numbers" } });
    fireEvent.click(screen.getByRole("button", { name: "Ask" }));
    await waitFor(() => expect(document.querySelector("#ask-answer")?.textContent).toBe("def add(a, b):\n    return a + b"));
    await waitFor(() => expect(document.querySelector("#ask-footer")?.textContent).toContain("12 + 9 tokens"));
  });
});

describe("describeCompletion", () => {
  it("says when usage was estimated", () => {
    const s = describeCompletion({ text: "", model: "m", usage: { prompt_tokens: 1, completion_tokens: 2, cached_tokens: 0 }, finish_reason: "stop", latency_ms: 10.4, cost_usd: 0.5, attempts: 1, usage_estimated: true });
    expect(s).toBe("m · 1 + 2 tokens (estimated) · $0.50 · 10 ms");
  });
});
