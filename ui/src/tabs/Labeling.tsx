import { useCallback, useEffect, useState } from "react";
import { jobCancel, labelEstimate, labelRuns, labelStart, labelTrials, listDatasets } from "../ipc/commands";
import type { AppError } from "../ipc/errors";
import type { DatasetSummary, Estimate, LabelArgs, LabelRow, RunSummary, TrialView } from "../ipc/types";
import { usd } from "../money";
import { ErrorBanner } from "./ErrorBanner";

const PAPER_REPLAY = "replay:codellama-7b-python,replay:gpt-3.5-turbo-1106,replay:gpt-4-1106-preview";

/** The colour of a task in the grid: its level (or dropped / pending). */
export function cellClass(l: LabelRow): string {
  if (l.dropped) return "cell dropped";
  if (l.level === null) return "cell pending";
  return `cell level-${l.level}`;
}

export function LabelingTab() {
  const [datasets, setDatasets] = useState<DatasetSummary[]>([]);
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [error, setError] = useState<AppError | null>(null);
  const [form, setForm] = useState({
    name: "",
    dataset: "",
    tiers: "local,mid,top",
    trials: 5,
    rule: "paper5",
    replay: "",
    limit: "",
    budget: "",
    temperature: "1",
    max_tokens: "512",
  });
  const [estimate, setEstimate] = useState<Estimate | null>(null);
  const [live, setLive] = useState<{ name: string; done: number[]; passed: number[]; total: number; spent: number } | null>(null);
  const [selected, setSelected] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      const [d, r] = await Promise.all([listDatasets(), labelRuns()]);
      setDatasets(d);
      setRuns(r);
      setForm((f) => (f.dataset || !d[0] ? f : { ...f, dataset: d[0].name, name: f.name || `${d[0].name}-labels` }));
    } catch (e) {
      setError(e as AppError);
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  const args = (): LabelArgs & { limit: number | null } => ({
    name: form.name.trim(),
    dataset: form.dataset,
    tiers: form.tiers.split(",").map((t) => t.trim()).filter(Boolean),
    trials: Number(form.trials),
    rule: form.rule,
    replay: form.replay.trim() || null,
    limit: form.limit ? Number(form.limit) : null,
    budget: form.budget ? Number(form.budget) : null,
    temperature: Number(form.temperature),
    max_tokens: Number(form.max_tokens),
  });

  const doEstimate = async () => {
    try {
      setEstimate(await labelEstimate(args()));
    } catch (e) {
      setError(e as AppError);
    }
  };

  const start = async () => {
    const a = args();
    const existing = runs.find((r) => r.name === a.name);
    const tierCount = a.tiers.length;
    const perTier = existing ? existing.tiers.map((t) => t.trials) : new Array(tierCount).fill(0);
    const total = (a.limit ?? datasets.find((d) => d.name === a.dataset)?.tasks ?? 0) * a.trials;
    setLive({ name: a.name, done: perTier, passed: existing ? existing.tiers.map((t) => t.passes) : new Array(tierCount).fill(0), total, spent: existing?.spent_usd ?? 0 });
    setSelected(a.name);
    try {
      await labelStart(a, (ev) =>
        setLive((l) => {
          if (!l) return l;
          // A resumed run starts from the trials stored before.
          if (ev.event === "started") return { ...l, done: ev.stored, passed: ev.passes, spent: ev.spent_usd, total: ev.per_tier };
          const done = [...l.done];
          const passed = [...l.passed];
          done[ev.tier_index] += 1;
          if (ev.passed) passed[ev.tier_index] += 1;
          return { ...l, done, passed, spent: l.spent + ev.cost_usd };
        }),
      );
    } catch (e) {
      setError(e as AppError);
    } finally {
      setLive(null);
      void refresh();
    }
  };

  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const run = runs.find((r) => r.name === selected);
  return (
    <section className="labeling">
      <h1>Labeling</h1>
      <p className="lede">Every task on each tier M times, every answer verified in the sandbox, the pass counts mapped to a complexity level. A run resumes where it stopped.</p>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <div className="panel">
        <h2>New run</h2>
        <div className="row">
          <input aria-label="Run name" id="label-name" placeholder="run name" value={form.name} onChange={set("name")} />
          <select aria-label="Dataset" id="label-dataset" value={form.dataset} onChange={set("dataset")}>
            {datasets.map((d) => (
              <option key={d.name} value={d.name}>
                {d.name} ({d.tasks} tasks)
              </option>
            ))}
          </select>
          <input aria-label="Trials" id="label-trials" type="number" min={1} value={form.trials} onChange={set("trials")} className="num" />
          <select aria-label="Rule" id="label-rule" value={form.rule} onChange={set("rule")}>
            <option value="paper5">paper5 (5 levels)</option>
            <option value="single3">single3 (1 trial, 3 classes)</option>
            <option value="threshold">threshold</option>
          </select>
        </div>
        <div className="row">
          <input aria-label="Tiers" id="label-tiers" value={form.tiers} onChange={set("tiers")} placeholder="local,mid,top or replay:MODEL,…" />
          <button onClick={() => setForm({ ...form, tiers: PAPER_REPLAY, trials: 1, rule: "single3" })}>Paper's recorded answers</button>
        </div>
        <div className="row">
          <input aria-label="Replay file" id="label-replay" value={form.replay} onChange={set("replay")} placeholder="recorded answers JSONL (for replay: tiers)" />
          <input aria-label="Limit" id="label-limit" className="num" value={form.limit} onChange={set("limit")} placeholder="all tasks" />
          <input aria-label="Budget" className="num" value={form.budget} onChange={set("budget")} placeholder="budget $" />
          <input aria-label="Temperature" id="label-temperature" className="num" value={form.temperature} onChange={set("temperature")} title="sampling temperature" />
          <input aria-label="Max tokens" id="label-max-tokens" className="num" value={form.max_tokens} onChange={set("max_tokens")} title="max tokens per answer" />
          <button id="label-estimate" onClick={doEstimate} disabled={!form.dataset}>
            Estimate
          </button>
          <button id="label-start" onClick={start} disabled={!estimate || live !== null || !form.name.trim()}>
            Start / resume
          </button>
          <button
            id="label-pause"
            title="Stops the run; every stored trial is kept, and Start / resume continues it"
            disabled={live === null}
            onClick={() => live && jobCancel(`label:${live.name}`)}
          >
            Pause / cancel
          </button>
        </div>
        {estimate && (
          <table className="grid" id="label-estimate-table">
            <tbody>
              {estimate.tiers.map((e) => (
                <tr key={e.tier}>
                  <td>{e.tier}</td>
                  <td>{e.calls} calls</td>
                  <td>~{e.prompt_tokens + e.completion_tokens} tokens</td>
                  <td>{usd(e.cost_usd)}</td>
                </tr>
              ))}
              <tr>
                <td colSpan={3}>Estimated total</td>
                <td id="label-estimate-total">{usd(estimate.cost_usd)}</td>
              </tr>
            </tbody>
          </table>
        )}
        {live && (
          <div id="label-progress">
            {live.done.map((d, i) => (
              <div className="progress" key={i}>
                <span className="small">{args().tiers[i]}</span>
                <progress max={live.total || 1} value={d} />
                <span className="small">
                  {d}/{live.total} · {d ? Math.round((100 * live.passed[i]) / d) : 0}% pass
                </span>
              </div>
            ))}
            <div className="small">spent {usd(live.spent)}</div>
          </div>
        )}
      </div>
      <div className="panel">
        <h2>Runs</h2>
        {runs.length === 0 ? (
          <p className="muted next-step" id="no-runs">No label runs yet: pick a dataset and tiers above and press Start (the Paper's recorded answers button replays the paper's own three models).</p>
        ) : (
          <ul className="dataset-list" id="label-runs">
            {runs.map((r) => (
              <li key={r.name}>
                <button className={r.name === selected ? "dataset-item active" : "dataset-item"} data-run={r.name} onClick={() => setSelected(r.name)}>
                  <span className="dataset-name">{r.name}</span>
                  <span className="run-status">{r.status}</span>
                  <span className="small muted">
                    {r.trials_stored}/{r.trials_total} trials
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </div>
      {run && <RunView run={run} onError={setError} />}
    </section>
  );
}

function RunView({ run, onError }: { run: RunSummary; onError: (e: AppError) => void }) {
  const [task, setTask] = useState<string | null>(null);
  const [trials, setTrials] = useState<TrialView[]>([]);
  const open = async (taskId: string) => {
    setTask(taskId);
    try {
      setTrials(await labelTrials(run.name, taskId));
    } catch (e) {
      onError(e as AppError);
    }
  };
  return (
    <div className="panel" id="label-run" data-run={run.name}>
      <h2>
        {run.name} <span className="muted small">{run.dataset} · rule {run.rule.rule} · {usd(run.spent_usd)}</span>
      </h2>
      <table className="grid" id="label-tier-rates">
        <tbody>
          {run.tiers.map((t) => (
            <tr key={t.tier}>
              <td>{t.tier}</td>
              <td>
                {t.passes}/{t.trials}
              </td>
              <td className="pass-rate">{(100 * t.pass_rate).toFixed(1)}%</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="small" id="label-histogram">
        {Object.entries(run.histogram)
          .map(([k, v]) => `${k}: ${v}`)
          .join(" · ")}
      </p>
      <div className="task-grid" id="label-grid">
        {run.labels.map((l) => (
          <button key={l.task_id} className={cellClass(l)} data-task-id={l.task_id} title={`task ${l.task_id}: ${l.counts.join("/")}`} onClick={() => open(l.task_id)} />
        ))}
      </div>
      {task && (
        <div id="label-trials">
          <h3>Task {task}</h3>
          {trials.map((t) => (
            <details key={`${t.tier}-${t.trial}`} className="trial">
              <summary>
                {t.tier} · trial {t.trial} · <span className="trial-verdict">{t.verdict}</span>
              </summary>
              <div className="trial-columns">
                <div>
                  <h4>Answer</h4>
                  <pre className="trial-answer">{t.answer || "(empty answer)"}</pre>
                </div>
                <div>
                  <h4>What ran</h4>
                  {t.extraction && (
                    <div className="trial-extraction small">
                      <div className="extraction-candidate">from {t.extraction.candidate}</div>
                      {t.extraction.dropped.length > 0 && (
                        <ul className="extraction-dropped">
                          {t.extraction.dropped.map((d, i) => (
                            <li key={i}>dropped: {d}</li>
                          ))}
                        </ul>
                      )}
                    </div>
                  )}
                  <pre className="trial-code">
                    <code>{t.code || "(no code)"}</code>
                  </pre>
                </div>
              </div>
              <h4>Verdict</h4>
              <pre className="small">{JSON.stringify(t.verdict_json, null, 1)}</pre>
            </details>
          ))}
        </div>
      )}
    </div>
  );
}
