import { useCallback, useEffect, useState } from "react";
import {
  classifierActivate,
  classifierList,
  classifierRemove,
  classifierTrain,
  classifyPrompt,
  encoderStatus,
  jobCancel,
  labelRuns,
} from "../ipc/commands";
import type { AppError } from "../ipc/errors";
import type { ClassifierMeta, EncoderStatus, EpochReport, Method, Metrics, Prediction, RunSummary, TrainEvent } from "../ipc/types";
import { ErrorBanner } from "./ErrorBanner";

const METHODS: { id: Method; label: string; note: string }[] = [
  { id: "pass", label: "Per-tier pass probabilities (default)", note: "what each tier will do, calibrated; the cost dial routes on it; seconds" },
  { id: "tfidf", label: "TF-IDF + logistic regression", note: "the classical baseline; seconds" },
  { id: "head", label: "MiniLM head (frozen encoder)", note: "a head on sentence embeddings; seconds" },
  { id: "finetune", label: "MiniLM full fine-tune", note: "encoder and head; minutes on a CPU" },
  { id: "zero-shot", label: "Zero-shot (ask a tier)", note: "the paper's baseline; one call per task" },
  { id: "openai", label: "OpenAI fine-tuning job", note: "the paper's method; paid, takes a while" },
];

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const ci = (c: [number, number]) => `[${pct(c[0])}, ${pct(c[1])}]`;

/** The figures a classifier is judged by: cross-validated when it has folds, else the 80/20 split. */
export function headline(m: ClassifierMeta): Metrics {
  return m.report.cv ?? m.report.split;
}

/** An SVG polyline of `values` scaled into a w×h box (empty when fewer than two points). */
export function polyline(values: number[], w: number, h: number, max?: number): string {
  if (values.length < 2) return "";
  const top = max ?? Math.max(...values, 1e-9);
  return values.map((v, i) => `${((i / (values.length - 1)) * w).toFixed(1)},${(h - (v / top) * h).toFixed(1)}`).join(" ");
}

