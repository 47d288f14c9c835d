import { useEffect, useState } from "react";
import { appInfo, budgetStatus, dialCurve, routePolicyGet, routePolicySet, serverSettingsGet, serverSettingsSet, serverStart, serverStatus, serverStop } from "../ipc/commands";
import type { AppError } from "../ipc/errors";
import type { AppInfo, BudgetStatus, DialCurve, PolicyKind, RouteSettings, ServerSettings, ServerStatus } from "../ipc/types";
import { ErrorBanner } from "./ErrorBanner";
import { UsagePanel } from "./Usage";

const pct = (x: number) => `${(100 * x).toFixed(x < 0.1 ? 1 : 0)}%`;

/** Ready-to-paste set-ups for the common clients, for a server at `url` with `key`. */
export function snippets(url: string, key: string | null): { id: string; title: string; text: string }[] {
  const k = key ?? "none";
  const base = url.replace(/\/v1$/, "");
  return [
    {
      id: "claude",
      title: "Claude Code (shell)",
      text: `export ANTHROPIC_BASE_URL=${base}\nexport ANTHROPIC_API_KEY=${k}\nclaude`,
    },
    {
      id: "codex",
      title: "Codex CLI (~/.codex/config.toml, then CN_KEY=${k} codex)",
      text: `model_provider = "complexitynet"\n\n[model_providers.complexitynet]\nname = "ComplexityNet"\nbase_url = "${url}"\nenv_key = "CN_KEY"\nwire_api = "responses"`,
    },
    {
      id: "opencode",
      title: "opencode (opencode.json)",
      text: `{\n  "provider": {\n    "complexitynet": {\n      "npm": "@ai-sdk/openai-compatible",\n      "options": { "baseURL": "${url}", "apiKey": "${k}" },\n      "models": { "auto": {} }\n    }\n  },\n  "model": "complexitynet/auto"\n}`,
    },
    {
      id: "aider",
      title: "aider",
      text: `aider --openai-api-base ${url} --openai-api-key ${k} --model openai/auto`,
    },
    {
      id: "continue",
      title: "Continue (config.yaml)",
      text: `models:\n  - name: ComplexityNet (routed)\n    provider: openai\n    model: auto\n    apiBase: ${url}\n    apiKey: ${k}`,
    },
    {
      id: "vscode",
      title: "Cursor / VS Code extensions with an OpenAI-compatible endpoint",
      text: `Base URL: ${url}\nAPI key: ${k}\nModel: auto`,
    },
    {
      id: "python",
      title: "The openai SDK (Python)",
      text: `from openai import OpenAI\nclient = OpenAI(base_url="${url}", api_key="${k}")\nclient.chat.completions.create(model="auto", messages=[{"role": "user", "content": "Reverse a string in Python"}])`,
    },
    { id: "curl", title: "curl", text: `curl ${url}/models -H "Authorization: Bearer ${k}"` },
  ];
}

const lines = (t: string) =>
  t
    .split("\n")
    .map((x) => x.trim())
    .filter(Boolean);

