import { useEffect, useState } from "react";
import { appReady } from "./ipc/commands";
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
