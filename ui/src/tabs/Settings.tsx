import { useEffect, useState } from "react";
import { appInfo, routePolicyGet, routePolicySet, serverStart, serverStatus, serverStop } from "../ipc/commands";
import type { AppError } from "../ipc/errors";
import type { AppInfo, RouteSettings, ServerStatus } from "../ipc/types";
import { ErrorBanner } from "./ErrorBanner";

export function SettingsTab() {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [server, setServer] = useState<ServerStatus | null>(null);
  const [port, setPort] = useState("8731");
  const [key, setKey] = useState("");
  const [policy, setPolicy] = useState<RouteSettings | null>(null);
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    appInfo().then(setInfo, setError);
    serverStatus().then(setServer, setError);
    routePolicyGet().then(setPolicy, setError);
  }, []);
  const savePolicy = async () => {
    if (!policy) return;
    try {
      setPolicy(await routePolicySet({ ...policy, map: policy.map?.trim() || null }));
      setSaved(true);
    } catch (e) {
      setError(e as AppError);
    }
  };
  const toggle = async () => {
    try {
      if (server?.running) {
        setServer(await serverStop());
      } else {
        setServer(await serverStart(Number(port) || 0, key || null));
        setKey("");
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
            How the chat, <code>complexitynet ask</code> and the server pick a tier. The paper's map sends a level to a fixed tier; the threshold policy picks the
            cheapest tier whose expected pass rate reaches τ (the Evaluate tab draws what each τ costs and passes).
          </p>
          <div className="row">
            <select aria-label="Routing policy" id="route-policy" value={policy.policy} onChange={(e) => { setSaved(false); setPolicy({ ...policy, policy: e.target.value as "paper" | "threshold" }); }}>
              <option value="paper">paper map</option>
              <option value="threshold">threshold τ</option>
            </select>
            {policy.policy === "threshold" ? (
              <label className="small">
                τ {policy.tau.toFixed(2)}{" "}
                <input aria-label="Routing tau" id="route-tau" type="range" min={0} max={1} step={0.05} value={policy.tau} onChange={(e) => { setSaved(false); setPolicy({ ...policy, tau: Number(e.target.value) }); }} />
              </label>
            ) : (
              <input aria-label="Routing map" id="route-map" value={policy.map ?? ""} onChange={(e) => { setSaved(false); setPolicy({ ...policy, map: e.target.value }); }} placeholder="the paper's map (or e.g. 0:1,1:2,2:3)" />
            )}
            <button id="route-save" onClick={savePolicy}>
              Save
            </button>
            {saved && <span className="small">saved</span>}
          </div>
        </div>
      )}
      <div className="panel">
        <h2>Local OpenAI-compatible server</h2>
        <p className="small muted">
          Editors and scripts can use ComplexityNet as an OpenAI endpoint on this machine: model <code>auto</code> is routed by the active classifier; a tier
          name calls that tier. Only 127.0.0.1 listens.
        </p>
        <div className="row">
          <label className="small">
            port <input aria-label="Server port" id="server-port" className="num" value={port} onChange={(e) => setPort(e.target.value)} disabled={server?.running} />
          </label>
          <input
            aria-label="Server key"
            id="server-key"
            type="password"
            autoComplete="off"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            placeholder="optional bearer key (kept in memory only)"
            disabled={server?.running}
          />
          <button id="server-toggle" onClick={toggle}>
            {server?.running ? "Stop server" : "Start server"}
          </button>
        </div>
        {server?.running && (
          <p className="notice-ok" id="server-url">
            Listening on <code>{server.url}</code>
            {server.auth ? " (bearer key required)" : ""}
          </p>
        )}
      </div>
      <p className="small muted">
        The data folder can be changed with <code>--data-dir</code> or <code>COMPLEXITYNET_DATA_DIR</code>.
      </p>
    </section>
  );
}