/** The dial's curve: expected pass rate by cost share (log scale), with the saved setting's operating point. */
export function DialPlot({ curve }: { curve: DialCurve }) {
  const [w, h, pad] = [360, 160, 28];
  const xs = curve.points.map((p) => Math.log10(Math.max(p[0], 1e-3)));
  const lo = Math.min(...xs, Math.log10(Math.max(curve.operating[0], 1e-3)));
  const hi = Math.max(...xs, 0);
  const ys = curve.points.map((p) => p[1]).concat(curve.operating[1]);
  const [ylo, yhi] = [Math.min(...ys) - 0.02, Math.max(...ys) + 0.02];
  const x = (c: number) => pad + ((Math.log10(Math.max(c, 1e-3)) - lo) / Math.max(hi - lo, 1e-9)) * (w - 2 * pad);
  const y = (p: number) => h - pad - ((p - ylo) / Math.max(yhi - ylo, 1e-9)) * (h - 2 * pad);
  return (
    <svg id="dial-plot" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label="expected pass rate by cost share">
      <polyline className="dial-curve" fill="none" stroke="#2563eb" strokeWidth={2} points={curve.points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ")} />
      <circle id="dial-operating" cx={x(curve.operating[0])} cy={y(curve.operating[1])} r={6} fill="#dc2626" fillOpacity={0.8} />
      <text x={pad} y={h - 6} fontSize={10}>
        {pct(Math.pow(10, lo))} of always-top's cost
      </text>
      <text x={w - pad} y={h - 6} fontSize={10} textAnchor="end">
        100%
      </text>
      <text x={4} y={y(yhi - 0.02) + 4} fontSize={10}>
        {pct(yhi - 0.02)}
      </text>
      <text x={4} y={y(ylo + 0.02)} fontSize={10}>
        {pct(ylo + 0.02)}
      </text>
    </svg>
  );
}

export function SettingsTab() {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [server, setServer] = useState<ServerStatus | null>(null);
  const [port, setPort] = useState("8731");
  const [noKey, setNoKey] = useState(false);
  const [copied, setCopied] = useState(false);
  const [gate, setGate] = useState<ServerSettings | null>(null);
  const [origins, setOrigins] = useState("");
  const [hosts, setHosts] = useState("");
  const [cap, setCap] = useState("");
  const [pass, setPass] = useState(false);
  const [gateSaved, setGateSaved] = useState(false);
  const [policy, setPolicy] = useState<RouteSettings | null>(null);
  const [saved, setSaved] = useState(false);
  const [curve, setCurve] = useState<DialCurve | null>(null);
  const [budget, setBudget] = useState<BudgetStatus | null>(null);
  useEffect(() => {
    budgetStatus().then(setBudget, () => setBudget(null));
    appInfo().then(setInfo, setError);
    serverStatus().then(setServer, setError);
    routePolicyGet().then(setPolicy, setError);
    dialCurve().then(setCurve, setError);
    serverSettingsGet().then((g) => {
      setGate(g);
      setOrigins(g.allowed_origins.join("\n"));
      setHosts(g.allowed_hosts.join("\n"));
      setCap(g.daily_cap === null ? "" : String(g.daily_cap));
      setPass(g.pass_through);
    }, setError);
  }, []);
  const saveGate = async () => {
    try {
      const c = cap.trim() === "" ? null : Number(cap);
      setGate(await serverSettingsSet({ allowed_origins: lines(origins), allowed_hosts: lines(hosts), daily_cap: c, pass_through: pass }));
      setGateSaved(true);
    } catch (e) {
      setError(e as AppError);
    }
  };
  const copyKey = async () => {
    if (!server?.key) return;
    try {
      await navigator.clipboard.writeText(server.key);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };
  const savePolicy = async () => {
    if (!policy) return;
    try {
      setPolicy(await routePolicySet({ ...policy, map: policy.map?.trim() || null }));
      setSaved(true);
      setCurve(await dialCurve());
      setBudget(await budgetStatus().catch(() => null));
    } catch (e) {
      setError(e as AppError);
    }
  };
  const toggle = async () => {
    try {
      if (server?.running) {
        setServer(await serverStop());
      } else {
        const p = Number(port.trim() || "0");
        if (!Number.isInteger(p) || p < 0 || p > 65535) {
          setError({ code: "invalid_arguments", message: `the port must be a whole number from 0 to 65535 (0: any free port), not "${port}"` });
          return;
        }
        setCopied(false);
        setServer(await serverStart(p, noKey));
      }
    } catch (e) {
      setError(e as AppError);
    }
  };
  return (
    <section className="settings">
      <h1>Settings</h1>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {info && (
        <dl className="facts" id="app-info">
          <dt>Version</dt>
          <dd>{info.version}</dd>
          <dt>Data folder</dt>
          <dd><code>{info.data_dir}</code></dd>
          <dt>Database</dt>
          <dd><code>{info.database}</code></dd>
          <dt>Logs</dt>
          <dd><code>{info.logs}</code></dd>
        </dl>
      )}
      {policy && (
        <div className="panel" id="routing-policy">
          <h2>Routing</h2>
          <p className="small muted">
            How the chat, <code>complexitynet ask</code> and the server pick a tier for a prompt without checks. The cost dial (the default) keeps the share of
            always-top's cost you set: it sends prompts to the mix of the two tiers your budget buys on the hull of the fixed tiers (never a tier weaker than a
            cheaper one), deciding each prompt by what has been spent so far; the learned router replaces the mix only where it beat it on labels of your own
            tiers' models. The paper's map sends a level to a fixed tier; the threshold policy picks the cheapest tier whose pass probability reaches τ. A
            prompt with checks is verified whatever the policy: from the cheapest tier up.
          </p>
          <div className="row">
            <select
              aria-label="Routing policy"
              id="route-policy"
              value={policy.policy}
              onChange={(e) => {
                setSaved(false);
                setPolicy({ ...policy, policy: e.target.value as PolicyKind });
              }}
            >
              <option value="dial">cost dial</option>
              <option value="threshold">threshold τ</option>
              <option value="paper">paper map</option>
            </select>
            {policy.policy === "dial" && (
              <>
                <select
                  aria-label="Dial target"
                  id="route-target"
                  value={policy.min_pass === null ? "cost" : "pass"}
                  onChange={(e) => {
                    setSaved(false);
                    setPolicy({ ...policy, min_pass: e.target.value === "pass" ? 0.8 : null });
                  }}
                >
                  <option value="cost">spend at most</option>
                  <option value="pass">pass at least</option>
                </select>
                {policy.min_pass === null ? (
                  <label className="small">
                    {pct(policy.cost_share)} of always-top's cost{" "}
                    <input
                      aria-label="Cost share"
                      id="route-share"
                      type="range"
                      min={0.01}
                      max={1}
                      step={0.01}
                      value={policy.cost_share}
                      onChange={(e) => {
                        setSaved(false);
                        setPolicy({ ...policy, cost_share: Number(e.target.value) });
                      }}
                    />
                  </label>
                ) : (
                  <label className="small">
                    {pct(policy.min_pass)} expected pass rate{" "}
                    <input
                      aria-label="Minimum pass rate"
                      id="route-min-pass"
                      type="range"
                      min={0.3}
                      max={1}
                      step={0.01}
                      value={policy.min_pass}
                      onChange={(e) => {
                        setSaved(false);
                        setPolicy({ ...policy, min_pass: Number(e.target.value) });
                      }}
                    />
                  </label>
                )}
              </>
            )}
            {policy.policy === "threshold" && (
              <label className="small">
                τ {policy.tau.toFixed(2)}{" "}
                <input aria-label="Routing tau" id="route-tau" type="range" min={0} max={1} step={0.05} value={policy.tau} onChange={(e) => { setSaved(false); setPolicy({ ...policy, tau: Number(e.target.value) }); }} />
              </label>
            )}
            {policy.policy === "paper" && (
              <input aria-label="Routing map" id="route-map" value={policy.map ?? ""} onChange={(e) => { setSaved(false); setPolicy({ ...policy, map: e.target.value }); }} placeholder="the paper's map (or e.g. 0:1,1:2,2:3)" />
            )}
            <button id="route-save" onClick={savePolicy}>
              Save
            </button>
            {saved && <span className="small">saved</span>}
          </div>
          {policy.policy === "dial" && budget && (
            <div id="budget" className="small">
              <p id="budget-realized">
                Target {pct(budget.target)} of always-top's cost; realized{" "}
                <strong>{budget.realized === null ? "nothing yet" : pct(budget.realized)}</strong> over your last {budget.prompts} routed prompts (30 days).
              </p>
              <p className="muted" id="budget-router">
                Active: <strong>{budget.router === "learned" ? "the learned router" : "the hull mix"}</strong> — {budget.why}.
              </p>
              <ul className="muted" id="budget-tiers">
                {budget.tiers.map((t) => (
                  <li key={t.tier}>
                    {t.tier} ({t.model}): {t.rate === null ? "" : `MBPP ${pct(t.rate)} — `}
                    {t.detail}
                  </li>
                ))}
              </ul>
            </div>
          )}
          {policy.policy === "dial" && curve && (
            <div id="dial">
              <DialPlot curve={curve} />
              <p className="small muted" id="dial-operating-text">
                Saved setting: about {pct(curve.operating[0])} of always-top's cost for an expected {pct(curve.operating[1])} pass rate (λ {curve.lambda.toFixed(3)};
                calibrated on {curve.held_out} held-out prompts{curve.user > 0 ? ` and ${curve.user} of yours` : ""}).
              </p>
            </div>
          )}
        </div>
      )}
      <div className="panel" id="server">
        <h2>Local OpenAI-compatible server</h2>
        <p className="small muted">
          Editors and scripts can use ComplexityNet as an OpenAI endpoint on this machine: model <code>auto</code> is routed (and verified when the request
          carries tests); a tier name calls that tier. It listens on 127.0.0.1 only, answers only to loopback names, refuses web pages whose origin you have not
          allowed and bodies that are not JSON, and by default requires a key made fresh for each start (kept in memory, never stored).
        </p>
        {!server?.running && (
          <p className="small next-step" id="server-next-step">
            Next: press Start server, then point Claude Code, Codex, opencode or aider at it with the snippet shown here (or run{" "}
            <code>complexitynet serve</code> in a terminal).
          </p>
        )}
        <div className="row">
          <label className="small">
            port <input aria-label="Server port" id="server-port" className="num" value={port} onChange={(e) => setPort(e.target.value)} disabled={server?.running} />
          </label>
          <label className="small warn">
            <input type="checkbox" id="server-no-key" checked={noKey} onChange={(e) => setNoKey(e.target.checked)} disabled={server?.running} /> No key: any
            program on this computer can use your tiers and spend on your API keys
          </label>
          {/* Enabled once the server's state is known: a start racing the first status read would be undone by it. */}
          <button id="server-toggle" onClick={toggle} disabled={server === null}>
            {server?.running ? "Stop server" : "Start server"}
          </button>
        </div>
        {server?.running && server.url && (
          <div id="server-running">
            <p className="notice-ok" id="server-url">
              Listening on <code>{server.url}</code>
              {server.key ? " — bearer key required" : " — no key (your choice)"}
            </p>
            {server.key && (
              <p className="row small">
                Key for this start: <code id="server-key-value">{server.key}</code>
                <button id="server-key-copy" onClick={copyKey}>
                  {copied ? "Copied" : "Copy"}
                </button>
              </p>
            )}
            {snippets(server.url, server.key).map((sn) => (
              <details key={sn.id} className="snippet">
                <summary>{sn.title}</summary>
                <pre id={`server-snippet-${sn.id}`}>{sn.text}</pre>
              </details>
            ))}
          </div>
        )}
        {gate && (
          <div className="row" id="server-gate">
            <label className="small">
              Web origins allowed to call it (one per line)
              <textarea aria-label="Allowed origins" id="server-origins" rows={2} value={origins} onChange={(e) => { setGateSaved(false); setOrigins(e.target.value); }} placeholder="https://app.example" />
            </label>
            <label className="small">
              Other host names for 127.0.0.1
              <textarea aria-label="Allowed hosts" id="server-hosts" rows={2} value={hosts} onChange={(e) => { setGateSaved(false); setHosts(e.target.value); }} placeholder="devbox" />
            </label>
            <label className="small">
              Daily spend cap through the server (cost mode in use; empty: none)
              <input aria-label="Daily spend cap" id="server-cap" className="num" value={cap} onChange={(e) => { setGateSaved(false); setCap(e.target.value); }} placeholder="e.g. 1.00" />
            </label>
            <label className="small">
              <input type="checkbox" aria-label="Pass model names through" id="server-pass" checked={pass} onChange={(e) => { setGateSaved(false); setPass(e.target.checked); }} />
              Send a model name no tier serves (a client's own) straight to the top tier's provider instead of routing it
            </label>
            <button id="server-gate-save" onClick={saveGate}>
              Save
            </button>
            {gateSaved && <span className="small">saved (applies at the next start)</span>}
          </div>
        )}
      </div>
      <UsagePanel />
      <p className="small muted">
        The data folder can be changed with <code>--data-dir</code> or <code>COMPLEXITYNET_DATA_DIR</code>.
      </p>
    </section>
  );
}
