import { cleanup, fireEvent, render, waitFor } from "@testing-library/react";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import { EvaluateTab } from "./Evaluate";

afterEach(() => {
  cleanup();
  clearMocks();
});

const metrics = { n: 687, accuracy: 0.47, macro_f1: 0.42, within_one: 0.89, accuracy_ci: [0.43, 0.51], macro_f1_ci: [0.38, 0.46], within_one_ci: [0.87, 0.91], levels: [0, 1, 2], confusion: [], per_level: [] };
const point = (name: string, pass: number, cost: number) => ({ name, setting: null, pass_rate: pass, cost: cost * 100, relative_cost: cost, savings_vs_top: 1 - cost, tier_share: [0.5, 0.3, 0.2], choices: [] });
const at = (share: number, delta: number) => ({ cost_share: share, achieved: share, pass_rate: 0.7, hull: 0.7 - delta, delta, ci: [delta - 0.02, delta + 0.02] });

function report(routed: string) {
  const fixed = [point("always L1", 0.47, 0.01), point("always L2", 0.81, 0.1), point("always L3", 0.9, 1)];
  return {
    labels: "paper-replay", classifier: "default", rule: "single3", tiers: ["a", "b", "c"], costs: [1, 10, 100], cost_unit: "units", n: 687, folds: 5, task_ids: [],
    classifier_metrics: metrics,
    tier_metrics: [{ tier: "a", base_rate: 0.47, auc: 0.707, brier: 0.21, ece: 0.03 }],
    fixed, always_mid: 1, hull: [[0.01, 0.47], [0.1, 0.81], [1, 0.9]],
    random: point("random tier", 0.73, 0.37), oracle: point("oracle", 1, 0.17),
    curves: [{ policy: "dial", points: [point("dial 5%", 0.68, 0.05), point("dial 10%", 0.81, 0.1)] }],
    comparisons: [{ policy: "dial", at: [at(0.05, 0.062), at(0.1, 0.003)], area_low: 0.041, area_all: 0.013, apgr: 0.869 }, { policy: "paper map", at: [at(0.052, 0.055)], area_low: null, area_all: null, apgr: null }],
    routed: point(routed, 0.8, 0.1),
    cascades: [point("cascade L1→L2", 0.87, 0.063), point("cascade L1→L2→L3", 1, 0.19)],
    cascade_caveat: "an upper bound on MBPP",
    honest: {
      protocol: "verified by what the prompt shows, scored by all of the dataset's tests",
      checked_share: 1,
      cascades: [point("cascade L1→L2→L3 verified by the prompt's checks", 0.964, 0.171)],
      judge: [{ tier: "a", answers: 687, precision: 0.956, recall: 1 }],
    },
  };
}

describe("Evaluate tab", () => {
  it("draws the curves against the hull, tabulates Δ with its interval, and recomputes as the dial moves", async () => {
    const calls: Record<string, unknown>[] = [];
    mockIPC((cmd, args) => {
      if (cmd === "label_runs") return [{ name: "paper-replay", rule: { rule: "single3" } }];
      if (cmd === "classifier_list") return [{ id: "default", method: "pass", active: true }];
      if (cmd === "eval_run") {
        const a = (args as { overrides: Record<string, unknown> }).overrides;
        calls.push({ labels: (args as Record<string, unknown>).labels, ...a });
        const name = a.policy === "dial" ? `dial at ${(100 * (a.cost_share as number)).toFixed(1)}%` : `threshold τ=${(a.tau as number).toFixed(2)}`;
        return {
          svg: "<svg xmlns='http://www.w3.org/2000/svg'><polyline class='hull' points='0,0 1,1'/><polyline class='curve curve-dial' points='0,0 1,1'/></svg>",
          markdown: "",
          report: report(name),
        };
      }
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    render(<EvaluateTab />);
    await waitFor(() => expect(document.querySelector("#ev-summary")?.textContent).toContain("dial at 10.0%"));
    expect(calls[0]).toMatchObject({ labels: "paper-replay", classifier: "default", policy: "dial", cost_share: 0.1 });
    expect(document.querySelector("#ev-plot polyline.hull")).toBeTruthy();
    expect(document.querySelector("#ev-plot polyline.curve-dial")).toBeTruthy();
    const rows = [...document.querySelectorAll("#ev-comparisons tbody tr")].map((r) => r.textContent);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toContain("+6.2 [+4.2, +8.2]");
    expect(document.querySelector("#ev-comparisons tbody tr")?.classList.contains("wins")).toBe(true);
    expect(document.querySelector("#ev-areas")?.textContent).toContain("APGR 0.869");
    expect(document.querySelector("#ev-areas")?.textContent).not.toContain("paper map");
    expect(document.querySelector("#ev-table")?.textContent).toContain("(always-mid)");
    expect(document.querySelector("#ev-table")?.textContent).toContain("cascade L1→L2→L3 (upper bound)");
    expect(document.querySelector("#ev-caveat")?.textContent).toContain("upper bound");
    // The honest cascade beside it, with the shown checks' precision and recall as a judge.
    expect(document.querySelector("#ev-table")?.textContent).toContain("cascade L1→L2→L3 verified by the prompt's checks96.4%");
    expect(document.querySelector("#ev-judge")?.textContent).toContain("95.6%");
    fireEvent.change(document.querySelector("#ev-share")!, { target: { value: "0.05" } });
    await waitFor(() => expect(document.querySelector("#ev-summary")?.textContent).toContain("dial at 5.0%"));
    fireEvent.change(document.querySelector("#ev-policy")!, { target: { value: "threshold" } });
    fireEvent.change(await waitFor(() => document.querySelector("#ev-tau")!), { target: { value: "0.8" } });
    await waitFor(() => expect(document.querySelector("#ev-summary")?.textContent).toContain("τ=0.80"));
    expect(calls.at(-1)).toMatchObject({ policy: "threshold", tau: 0.8 });
  });

  it("says what to do when there are no labels yet, and labels MBPP from the recorded answers in one click", async () => {
    const calls: { cmd: string; args: unknown }[] = [];
    let runs: unknown[] = [];
    mockIPC((cmd, args) => {
      calls.push({ cmd, args });
      if (cmd === "label_runs") return runs;
      if (cmd === "classifier_list") return [{ id: "default", method: "pass", active: true }];
      if (cmd === "label_paper_replay") {
        runs = [{ name: "paper-replay", rule: { rule: "single3" } }];
        return runs[0];
      }
      if (cmd === "eval_run") return { svg: "<svg xmlns='http://www.w3.org/2000/svg'/>", markdown: "", report: report("dial at 10.0%") };
      throw { code: "internal", message: `unexpected ${cmd}` };
    });
    render(<EvaluateTab />);
    await waitFor(() => expect(document.querySelector("#ev-empty h2")?.textContent).toBe("No label runs yet"));
    const button = document.querySelector("#ev-replay") as HTMLButtonElement;
    expect(button.disabled).toBe(true);
    fireEvent.change(document.querySelector("#ev-recorded") as HTMLInputElement, { target: { value: "/data/complexitynet-mbpp-outputs.jsonl" } });
    fireEvent.click(button);
    await waitFor(() => expect(document.querySelector("#ev-summary")?.textContent).toContain("dial at 10.0%"));
    expect(calls.find((c) => c.cmd === "label_paper_replay")?.args).toMatchObject({ recorded: "/data/complexitynet-mbpp-outputs.jsonl" });
    expect(document.querySelector("#ev-empty")).toBeNull();
  });
});
