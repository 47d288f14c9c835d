import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { UsagePanel } from "./Usage";

afterEach(() => {
  cleanup();
  clearMocks();
});

const row = (key: string, calls: number, cost: number, top: number) => ({
  key,
  calls,
  failed: 0,
  prompt_tokens: 1200,
  completion_tokens: 300,
  cached_tokens: 800,
  cost_usd: cost,
  top_usd: top,
});

describe("Usage: spend and savings by agent", () => {
  it("shows the ledger by client, regroups it by conversation, and says what to do when it is empty", async () => {
    const asked: unknown[] = [];
    let empty = false;
    mockIPC((cmd, args) => {
      if (cmd !== "usage") throw { code: "internal", message: `unexpected ${cmd}` };
      asked.push(args);
      const by = (args as { by: string }).by;
      if (empty) return [];
      return by === "client" ? [row("claude-cli", 12, 0.0042, 0.31), row("codex_exec", 3, 0.02, 0.01)] : [row("conv-7f3a", 15, 0.0242, 0.32)];
    });
    render(<UsagePanel />);
    await waitFor(() => expect(document.querySelector('#usage-table tr[data-key="claude-cli"]')).toBeTruthy());
    expect(asked[0]).toEqual({ by: "client", days: 30 });
    const claude = document.querySelector('#usage-table tr[data-key="claude-cli"]')!;
    expect(claude.querySelector(".usage-spent")?.textContent).toBe("$0.0042");
    expect(claude.querySelector(".usage-saved")?.textContent).toBe("$0.31");
    // A group that cost more than the top tier would have saved nothing (never a negative saving).
    expect(document.querySelector('#usage-table tr[data-key="codex_exec"] .usage-saved')?.textContent).toBe("$0");
    expect(document.querySelector("#usage-total-spent")?.textContent).toBe("$0.024");
    expect(document.querySelector("#usage-total-saved")?.textContent).toBe("$0.31");
    fireEvent.change(screen.getByLabelText("Group spend by"), { target: { value: "conversation" } });
    await waitFor(() => expect(document.querySelector('#usage-table tr[data-key="conv-7f3a"]')).toBeTruthy());
    expect(asked[asked.length - 1]).toEqual({ by: "conversation", days: 30 });
    empty = true;
    fireEvent.click(screen.getByRole("button", { name: "Refresh" }));
    await waitFor(() => expect(document.querySelector("#usage-empty")?.textContent).toContain("point an agent at it"));
    expect(document.querySelector("#usage-table")).toBeNull();
  });
});