export function FinetuneTab() {
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [list, setList] = useState<ClassifierMeta[]>([]);
  const [encoder, setEncoder] = useState<EncoderStatus | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [form, setForm] = useState({ labels: "", method: "pass" as Method, folds: "5", seed: "0", epochs: "", tier: "mid", baseModel: "gpt-4o-mini-2024-07-18", provider: "openai", name: "", activate: false });
  const [round, setRound] = useState<{ round: string; index: number; total: number } | null>(null);
  const [epochs, setEpochs] = useState<EpochReport[]>([]);
  const [jobs, setJobs] = useState<{ status: string; events: string[] }>({ status: "", events: [] });
  const [training, setTraining] = useState(false);
  const [result, setResult] = useState<ClassifierMeta | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [prompt, setPrompt] = useState("");
  const [prediction, setPrediction] = useState<Prediction | null>(null);

  const refresh = useCallback(async () => {
    try {
      const [r, l, e] = await Promise.all([labelRuns(), classifierList(), encoderStatus()]);
      setRuns(r);
      setList(l);
      setEncoder(e);
      setForm((f) => (f.labels || !r[0] ? f : { ...f, labels: r[0].name }));
    } catch (e) {
      setError(e as AppError);
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);

  const onEvent = (e: TrainEvent) => {
    if (e.kind === "round") {
      setRound(e);
      setEpochs([]);
    } else if (e.kind === "epoch") {
      setEpochs((xs) => [...xs, e.epoch]);
    } else if (e.update.kind === "status") {
      const status = `${e.update.job}: ${e.update.status}`;
      setJobs((j) => ({ ...j, status }));
    } else {
      const message = e.update.event.message;
      setJobs((j) => ({ ...j, events: [...j.events, message] }));
    }
  };

  const train = async () => {
    setTraining(true);
    setResult(null);
    setEpochs([]);
    setJobs({ status: "", events: [] });
    try {
      const meta = await classifierTrain(
        {
          labels: form.labels,
          method: form.method,
          folds: form.folds === "" ? null : Number(form.folds),
          seed: Number(form.seed) || 0,
          epochs: form.epochs ? Number(form.epochs) : null,
          tier: form.tier,
          base_model: form.baseModel,
          provider: form.provider,
          name: form.name.trim() || null,
          activate: form.activate,
          train_token_table: false,
        },
        onEvent,
      );
      setResult(meta);
      setSelected(meta.id);
    } catch (e) {
      setError(e as AppError);
    } finally {
      setTraining(false);
      setRound(null);
      void refresh();
    }
  };

  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      setError(e as AppError);
    }
    void refresh();
  };

  const classify = async () => {
    try {
      setPrediction(await classifyPrompt(prompt, selected));
    } catch (e) {
      setError(e as AppError);
    }
  };

  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });
  const shown = list.find((m) => m.id === selected) ?? result;
  const peers = list.filter((m) => !form.labels || m.labels === form.labels || m.builtin);
  const losses = epochs.map((e) => e.loss);
  const held = epochs.map((e) => e.held_out_accuracy ?? 0);
  const last = epochs[epochs.length - 1];
  return (
    <section className="finetune">
      <h1>Fine-tune</h1>
      <p className="lede">Teach the router which prompts need which tier: train a classifier on a label run, scored on the same seeded 80/20 split and stratified folds for every method.</p>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {runs.length === 0 && (
        <p className="notice next-step" id="ft-no-labels">
          No labels to train on yet: label a dataset in the Labeling tab, or label MBPP from the paper's recorded answers in Evaluate (one click: <strong>Label
          MBPP from the recorded answers</strong>). Answers you mark in the chat also teach the <em>personal</em> labels.
        </p>
      )}
      {encoder && !encoder.present && (
        <p className="notice" id="encoder-missing">
          The sentence encoder ({encoder.id}) is not installed in {encoder.dir}; the head and fine-tune methods need it. Run{" "}
          <code>complexitynet classifier fetch-encoder</code>.
        </p>
      )}
      <div className="panel">
        <h2>Train</h2>
        <div className="row">
          <select aria-label="Labels" id="ft-labels" value={form.labels} onChange={set("labels")}>
            {runs.map((r) => (
              <option key={r.name} value={r.name}>
                {r.name} ({r.rule.rule})
              </option>
            ))}
            <option value="personal">personal (your chat feedback)</option>
          </select>
          <select aria-label="Method" id="ft-method" value={form.method} onChange={set("method")}>
            {METHODS.map((m) => (
              <option key={m.id} value={m.id}>
                {m.label}
              </option>
            ))}
          </select>
          <label className="small">
            folds <input aria-label="Folds" id="ft-folds" className="num" value={form.folds} onChange={set("folds")} />
          </label>
          <label className="small">
            seed <input aria-label="Seed" id="ft-seed" className="num" value={form.seed} onChange={set("seed")} />
          </label>
          <label className="small">
            epochs <input aria-label="Epochs" id="ft-epochs" className="num" value={form.epochs} onChange={set("epochs")} placeholder="default" />
          </label>
        </div>
        <p className="small muted">{METHODS.find((m) => m.id === form.method)?.note}</p>
        {form.method === "zero-shot" && (
          <div className="row">
            <input aria-label="Tier" id="ft-tier" value={form.tier} onChange={set("tier")} placeholder="tier that rates (local, mid, top)" />
          </div>
        )}
        {form.method === "openai" && (
          <div className="row">
            <input aria-label="Base model" id="ft-base" value={form.baseModel} onChange={set("baseModel")} placeholder="gpt-4o-mini-2024-07-18 or davinci-002" />
            <input aria-label="Provider" id="ft-provider" value={form.provider} onChange={set("provider")} />
          </div>
        )}
        <div className="row">
          <input aria-label="Classifier name" id="ft-name" value={form.name} onChange={set("name")} placeholder="name (default: labels-method-time)" />
          <label className="small">
            <input type="checkbox" id="ft-activate" checked={form.activate} onChange={(e) => setForm({ ...form, activate: e.target.checked })} /> activate
          </label>
          <button id="ft-train" onClick={train} disabled={training || !form.labels}>
            Train
          </button>
          <button id="ft-cancel" onClick={() => void jobCancel("train")} disabled={!training}>
            Cancel
          </button>
        </div>
        {training && (
          <div id="ft-live">
            <div className="progress">
              <span className="small" id="ft-round">
                {round ? `${round.round} (${round.index}/${round.total})` : "loading…"}
              </span>
              <progress max={round?.total ?? 1} value={round ? round.index - 1 : 0} />
            </div>
            {last && (
              <p className="small" id="ft-epoch">
                epoch {last.epoch}/{last.epochs} · loss {last.loss.toFixed(4)} · train acc {pct(last.train_accuracy)}
                {last.held_out_accuracy !== null && ` · held-out acc ${pct(last.held_out_accuracy)}`}
              </p>
            )}
            <svg width={320} height={80} className="chart" aria-label="Loss and held-out accuracy per epoch">
              <polyline points={polyline(losses, 320, 80)} fill="none" stroke="#2563eb" strokeWidth={2} />
              <polyline points={polyline(held, 320, 80, 1)} fill="none" stroke="#16a34a" strokeWidth={2} />
            </svg>
            {(jobs.status || jobs.events.length > 0) && (
              <div id="ft-job">
                <p className="small">{jobs.status}</p>
                <ul className="small">
                  {jobs.events.map((m, i) => (
                    <li key={i}>{m}</li>
                  ))}
                </ul>
              </div>
            )}
          </div>
        )}
      </div>
      <div className="panel">
        <h2>Classifiers {form.labels && <span className="muted small">on {form.labels}, side by side</span>}</h2>
        <table className="grid" id="ft-classifiers">
          <thead>
            <tr>
              <th>id</th>
              <th>method</th>
              <th>folds · seed</th>
              <th>accuracy [95% CI]</th>
              <th>macro-F1</th>
              <th>within one</th>
              <th>majority</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {peers.map((m) => {
              const h = headline(m);
              return (
                <tr key={m.id} data-classifier={m.id} className={m.id === selected ? "selected" : undefined}>
                  <td>
                    <button className="link" onClick={() => setSelected(m.id)}>
                      {m.id}
                    </button>
                    {m.active && <span className="badge">active</span>}
                  </td>
                  <td>{m.method}</td>
                  <td>
                    {m.report.folds || "80/20"} · {m.report.seed}
                  </td>
                  <td className="acc">
                    {pct(h.accuracy)} <span className="muted small">{ci(h.accuracy_ci)}</span>
                  </td>
                  <td>{pct(h.macro_f1)}</td>
                  <td>{pct(h.within_one)}</td>
                  <td className="muted">{m.report.majority ? pct(m.report.majority.accuracy) : "–"}</td>
                  <td>
                    <button className="activate" disabled={m.active} onClick={() => act(() => classifierActivate(m.id))}>
                      Activate
                    </button>
                    {!m.builtin && (
                      <button className="danger" onClick={() => act(() => classifierRemove(m.id))}>
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {shown && <MetricsView meta={shown} />}
      <div className="panel">
        <h2>Try it</h2>
        <div className="row">
          <input aria-label="Prompt to classify" id="ft-prompt" value={prompt} onChange={(e) => setPrompt(e.target.value)} placeholder="a coding prompt" />
          <button id="ft-classify" onClick={classify} disabled={!prompt.trim()}>
            Classify
          </button>
        </div>
        {prediction && (
          <p id="ft-prediction">
            level <strong className="level">{prediction.level}</strong> by {prediction.classifier} ·{" "}
            {prediction.levels.map((l, i) => `${l}: ${pct(prediction.probabilities[i])}`).join(" · ")}
          </p>
        )}
      </div>
    </section>
  );
}

function MetricsView({ meta }: { meta: ClassifierMeta }) {
  const r = meta.report;
  const h = headline(meta);
  return (
    <div className="panel" id="ft-metrics" data-classifier={meta.id}>
      <h2>
        {meta.id} <span className="muted small">{meta.method} · {r.n} labeled tasks · {meta.rule.rule} rule</span>
      </h2>
      <dl className="facts">
        <dt>80/20 split</dt>
        <dd>
          accuracy {pct(r.split.accuracy)} {ci(r.split.accuracy_ci)} · macro-F1 {pct(r.split.macro_f1)} (n={r.split.n})
        </dd>
        {r.cv && (
          <>
            <dt>{r.folds}-fold CV</dt>
            <dd id="ft-cv">
              accuracy {pct(r.cv.accuracy)} {ci(r.cv.accuracy_ci)} · macro-F1 {pct(r.cv.macro_f1)} {ci(r.cv.macro_f1_ci)} · within one {pct(r.cv.within_one)}
            </dd>
          </>
        )}
        {r.majority && (
          <>
            <dt>majority floor</dt>
            <dd>accuracy {pct(r.majority.accuracy)} · macro-F1 {pct(r.majority.macro_f1)}</dd>
          </>
        )}
        <dt>time</dt>
        <dd>
          {r.total_seconds.toFixed(1)} s in all · final fit {r.train_seconds.toFixed(1)} s
        </dd>
        {meta.fine_tuned_model && (
          <>
            <dt>cloud model</dt>
            <dd>{meta.fine_tuned_model}</dd>
          </>
        )}
      </dl>
      {r.tier_metrics.length > 0 && (
        <>
          <h3>Per-tier pass prediction (held out)</h3>
          <table className="grid" id="ft-tiers">
            <thead>
              <tr>
                <th>tier</th>
                <th>passes</th>
                <th>AUC</th>
                <th>Brier</th>
                <th>calibration error</th>
              </tr>
            </thead>
            <tbody>
              {r.tier_metrics.map((t) => (
                <tr key={t.tier}>
                  <td>{t.tier}</td>
                  <td>{pct(t.base_rate)}</td>
                  <td>{t.auc.toFixed(3)}</td>
                  <td>{t.brier.toFixed(3)}</td>
                  <td>{t.ece.toFixed(3)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
      <h3>Confusion matrix (rows: true level, columns: predicted)</h3>
      <table className="grid confusion" id="ft-confusion">
        <thead>
          <tr>
            <th />
            {h.levels.map((l) => (
              <th key={l}>{l}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {h.confusion.map((row, i) => (
            <tr key={i}>
              <th>{h.levels[i]}</th>
              {row.map((c, j) => (
                <td key={j} className={i === j ? "diag" : undefined}>
                  {c}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
