// Spend and savings from the one ledger, grouped as `complexitynet usage` groups it: by agent client (Claude Code,
// Codex, …), by conversation (an agent's session), by source, tier or day. What the window shows of the agents'
// activity: every request they made through the server is a row of the ledger.
import { useCallback, useEffect, useState } from "react";
import { usage } from "../ipc/commands";
import type { AppError } from "../ipc/errors";
import type { UsageBy, UsageRow } from "../ipc/types";
import { usd } from "../money";

const GROUPS: { by: UsageBy; label: string }[] = [
  { by: "client", label: "client (agent)" },
  { by: "conversation", label: "conversation" },
  { by: "source", label: "source" },
  { by: "tier", label: "tier" },
  { by: "day", label: "day" },
];

export function UsagePanel() {
  const [by, setBy] = useState<UsageBy>("client");
  const [rows, setRows] = useState<UsageRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async (group: UsageBy) => {
    try {
      setRows(await usage(group, 30));
      setError(null);
    } catch (e) {
      setError((e as AppError).message);
    }
  }, []);
  useEffect(() => {
    void load(by);
  }, [by, load]);
  const spent = rows?.reduce((a, r) => a + r.cost_usd, 0) ?? 0;
  const saved = rows?.reduce((a, r) => a + Math.max(0, r.top_usd - r.cost_usd), 0) ?? 0;
  return (
    <div className="panel" id="usage">
      <h2>Spend and savings (last 30 days)</h2>
      <p className="small muted">
        Every call any front end made — the chat, <code>ask</code>, label runs and the agents through the server — from the one ledger. Saved: what the top tier
        would have charged for the same answers, less what they cost.
      </p>
      <div className="row">
        <label className="small">
          by{" "}
          <select aria-label="Group spend by" id="usage-by" value={by} onChange={(e) => setBy(e.target.value as UsageBy)}>
            {GROUPS.map((g) => (
              <option key={g.by} value={g.by}>
                {g.label}
              </option>
            ))}
          </select>
        </label>
        <button id="usage-refresh" onClick={() => void load(by)}>
          Refresh
        </button>
      </div>
      {error && (
        <p className="error small" id="usage-error">
          {error}
        </p>
      )}
      {rows && rows.length === 0 && (
        <p className="small next-step" id="usage-empty">
          No calls yet. Ask in the Chat tab, or start the server above and point an agent at it: its requests appear here by client and conversation.
        </p>
      )}
      {rows && rows.length > 0 && (
        <table className="grid small" id="usage-table">
          <thead>
            <tr>
              <th>{GROUPS.find((g) => g.by === by)?.label}</th>
              <th className="num">calls</th>
              <th className="num">failed</th>
              <th className="num">tokens in / out (cached)</th>
              <th className="num">spent</th>
              <th className="num">saved</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key} data-key={r.key}>
                <td>{r.key === "-" && (by === "client" || by === "conversation") ? "— (not an agent: the chat, ask, label runs)" : r.key}</td>
                <td className="num">{r.calls}</td>
                <td className="num">{r.failed}</td>
                <td className="num">
                  {r.prompt_tokens} / {r.completion_tokens} ({r.cached_tokens})
                </td>
                <td className="num usage-spent">{usd(r.cost_usd)}</td>
                <td className="num usage-saved">{usd(Math.max(0, r.top_usd - r.cost_usd))}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <td>all</td>
              <td className="num">{rows.reduce((a, r) => a + r.calls, 0)}</td>
              <td className="num">{rows.reduce((a, r) => a + r.failed, 0)}</td>
              <td />
              <td className="num" id="usage-total-spent">
                {usd(spent)}
              </td>
              <td className="num" id="usage-total-saved">
                {usd(saved)}
              </td>
            </tr>
          </tfoot>
        </table>
      )}
    </div>
  );
}
