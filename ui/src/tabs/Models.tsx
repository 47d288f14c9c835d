import { useCallback, useEffect, useRef, useState } from "react";
import {
  askTier,
  costModeSet,
  jobCancel,
  keyDelete,
  keySet,
  keysList,
  modelAdd,
  modelDownload,
  modelLoad,
  modelsCatalog,
  modelsList,
  modelUnload,
  pickModelFile,
  providerSet,
  tierSet,
  tiersList, localStatus, calibrateTiers, tierPresets, tierPresetApply } from "../ipc/commands";
import type { AppError } from "../ipc/errors";
import type { Calibration, Preset, CatalogModel, Completion, CostMode, KeyTable, ModelView, TierAbility, TierRow, TierTable } from "../ipc/types";
import { formatBytes, percent } from "./Datasets";
import { usd } from "../money";
import { ErrorBanner } from "./ErrorBanner";

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

let jobCounter = 0;
const newJob = (kind: string) => `${kind}-${Date.now()}-${++jobCounter}`;

export function ModelsTab() {
  const [table, setTable] = useState<TierTable | null>(null);
  const [keys, setKeys] = useState<KeyTable | null>(null);
  const [models, setModels] = useState<ModelView[]>([]);
  const [error, setError] = useState<AppError | null>(null);

  const refresh = useCallback(async () => {
    try {
      const [t, k, m] = await Promise.all([tiersList(), keysList(), modelsList()]);
      setTable(t);
      setKeys(k);
      setModels(m);
    } catch (e) {
      setError(e as AppError);
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  return (
    <section className="models">
      <h1>Models &amp; Keys</h1>
      <p className="lede">The tiers prompts are routed between, their prices, the local models and the API keys (kept in the OS keychain only).</p>
      <p className="small muted next-step">
        Next: set the API key of each cloud tier's provider below (or download a local model), then <strong>Calibrate my tiers</strong> so routing knows your models.
      </p>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {table && <TiersPanel table={table} onChanged={refresh} onError={setError} />}
      {table && <CalibratePanel table={table} onChanged={refresh} onError={setError} />}
      {table && keys && <ProvidersPanel table={table} keys={keys} onChanged={refresh} onError={setError} />}
      <LocalModelsPanel models={models} onChanged={refresh} onError={setError} />
      {table && <AskPanel tiers={table.tiers} onError={setError} />}
    </section>
  );
}

function TiersPanel({ table, onChanged, onError }: { table: TierTable; onChanged: () => void; onError: (e: AppError) => void }) {
  const [presets, setPresets] = useState<Preset[]>([]);
  const [preset, setPreset] = useState("");
  useEffect(() => {
    tierPresets()
      .then((p) => {
        setPresets(p);
        setPreset(p[0]?.name ?? "");
      })
      .catch((e) => onError(e as AppError));
  }, [onError]);
  const chosen = presets.find((p) => p.name === preset);
  const apply = async () => {
    try {
      await tierPresetApply(preset);
      onChanged();
    } catch (e) {
      onError(e as AppError);
    }
  };
  const setMode = async (mode: CostMode) => {
    try {
      await costModeSet(mode);
      onChanged();
    } catch (e) {
      onError(e as AppError);
    }
  };
  return (
    <div className="panel">
      <div className="row spread">
        <h2>Tiers</h2>
        <label className="small">
          Costs in{" "}
          <select id="cost-mode" value={table.cost_mode} onChange={(e) => setMode(e.target.value as CostMode)}>
            <option value="usd">US dollars (token prices)</option>
            <option value="paper_units">the paper's unit costs (1 / 10 / 100)</option>
          </select>
        </label>
      </div>
      <table className="grid" id="tier-table">
        <thead>
          <tr>
            <th>Level</th>
            <th>Tier</th>
            <th>Provider</th>
            <th>Model</th>
            <th>$ / 1M tokens in</th>
            <th>$ / 1M tokens out</th>
            <th>Units</th>
            <th>What routing knows of the model</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {table.tiers.map((t) => (
            <TierEditor key={`${t.name}-${t.provider}-${t.model}-${t.input_per_1k}`} tier={t} ability={table.abilities.find((a) => a.tier === t.name)} providers={table.providers.map((p) => p.name)} onChanged={onChanged} onError={onError} />
          ))}
        </tbody>
      </table>
      {presets.length > 0 && (
        <div className="row" id="tier-presets">
          <label className="small">
            Preset{" "}
            <select value={preset} onChange={(e) => setPreset(e.target.value)} aria-label="tier preset">
              {presets.map((p) => (
                <option key={p.name} value={p.name}>
                  {p.title}
                </option>
              ))}
            </select>
          </label>
          <button onClick={apply}>Use these tiers</button>
          {chosen && <span className="muted small">{chosen.source}</span>}
        </div>
      )}
    </div>
  );
}

function TierEditor({ tier, ability, providers, onChanged, onError }: { tier: TierRow; ability?: TierAbility; providers: string[]; onChanged: () => void; onError: (e: AppError) => void }) {
  const [draft, setDraft] = useState(tier);
  const dirty = JSON.stringify(draft) !== JSON.stringify(tier);
  const save = async () => {
    try {
      await tierSet(tier.name, { provider: draft.provider, model: draft.model, price_in: Number(draft.input_per_1k), price_out: Number(draft.output_per_1k), units: Number(draft.paper_units) });
      onChanged();
    } catch (e) {
      onError(e as AppError);
    }
  };
  const num = (k: "input_per_1k" | "output_per_1k" | "paper_units") => (
    <input className="num" type="number" step="any" min="0" value={draft[k]} onChange={(e) => setDraft({ ...draft, [k]: e.target.value as unknown as number })} aria-label={`${tier.name} ${k}`} />
  );
  // Prices as people read them: dollars per million tokens (the store keeps them per thousand).
  const perMillion = (k: "input_per_1k" | "output_per_1k") => (
    <input
      className="num price"
      type="number"
      step="any"
      min="0"
      value={Number((Number(draft[k]) * 1000).toPrecision(6))}
      onChange={(e) => setDraft({ ...draft, [k]: (Number(e.target.value) / 1000) as unknown as number })}
      aria-label={`${tier.name} ${k === "input_per_1k" ? "input" : "output"} $ per 1M tokens`}
    />
  );
  return (
    <tr data-tier={tier.name}>
      <td>L{tier.position}</td>
      <td>{tier.name}</td>
      <td>
        <select value={draft.provider} onChange={(e) => setDraft({ ...draft, provider: e.target.value })} aria-label={`${tier.name} provider`}>
          {providers.map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
      </td>
      <td>
        <input className="model-name" size={Math.max(24, draft.model.length + 2)} value={draft.model} onChange={(e) => setDraft({ ...draft, model: e.target.value })} aria-label={`${tier.name} model`} />
      </td>
      <td>{perMillion("input_per_1k")}</td>
      <td>{perMillion("output_per_1k")}</td>
      <td>{num("paper_units")}</td>
      <td className="small ability" data-source={ability?.source ?? "unknown"}>
        {ability?.rate != null && (
          <>
            <strong>{pct(ability.rate)} MBPP</strong>{" "}
          </>
        )}
        <span className="muted">{ability?.detail ?? "nothing is known of this model yet"}</span>
      </td>
      <td>
        <button disabled={!dirty} onClick={save}>
          Save
        </button>
      </td>
    </tr>
  );
}

/** "Calibrate my tiers": each tier answers a sample of MBPP tasks spread over the difficulty scale; routing then
 * knows each tier's model by its own results. The cost is shown before anything is asked. */
function CalibratePanel({ table, onChanged, onError }: { table: TierTable; onChanged: () => void; onError: (e: AppError) => void }) {
  const [n, setN] = useState(100);
  const [budget, setBudget] = useState("");
  const [estimate, setEstimate] = useState<Calibration | null>(null);
  const [result, setResult] = useState<Calibration | null>(null);
  const [done, setDone] = useState(0);
  const [running, setRunning] = useState(false);
  const request = (dry_run: boolean) => ({ tiers: table.tiers.map((t) => t.name), n, dataset: "mbpp", budget: budget === "" ? null : Number(budget), dry_run });
  const go = async (dry: boolean) => {
    setRunning(!dry);
    setDone(0);
    try {
      const c = await calibrateTiers(request(dry), (e) => {
        if (e.event === "trial") setDone((d) => d + 1);
      });
      if (dry) {
        setEstimate(c);
      } else {
        setResult(c);
        onChanged();
      }
    } catch (e) {
      onError(e as AppError);
    } finally {
      setRunning(false);
    }
  };
  return (
    <div className="panel" id="calibrate">
      <h2>Calibrate my tiers</h2>
      <p className="muted small">
        Each tier answers a sample of MBPP tasks (imported as <code>mbpp</code>) spread from easy to hard; every answer is run against its tests, and routing
        then knows each tier's model by its own results instead of a published figure.
      </p>
      <div className="row">
        <label>
          Tasks per tier <input className="num" type="number" min="1" max="378" value={n} onChange={(e) => { setN(Number(e.target.value)); setEstimate(null); }} aria-label="calibration tasks" />
        </label>
        <label>
          Budget ($) <input className="num" type="number" min="0" step="any" value={budget} placeholder="none" onChange={(e) => setBudget(e.target.value)} aria-label="calibration budget" />
        </label>
        <button id="calibrate-estimate" disabled={running} onClick={() => go(true)}>
          Estimate cost
        </button>
        <button id="calibrate-run" disabled={running || estimate === null} onClick={() => go(false)}>
          {running ? `Calibrating… ${done}/${n * table.tiers.length}` : "Calibrate"}
        </button>
      </div>
      {estimate && <p id="calibrate-cost">{estimate.estimate.tasks} tasks × {table.tiers.length} tiers, about {usd(estimate.estimate.cost_usd)}.</p>}
      {result && (
        <table className="grid" id="calibrate-result">
          <tbody>
            {result.tiers.map((t) => (
              <tr key={t.tier}>
                <td>{t.tier}</td>
                <td>{t.model}</td>
                <td>
                  {t.passed}/{t.tasks}
                </td>
                <td>{pct(t.rate)} MBPP</td>
                <td className="muted small">{t.on_hull ? "" : "a cheaper tier does as well: not worth routing to"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {result && result.hull_at_budget != null && (
        <p id="calibrate-hull">
          On these tasks the hull of your tiers passes {pct(result.hull_at_budget)} at your budget
          {result.fixed.length > 0 && ` (always-${result.fixed[result.fixed.length - 1].tier}: ${pct(result.fixed[result.fixed.length - 1].pass_rate)})`}.
        </p>
      )}
      {result && <p className="small">{result.budget}</p>}
    </div>
  );
}

function ProvidersPanel({ table, keys, onChanged, onError }: { table: TierTable; keys: KeyTable; onChanged: () => void; onError: (e: AppError) => void }) {
  const mask = (p: string) => keys.providers.find((k) => k.provider === p)?.key ?? null;
  return (
    <div className="panel">
      <h2>
        Providers and API keys <span className="muted small">keychain: {keys.keychain}</span>
      </h2>
      {keys.problem && (
        <p className="notice" id="keychain-problem" role="alert">
          Keys cannot be saved on this computer: {keys.problem}
        </p>
      )}
      <table className="grid" id="provider-table">
        <thead>
          <tr>
            <th>Provider</th>
            <th>Kind</th>
            <th>Base URL</th>
            <th>API key</th>
          </tr>
        </thead>
        <tbody>
          {table.providers
            .filter((p) => p.kind !== "local")
            .map((p) => (
              <ProviderRowEditor
                key={`${p.name}-${p.base_url}-${mask(p.name)}`}
                name={p.name}
                kind={p.kind}
                baseUrl={p.base_url}
                mask={mask(p.name)}
                noStore={keys.problem != null}
                onChanged={onChanged}
                onError={onError}
              />
            ))}
        </tbody>
      </table>
    </div>
  );
}

/** The key field only ever writes: after saving it is cleared and the row shows the keychain's mask. */
function ProviderRowEditor(props: { name: string; kind: string; baseUrl: string; mask: string | null; noStore: boolean; onChanged: () => void; onError: (e: AppError) => void }) {
  const [url, setUrl] = useState(props.baseUrl);
  const [key, setKey] = useState("");
  const run = async (f: () => Promise<unknown>) => {
    try {
      await f();
      props.onChanged();
    } catch (e) {
      props.onError(e as AppError);
    }
  };
  return (
    <tr data-provider={props.name}>
      <td>{props.name}</td>
      <td className="muted">{props.kind}</td>
      <td>
        <div className="row">
          <input value={url} onChange={(e) => setUrl(e.target.value)} aria-label={`${props.name} base URL`} />
          <button disabled={url === props.baseUrl} onClick={() => run(() => providerSet(props.name, { base_url: url }))}>
            Save
          </button>
        </div>
      </td>
      <td>
        <div className="row">
          <span className="key-mask" data-provider={props.name}>{props.mask ?? (props.noStore ? "no keychain (see above)" : "no key")}</span>
          <input
            type="password"
            autoComplete="off"
            placeholder="paste a key"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            aria-label={`${props.name} API key`}
            className="key-input"
          />
          <button
            className="key-save"
            disabled={!key.trim()}
            onClick={() =>
              run(async () => {
                const k = key;
                setKey("");
                await keySet(props.name, k);
              })
            }
          >
            Save key
          </button>
          {props.mask && (
            <button className="danger" onClick={() => run(() => keyDelete(props.name))}>
              Delete
            </button>
          )}
        </div>
      </td>
    </tr>
  );
}

function LocalModelsPanel({ models, onChanged, onError }: { models: ModelView[]; onChanged: () => void; onError: (e: AppError) => void }) {
  const [catalog, setCatalog] = useState<CatalogModel[]>([]);
  const [path, setPath] = useState("");
  const [name, setName] = useState("");
  const [pick, setPick] = useState("");
  const [dl, setDl] = useState<{ job: string; spec: string; received: number; total: number | null } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  useEffect(() => {
    // Preselected: the model the first-launch notice suggests, else the paper's local model.
    Promise.all([modelsCatalog(), localStatus().catch(() => null)]).then(([c, local]) => {
      setCatalog(c);
      const want = local?.suggested ?? "codellama-7b-instruct.Q4_K_M";
      setPick((p) => p || (c.find((m) => m.name === want) ?? c[0])?.name || "");
    }, onError);
  }, [onError]);

  const run = async (label: string, f: () => Promise<unknown>) => {
    setBusy(label);
    try {
      await f();
      onChanged();
    } catch (e) {
      onError(e as AppError);
    } finally {
      setBusy(null);
    }
  };

  const chosen = catalog.find((c) => c.name === pick);
  const download = async (spec: string) => {
    const job = newJob("download");
    const size = catalog.find((c) => c.name === spec)?.size ?? null;
    setDl({ job, spec, received: 0, total: size });
    try {
      await modelDownload(spec, job, (ev) => {
        if (ev.event === "progress") setDl((d) => (d ? { ...d, received: ev.received, total: ev.total } : d));
      });
      onChanged();
      setDl(null);
    } catch (e) {
      const err = e as AppError;
      setDl((d) => (d && err.code === "cancelled" ? { ...d, job: "" } : null));
      if (err.code !== "cancelled") onError(err);
    }
  };

  return (
    <div className="panel">
      <h2>Local models</h2>
      {models.length === 0 ? (
        <p className="muted" id="no-models">No local models yet.</p>
      ) : (
        <table className="grid" id="model-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Architecture</th>
              <th>Parameters</th>
              <th>Quantisation</th>
              <th>Context</th>
              <th>Memory to run</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {models.map((m) => (
              <tr key={m.name} data-model={m.name}>
                <td>{m.name}</td>
                <td>{m.architecture}</td>
                <td>{(m.parameters / 1e6).toFixed(0)}M</td>
                <td>{m.quantization}</td>
                <td>{m.context_length ?? "?"}</td>
                <td>{m.file_present ? (m.memory_estimate_bytes ? `~${formatBytes(m.memory_estimate_bytes)}` : "?") : "file missing"}</td>
                <td>
                  {m.loaded ? (
                    <button onClick={() => run("unload", () => modelUnload(m.name))}>Unload</button>
                  ) : (
                    <button disabled={!m.file_present || busy !== null} onClick={() => run("load", () => modelLoad(m.name))}>
                      {busy === "load" ? "Loading…" : "Load"}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="row">
        <input id="model-path" placeholder="/path/to/model.gguf" value={path} onChange={(e) => setPath(e.target.value)} aria-label="Model file path" />
        <button onClick={async () => setPath((await pickModelFile().catch(() => null)) ?? path)}>Browse…</button>
        <input placeholder="name (optional)" value={name} onChange={(e) => setName(e.target.value)} aria-label="Model name" />
        <button id="model-add" disabled={!path.trim() || busy !== null} onClick={() => run("add", () => modelAdd(path.trim(), name.trim()))}>
          Add
        </button>
      </div>
      <div className="row">
        <select value={pick} onChange={(e) => setPick(e.target.value)} aria-label="Catalog model">
          {catalog.map((c) => (
            <option key={c.name} value={c.name}>
              {c.title} ({c.size === null ? "size not published" : formatBytes(c.size)})
            </option>
          ))}
        </select>
        {!dl && (
          <button disabled={!pick} onClick={() => download(pick)}>
            Download
          </button>
        )}
        {dl && dl.job && <button onClick={() => jobCancel(dl.job)}>Pause</button>}
        {dl && !dl.job && <button onClick={() => download(dl.spec)}>Resume</button>}
      </div>
      {chosen && (
        <p className="small muted" id="catalog-detail">
          {chosen.scores.length > 0
            ? chosen.scores.map((x) => `${x.benchmark} pass@1 ${(100 * x.pass_at_1).toFixed(1)}%`).join(" · ")
            : "no published scores"}
          {" · "}
          {chosen.license} ·{" "}
          {chosen.checksum === "published"
            ? "size and SHA-256 checked against the published figures"
            : chosen.checksum === "pinned"
              ? "SHA-256 pinned by its first download here"
              : "no SHA-256 published: the first complete download pins it"}
          {chosen.scores.length > 0 && <span className="source"> — source: {[...new Set(chosen.scores.map((x) => x.source))].join("; ")}</span>}
        </p>
      )}
      {dl && (
        <div className="progress">
          <progress max={100} value={percent(dl.received, dl.total) ?? undefined} />
          <span className="small">
            {formatBytes(dl.received)}
            {dl.total ? ` of ${formatBytes(dl.total)}` : ""} {dl.job ? "" : "(paused)"}
          </span>
        </div>
      )}
    </div>
  );
}

export function describeCompletion(c: Completion): string {
  return `${c.model} · ${c.usage.prompt_tokens} + ${c.usage.completion_tokens} tokens${c.usage_estimated ? " (estimated)" : ""} · ${usd(c.cost_usd)} · ${Math.round(c.latency_ms)} ms`;
}

function AskPanel({ tiers, onError }: { tiers: TierRow[]; onError: (e: AppError) => void }) {
  const [tier, setTier] = useState(tiers[0]?.name ?? "");
  const [prompt, setPrompt] = useState("");
  const [answer, setAnswer] = useState("");
  const [footer, setFooter] = useState<string | null>(null);
  const job = useRef<string | null>(null);

  const ask = async () => {
    const id = newJob("ask");
    job.current = id;
    setAnswer("");
    setFooter("waiting for the first token…");
    try {
      const out = await askTier(tier, prompt, id, (ev) => {
        if (ev.event === "piece") setAnswer((a) => a + ev.text);
        else if (ev.event === "started") setFooter(`${ev.tier} · ${ev.model} · answering…`);
      });
      setFooter(describeCompletion(out.completion));
    } catch (e) {
      setFooter(null);
      onError(e as AppError);
    } finally {
      job.current = null;
    }
  };

  return (
    <div className="panel">
      <h2>Ask this tier</h2>
      <div className="row">
        <select id="ask-tier" value={tier} onChange={(e) => setTier(e.target.value)} aria-label="Tier">
          {tiers.map((t) => (
            <option key={t.name} value={t.name}>
              {t.name} — {t.model}
            </option>
          ))}
        </select>
        <input id="ask-prompt" placeholder="A coding question" value={prompt} onChange={(e) => setPrompt(e.target.value)} aria-label="Prompt" />
        <button id="ask-button" disabled={!prompt.trim() || job.current !== null} onClick={ask}>
          Ask
        </button>
        <button id="ask-stop" disabled={job.current === null} onClick={() => job.current && jobCancel(job.current)}>
          Stop
        </button>
      </div>
      {(answer || footer) && (
        <>
          <pre className="answer" id="ask-answer">
            {answer}
          </pre>
          <div className="small muted" id="ask-footer">
            {footer}
          </div>
        </>
      )}
    </div>
  );
}
