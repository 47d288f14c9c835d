import { useEffect, useState } from "react";
import { appReady, localStatus } from "./ipc/commands";
import type { LocalStatus } from "./ipc/types";
import { ChatTab } from "./tabs/Chat";
import { DatasetsTab } from "./tabs/Datasets";
import { EvaluateTab } from "./tabs/Evaluate";
import { FinetuneTab } from "./tabs/Finetune";
import { LabelingTab } from "./tabs/Labeling";
import { ModelsTab } from "./tabs/Models";
import { SettingsTab } from "./tabs/Settings";

export type TabId = "chat" | "datasets" | "labeling" | "finetune" | "evaluate" | "models" | "settings";

export const TABS: { id: TabId; label: string }[] = [
  { id: "chat", label: "Chat" },
  { id: "datasets", label: "Datasets" },
  { id: "labeling", label: "Labeling" },
  { id: "finetune", label: "Fine-tune" },
  { id: "evaluate", label: "Evaluate" },
  { id: "models", label: "Models & Keys" },
  { id: "settings", label: "Settings" },
];


export function App() {
  // The app opens on Chat: it is a coding assistant first; the other tabs build and check its router.
  const [tab, setTab] = useState<TabId>("chat");
  useEffect(() => {
    // After the first frame is on screen, not merely rendered to the DOM.
    requestAnimationFrame(() => setTimeout(() => void appReady().catch(() => undefined), 0));
  }, []);
  // Weights are never bundled: until the local tier has a model, every tab says so and where to get one.
  const [local, setLocal] = useState<LocalStatus | null>(null);
  useEffect(() => {
    localStatus().then(setLocal, () => setLocal(null));
  }, [tab]);
  return (
    <div className="app">
      <nav className="sidebar" aria-label="Main">
        <div className="brand">ComplexityNet</div>
        {TABS.map((t) => (
          <button
            key={t.id}
            id={`nav-${t.id}`}
            className={t.id === tab ? "nav-item active" : "nav-item"}
            aria-current={t.id === tab ? "page" : undefined}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </nav>
      <main className="content">
        {local && !local.installed && (
          <div className="setup-notice" id="setup-notice" role="status">
            The local tier has no model yet: <code>{local.model}</code> is not installed (model weights are never part of the app).
            {local.suggested && (
              <>
                {" "}
                Download one in Models &amp; Keys — <code>{local.suggested}</code> is a good start — or add a GGUF file you have.
              </>
            )}{" "}
            Until then, prompts go to the cloud tiers you have keys for.
            {tab !== "models" && (
              <button id="setup-open-models" onClick={() => setTab("models")}>
                Open Models &amp; Keys
              </button>
            )}
          </div>
        )}
        {tab === "chat" && <ChatTab />}
        {tab === "datasets" && <DatasetsTab />}
        {tab === "models" && <ModelsTab />}
        {tab === "labeling" && <LabelingTab />}
        {tab === "finetune" && <FinetuneTab />}
        {tab === "evaluate" && <EvaluateTab />}
        {tab === "settings" && <SettingsTab />}
      </main>
    </div>
  );
}
