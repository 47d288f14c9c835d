import { cleanup, fireEvent, render, waitFor } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { EvaluateTab } from "./Evaluate";

afterEach(() => {
  cleanup();
  clearMocks();
});

const metrics = { n: 687, accuracy: 0.473, macro_f1: 0.42, within_one: 0.89, accuracy_ci: [0.43, 0.51], macro_f1_ci: [0.38, 0.46], within_one_ci: [0.87, 0.91], levels: [0, 1, 2], confusion: [] };
const strat = (name: string, pass: number, cost: number) => ({ name, pass_rate: pass, cost: cost * 100, relative_cost: cost, savings_vs_top: 1 - cost, tier_share: [0.5, 0.3, 0.2] });

describe("Evaluate tab", () => {
  it("shows the routed pass rate and savings and recomputes when τ moves", async () => {
    const calls: Record<string, unknown>[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "label_runs") return [{ name: "paper-replay", rule: { rule: "single3" } }];
      if (cmd === "classifier_list") return [{ id: "default", method: "head", active: true }];
      if (cmd === "eval_run") {
        const a = (args as { overrides: Record<string, unknown> }).overrides;
        calls.push({ labels: (args as Record<string, unknown>).labels, ...a });
        const tau = a.tau as number;
        return {
          svg: "<svg xmlns='http://www.w3.org/2000/svg'/>",
          markdown: "",
          report: { labels: "paper-replay", classifier: "default", rule: "single3", tiers: ["a", "b", "c"], costs: [1, 10, 100], cost_unit: "units", n: 687, folds: 5, classifier_metrics: metrics,
            routed: strat(a.policy === "paper" ? "routed (paper map)" : `routed (threshold τ=${tau.toFixed(2)})`, 0.7 + tau / 10, 0.2 + tau / 10),
            strategies: [strat("always L1", 0.47, 0.01), strat("oracle", 1, 0.17)], threshold_curve: [], pass_rate_gap_vs_oracle: 0.27, cost_ratio_vs_oracle: 1.2 },
        };
      }
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    render(<EvaluateTab />);
    await waitFor(() => expect(document.querySelector("#ev-summary")?.textContent).toContain("routed (paper map)"));
    expect(document.querySelector("#ev-summary")?.textContent).toContain("75.0% saved");
    fireEvent.change(document.querySelector("#ev-policy")!, { target: { value: "threshold" } });
    await waitFor(() => expect(document.querySelector("#ev-tau")).toBeTruthy());
    fireEvent.change(document.querySelector("#ev-tau")!, { target: { value: "0.8" } });
    await waitFor(() => expect(document.querySelector("#ev-summary")?.textContent).toContain("τ=0.80"));
    expect(calls.at(-1)).toMatchObject({ labels: "paper-replay", classifier: "default", policy: "threshold", tau: 0.8 });
    expect(document.querySelectorAll("#ev-table tbody tr").length).toBe(3);
    expect(document.querySelector("#ev-plot")?.getAttribute("src")).toMatch(/^data:image\/svg\+xml/);
  });
});
