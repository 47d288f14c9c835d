import { useCallback, useEffect, useState } from "react";
import { classifierList, evalRun, labelPaperReplay, labelRuns } from "../ipc/commands";
import type { AppError } from "../ipc/errors";
import type { ClassifierMeta, Evaluation, PolicyKind, RunSummary } from "../ipc/types";
import { ErrorBanner } from "./ErrorBanner";

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const pts = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}`;

export function EvaluateTab() {
  const [runs, setRuns] = useState<RunSummary[]>([]);
  const [classifiers, setClassifiers] = useState<ClassifierMeta[]>([]);
  const [labels, setLabels] = useState("");
  const [classifier, setClassifier] = useState("");
  const [policy, setPolicy] = useState<PolicyKind>("dial");
  const [share, setShare] = useState(0.1);
  const [tau, setTau] = useState(0.5);
  const [map, setMap] = useState("");
  const [result, setResult] = useState<Evaluation | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [recorded, setRecorded] = useState("");
  const [labeling, setLabeling] = useState<number | null>(null);

  const load = useCallback(async () => {
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
    setLoaded(true);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);
  const replay = async () => {
    setLabeling(0);
    try {
      await labelPaperReplay(recorded.trim(), (e) => {
        if (e.event === "trial") setLabeling((n) => (n ?? 0) + 1);
      });
      setError(null);
      await load();
    } catch (e) {
      setError(e as AppError);
    }
    setLabeling(null);
  };

  const run = useCallback(async () => {
    if (!labels) return;
    try {
      const overrides =
        policy === "dial"
          ? { classifier: classifier || null, policy, cost_share: share }
          : policy === "threshold"
            ? { classifier: classifier || null, policy, tau }
            : { classifier: classifier || null, policy, map: map || null };
      setResult(await evalRun(labels, overrides));
      setError(null);
    } catch (e) {
      setResult(null);
      setError(e as AppError);
    }
  }, [labels, classifier, policy, share, tau, map]);
  useEffect(() => {
    void run();
  }, [run]);

  const r = result?.report;
  return (
    <section className="evaluate">
      <h1>Evaluate</h1>
      <p className="lede">
        Routing on held-out predictions: each task goes where the classifier (trained without it) sends it and counts the measured pass rate of that tier. A policy counts
        when its curve lies above the hull of the fixed tiers (dashed): what mixing "always L1/L2/L3" achieves at the same cost.
      </p>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {loaded && runs.length === 0 && (
        <div className="panel empty-state next-step" id="ev-empty">
          <h2>No label runs yet</h2>
          <p>
            Evaluation scores routing on labels: each task answered by each tier and verified. The quickest start is the paper's own: MBPP labeled from the
            answers its three models gave (the authors publish <code>complexitynet-mbpp-outputs.jsonl</code> with their code), replayed and verified here — no API
            calls, a minute or two. Or label your own tiers in the Labeling tab.
          </p>
          <div className="row">
            <input aria-label="Recorded answers" id="ev-recorded" size={60} value={recorded} onChange={(e) => setRecorded(e.target.value)} placeholder="path to complexitynet-mbpp-outputs.jsonl" />
            <button id="ev-replay" disabled={!recorded.trim() || labeling !== null} onClick={replay}>
              Label MBPP from the recorded answers
            </button>
            {labeling !== null && <span className="small muted">labeling… {labeling} trials stored</span>}
          </div>
          <p className="small muted">
            From the shell: <code>complexitynet dataset download mbpp</code>, then{" "}
            <code>complexitynet label run --dataset mbpp --name paper-replay --trials 1 --rule single3 --tiers replay:codellama-7b-python,replay:gpt-3.5-turbo-1106,replay:gpt-4-1106-preview --replay FILE</code>.
          </p>
        </div>
      )}
      <div className="panel" hidden={runs.length === 0}>
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
          <select aria-label="Policy" id="ev-policy" value={policy} onChange={(e) => setPolicy(e.target.value as PolicyKind)}>
            <option value="dial">cost dial</option>
            <option value="threshold">threshold τ</option>
            <option value="paper">paper map</option>
          </select>
          {policy === "dial" && (
            <label className="small">
              spend {pct(share)} of always-top{" "}
              <input
                aria-label="Cost share"
                id="ev-share"
                type="range"
                min={0.01}
                max={1}
                step={0.01}
                value={share}
                onChange={(e) => setShare(Number(e.target.value))}
              />
            </label>
          )}
          {policy === "threshold" && (
            <label className="small">
              τ {tau.toFixed(2)}{" "}
              <input aria-label="Tau" id="ev-tau" type="range" min={0} max={1} step={0.05} value={tau} onChange={(e) => setTau(Number(e.target.value))} />
            </label>
          )}
          {policy === "paper" && (
            <input aria-label="Map" id="ev-map" value={map} onChange={(e) => setMap(e.target.value)} placeholder="map, e.g. 0:1,1:2,2:3 (default: the paper's)" />
          )}
        </div>
      </div>
      {r && result && (
        <div className="panel" id="ev-report">
          <p id="ev-summary">
            <strong>{r.routed.name}</strong>: pass rate <strong>{pct(r.routed.pass_rate)}</strong> at {pct(r.routed.relative_cost)} of always-top's cost —{" "}
            <strong>{pct(r.routed.savings_vs_top)} saved</strong>. {r.n} tasks, {r.folds} folds, costs {r.costs.join(" / ")} ({r.cost_unit}).
          </p>
          {/* The plot is our own SVG (text escaped in Rust), inlined so its parts can be inspected. */}
          <div id="ev-plot" className="plot" dangerouslySetInnerHTML={{ __html: result.svg }} />
          <h2>Against the hull of the fixed tiers</h2>
          <table className="grid" id="ev-comparisons">
            <thead>
              <tr>
                <th>policy</th>
                <th>at cost</th>
                <th>spends</th>
                <th>pass rate</th>
                <th>hull</th>
                <th>Δ points [95% CI]</th>
              </tr>
            </thead>
            <tbody>
              {r.comparisons.flatMap((c) =>
                c.at.map((d) => (
                  <tr key={`${c.policy}-${d.cost_share}`} data-policy={c.policy} className={d.ci[0] > 0 ? "wins" : undefined}>
                    <td>{c.policy}</td>
                    <td>{pct(d.cost_share)}</td>
                    <td>{pct(d.achieved)}</td>
                    <td>{pct(d.pass_rate)}</td>
                    <td>{pct(d.hull)}</td>
                    <td>
                      {pts(d.delta)} [{pts(d.ci[0])}, {pts(d.ci[1])}]
                    </td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
          <p className="small muted" id="ev-areas">
            {r.comparisons
              .filter((c) => c.apgr !== null)
              .map((c) => `${c.policy}: area vs hull ${pts(c.area_low ?? 0)} points over 1–10% cost, ${pts(c.area_all ?? 0)} over the whole range, APGR ${(c.apgr ?? 0).toFixed(3)}`)
              .join(" · ")}
          </p>
          <h2>Fixed tiers, references and the verified cascade</h2>
          <table className="grid" id="ev-table">
            <thead>
              <tr>
                <th>strategy</th>
                <th>pass rate</th>
                <th>cost vs always-top</th>
                <th>tier share</th>
              </tr>
            </thead>
            <tbody>
              {[...r.fixed, r.random, r.oracle, ...r.cascades, ...(r.honest?.cascades ?? []), r.routed].map((s, i) => (
                <tr key={`${s.name}-${i}`} className={s === r.routed ? "selected" : undefined}>
                  <td>
                    {s.name}
                    {s === r.fixed[r.always_mid] && <span className="muted"> (always-mid)</span>}
                    {r.cascades.includes(s) && <span className="muted"> (upper bound)</span>}
                  </td>
                  <td>{pct(s.pass_rate)}</td>
                  <td>{pct(s.relative_cost)}</td>
                  <td className="small">{s.tier_share.map(pct).join(" / ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="small muted" id="ev-caveat">
            The cascade: {r.cascade_caveat}.
          </p>
          {r.honest && (
            <div id="ev-honest">
              <p className="small muted">
                Verified by the prompt's checks, scored by the dataset's tests: {r.honest.protocol}. {pct(r.honest.checked_share)} of the tasks show checks.
              </p>
              <table className="grid small" id="ev-judge">
                <thead>
                  <tr>
                    <th>the prompt's checks as a judge of</th>
                    <th>answers</th>
                    <th>precision</th>
                    <th>recall</th>
                  </tr>
                </thead>
                <tbody>
                  {r.honest.judge.map((j) => (
                    <tr key={j.tier}>
                      <td>{j.tier}</td>
                      <td>{j.answers}</td>
                      <td>{pct(j.precision)}</td>
                      <td>{pct(j.recall)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {r.tier_metrics.length > 0 && (
            <table className="grid small" id="ev-tiers">
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
          )}
        </div>
      )}
    </section>
  );
}
