import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { App, TABS } from "./App";

beforeEach(() => {
  mockIPC((cmd) => {
    if (cmd === "app_ready") return null;
    if (cmd === "dataset_list") return [];
    if (cmd === "dataset_catalog") return [];
    if (cmd === "chat_conversations") return [];
    if (cmd === "chat_totals") return { today: { answers: 0, cost_usd: 0, saved_usd: 0 }, month: { answers: 0, cost_usd: 0, saved_usd: 0 } };
    if (cmd === "tiers_list") return { cost_mode: "usd", tiers: [], providers: [] };
    if (cmd === "server_status") return { running: false, url: null, auth: false };
    if (cmd === "route_policy_get") return { policy: "paper", tau: 0.5, map: null };
    if (cmd === "app_info") return { version: "0.1.0", data_dir: "/d", database: "/d/db", logs: "/d/logs" };
    if (cmd === "local_status") return { model: "codellama-7b-instruct.Q4_K_M", installed: false, suggested: "qwen2.5-coder-1.5b-instruct.Q4_K_M" };
    if (cmd === "models_list" || cmd === "models_catalog" || cmd === "keys_list") return cmd === "keys_list" ? { keychain: "test", problem: null, providers: [] } : [];
    throw { code: "internal", message: `unexpected ${cmd}` };
  });
});
afterEach(() => {
  cleanup();
  clearMocks();
});

describe("App navigation", () => {
  it("offers the seven tabs of the product and opens on Chat", async () => {
    render(<App />);
    expect(TABS.map((t) => t.label)).toEqual(["Chat", "Datasets", "Labeling", "Fine-tune", "Evaluate", "Models & Keys", "Settings"]);
    for (const t of TABS) expect(screen.getByRole("button", { name: t.label })).toBeTruthy();
    expect(await screen.findByRole("heading", { name: "Chat" })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Datasets" }));
    expect(await screen.findByRole("heading", { name: "Datasets" })).toBeTruthy();
  });

  it("says on first launch that the local tier has no model, and where to get one", async () => {
    render(<App />);
    const notice = await screen.findByRole("status");
    expect(notice.textContent).toContain("codellama-7b-instruct.Q4_K_M is not installed");
    expect(notice.textContent).toContain("qwen2.5-coder-1.5b-instruct.Q4_K_M");
    fireEvent.click(screen.getByRole("button", { name: "Open Models & Keys" }));
    expect(await screen.findByRole("heading", { name: "Models & Keys" })).toBeTruthy();
  });

  it("shows the real data paths in Settings", async () => {
    render(<App />);
    fireEvent.click(screen.getByRole("button", { name: "Settings" }));
    expect(await screen.findByText("/d/db")).toBeTruthy();
  });
});
