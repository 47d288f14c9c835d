import { useEffect, useState } from "react";
import { appInfo } from "../ipc/commands";
import type { AppError } from "../ipc/errors";
import type { AppInfo } from "../ipc/types";
import { ErrorBanner } from "./ErrorBanner";

export function SettingsTab() {
  const [info, setInfo] = useState<AppInfo | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  useEffect(() => {
    appInfo().then(setInfo, setError);
  }, []);
  return (
    <section>
      <h1>Settings</h1>
      <ErrorBanner error={error} />
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
      <p className="notice">
        Routing, tier and server settings are not built yet; they arrive with the router. The data folder can be
        changed with <code>--data-dir</code> or <code>COMPLEXITYNET_DATA_DIR</code>.
      </p>
    </section>
  );
}
