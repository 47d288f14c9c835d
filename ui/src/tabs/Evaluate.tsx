import { useCallback, useEffect, useState } from "react";
import { classifierList, evalRun, labelRuns } from "../ipc/commands";
import type { AppError } from "../ipc/errors";
import type { ClassifierMeta, Evaluation, RunSummary } from "../ipc/types";
import { ErrorBanner } from "./ErrorBanner";

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function EvaluateTab() {
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [classifiers, setClassifiers] = useState<ClassifierMeta[]>([]);
  const [labels, setLabels] = useState("");
  const [classifier, setClassifier] = useState("");
  const [policy, setPolicy] = useState<"paper" | "threshold">("paper");
  const [tau, setTau] = useState(0.5);
  const [map, setMap] = useState("");
  const [result, setResult] = useState<Evaluation | null>(null);
  const [error, setError] = useState<AppError | null>(null);

  useEffect(() => {
    void (async () => {
      try {
        const [r, c] = await Promise.all([labelRuns(), classifierList()]);
        setRuns(r);
        setClassifiers(c);
        if (r[0]) setLabels((l) => l || r[0].name);
        const active = c.find((x) => x.active);
        if (active) setClassifier((x) => x || active.id);
      } catch (e) {
        setError(e as AppError);
      }
    })();
  }, []);

  const run = useCallback(async () => {
    if (!labels) return;
    try {
      setResult(await evalRun(labels, { classifier: classifier || null, policy, tau, map: map || null }));
      setError(null);
    } catch (e) {
      setResult(null);
      setError(e as AppError);
    }
  }, [labels, classifier, policy, tau, map]);
  useEffect(() => {
    void run();
  }, [run]);

  const r = result?.report;
  return (
    <section className="evaluate">
      <h1>Evaluate</h1>
      <p className="lede">Routing on held-out predictions: each task goes where the classifier (trained without it) sends it, and counts the measured pass rate of that tier, against always using one tier, a random tier and the oracle.</p>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      <div className="panel">
        <div className="row">
          <select aria-label="Labels" id="ev-labels" value={labels} onChange={(e) => setLabels(e.target.value)}>
            {runs.map((x) => (
              <option key={x.name} value={x.name}>
                {x.name}
              </option>
            ))}
          </select>
          <select aria-label="Classifier" id="ev-classifier" value={classifier} onChange={(e) => setClassifier(e.target.value)}>
            {classifiers.map((c) => (
              <option key={c.id} value={c.id}>
                {c.id} ({c.method})
              </option>
            ))}
          </select>
          <select aria-label="Policy" id="ev-policy" value={policy} onChange={(e) => setPolicy(e.target.value as "paper" | "threshold")}>
            <option value="paper">paper map</option>
            <option value="threshold">threshold τ</option>
          </select>
          {policy === "threshold" ? (
            <label className="small">
              τ {tau.toFixed(2)}{" "}
              <input aria-label="Tau" id="ev-tau" type="range" min={0} max={1} step={0.05} value={tau} onChange={(e) => setTau(Number(e.target.value))} />
            </label>
          ) : (
            <input aria-label="Map" id="ev-map" value={map} onChange={(e) => setMap(e.target.value)} placeholder="map, e.g. 0:1,1:2,2:3 (default: the paper's)" />
          )}
        </div>
      </div>
      {r && result && (
        <div className="panel" id="ev-report">
          <p id="ev-summary">
            <strong>{r.routed.name}</strong>: pass rate <strong>{pct(r.routed.pass_rate)}</strong> at {pct(r.routed.relative_cost)} of always-top's cost —{" "}
            <strong>{pct(r.routed.savings_vs_top)} saved</strong>; {(100 * r.pass_rate_gap_vs_oracle).toFixed(1)} points under the oracle at {r.cost_ratio_vs_oracle.toFixed(2)}× its cost. {r.n} tasks,{" "}
            {r.folds} folds, costs {r.costs.join(" / ")} ({r.cost_unit}); classifier accuracy {pct(r.classifier_metrics.accuracy)}.
          </p>
          <table className="grid" id="ev-table">
            <thead>
              <tr>
                <th>strategy</th>
                <th>pass rate</th>
                <th>cost vs always-top</th>
                <th>saved</th>
                <th>tier share</th>
              </tr>
            </thead>
            <tbody>
              {[...r.strategies, r.routed].map((s) => (
                <tr key={s.name} className={s === r.routed ? "selected" : undefined}>
                  <td>{s.name}</td>
                  <td>{pct(s.pass_rate)}</td>
                  <td>{pct(s.relative_cost)}</td>
                  <td>{pct(s.savings_vs_top)}</td>
                  <td className="small">{s.tier_share.map(pct).join(" / ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <img id="ev-plot" alt="cost vs pass rate" src={`data:image/svg+xml;utf8,${encodeURIComponent(result.svg)}`} />
        </div>
      )}
    </section>
  );
}
