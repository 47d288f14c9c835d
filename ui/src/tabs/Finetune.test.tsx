import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { Channel } from "@tauri-apps/api/core";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import type { ClassifierMeta, Metrics, TrainEvent } from "../ipc/types";
import { FinetuneTab, headline, polyline } from "./Finetune";

afterEach(() => {
  cleanup();
  clearMocks();
});

function metrics(acc: number): Metrics {
  return { n: 100, accuracy: acc, macro_f1: acc - 0.1, within_one: 0.9, accuracy_ci: [acc - 0.05, acc + 0.05], macro_f1_ci: [0, 1], within_one_ci: [0, 1], levels: [0, 1, 2], confusion: [[30, 10, 5], [10, 20, 5], [5, 5, 10]], per_level: [] };
}

function meta(id: string, method: ClassifierMeta["method"], acc: number, active = false): ClassifierMeta {
  return {
    id, method, labels: "paper-replay", rule: { rule: "single3" }, levels: [0, 1, 2], training_hash: "h", created: 0, builtin: id === "default", active, encoder: null, tier: null, fine_tuned_model: null,
    report: { method, source: "paper-replay", rule: { rule: "single3" }, levels: [0, 1, 2], n: 100, counts: [[0, 45], [1, 35], [2, 20]], training_hash: "h", folds: 5, seed: 0, test_fraction: 0.2, split: metrics(acc), cv: metrics(acc), fold_accuracy: [], majority: metrics(0.45), cv_predictions: [], tiers: [], tier_success: [], train_seconds: 1, total_seconds: 5, params: null, unparsed: 0, jobs: [], tier_metrics: [] },
  };
}

function backend() {
  const calls: { cmd: string; args: Record<string, unknown> }[] = [];
  let list = [meta("default", "head", 0.47, true), meta("tf", "tfidf", 0.51)];
  mockIPC((cmd, args) => {
    const a = (args ?? {}) as Record<string, unknown>;
    calls.push({ cmd, args: a });
    switch (cmd) {
      case "label_runs":
        return [{ name: "paper-replay", dataset: "mbpp", status: "complete", rule: { rule: "single3" }, config: { tiers: [], trials: 1, task_ids: [] }, trials_stored: 0, trials_total: 0, tiers: [], histogram: {}, spent_usd: 0, labels: [] }];
      case "classifier_list":
        return list;
      case "encoder_status":
        return { id: "sentence-transformers/all-MiniLM-L6-v2", dir: "/d/encoders", present: true };
      case "classifier_activate":
        list = list.map((m) => ({ ...m, active: m.id === a.id }));
        return list.find((m) => m.id === a.id);
      case "classifier_train": {
        const ch = a.on_event as Channel<TrainEvent>;
        ch.onmessage({ kind: "round", round: "split", index: 1, total: 7 });
        ch.onmessage({ kind: "epoch", round: "split", epoch: { epoch: 1, epochs: 3, loss: 0.9, train_accuracy: 0.5, held_out_accuracy: 0.4 } });
        const m = meta("ft", "finetune", 0.55);
        list = [...list, m];
        return m;
      }
      case "classify_prompt":
        return { level: 2, probabilities: [0.1, 0.2, 0.7], levels: [0, 1, 2], classifier: "tf" };
      default:
        throw { code: "internal", message: `unexpected ${cmd}` };
    }
  });
  return calls;
}

describe("Fine-tune tab", () => {
  it("shows the methods side by side with their intervals and the majority floor", async () => {
    backend();
    render(<FinetuneTab />);
    await waitFor(() => expect(document.querySelectorAll("#ft-classifiers tbody tr").length).toBe(2));
    const tf = document.querySelector('tr[data-classifier="tf"]')!;
    expect(tf.textContent).toContain("51.0%");
    expect(tf.textContent).toContain("[46.0%, 56.0%]");
    expect(tf.textContent).toContain("45.0%");
  });

  it("trains with the chosen method and shows the result's confusion matrix", async () => {
    const calls = backend();
    render(<FinetuneTab />);
    await screen.findByText("paper-replay (single3)");
    fireEvent.change(screen.getByLabelText("Method"), { target: { value: "finetune" } });
    fireEvent.change(screen.getByLabelText("Epochs"), { target: { value: "3" } });
    fireEvent.click(screen.getByRole("button", { name: "Train" }));
    await waitFor(() => expect(document.querySelector('#ft-metrics[data-classifier="ft"]')).toBeTruthy());
    expect(calls.find((c) => c.cmd === "classifier_train")?.args.request).toMatchObject({ labels: "paper-replay", method: "finetune", epochs: 3, folds: 5 });
    const cells = [...document.querySelectorAll("#ft-confusion td.diag")].map((c) => c.textContent);
    expect(cells).toEqual(["30", "20", "10"]);
  });

  it("activates a classifier and classifies a prompt", async () => {
    const calls = backend();
    render(<FinetuneTab />);
    await waitFor(() => expect(document.querySelector('tr[data-classifier="tf"] button.activate')).toBeTruthy());
    fireEvent.click(document.querySelector('tr[data-classifier="tf"] button.activate')!);
    await waitFor(() => expect(document.querySelector('tr[data-classifier="tf"] .badge')?.textContent).toBe("active"));
    expect(calls.some((c) => c.cmd === "classifier_activate" && c.args.id === "tf")).toBe(true);
    fireEvent.change(screen.getByLabelText("Prompt to classify"), { target: { value: "min cost path with DP" } });
    fireEvent.click(screen.getByRole("button", { name: "Classify" }));
    await waitFor(() => expect(document.querySelector("#ft-prediction .level")?.textContent).toBe("2"));
  });
});

describe("helpers", () => {
  it("scales a polyline into its box and picks cross-validated figures", () => {
    expect(polyline([2, 1, 0], 100, 10)).toBe("0.0,0.0 50.0,5.0 100.0,10.0");
    expect(polyline([1], 100, 10)).toBe("");
    const m = meta("x", "tfidf", 0.5);
    m.report.cv = null;
    expect(headline(m)).toBe(m.report.split);
  });
});
