import { useEffect, useState } from "react";
import { appReady } from "./ipc/commands";
import { ChatTab } from "./tabs/Chat";
import { DatasetsTab } from "./tabs/Datasets";
import { FinetuneTab } from "./tabs/Finetune";
import { LabelingTab } from "./tabs/Labeling";
import { ModelsTab } from "./tabs/Models";
import { NotBuiltTab } from "./tabs/NotBuilt";
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

/** What each unbuilt tab will do, stated plainly; no placeholder data. */
const NOT_BUILT: Partial<Record<TabId, string>> = {
  evaluate: "Evaluate will measure routed pass rate and cost against always using the top tier, the oracle and the paper's routing map.",
};

export function App() {
  // Datasets is the first working tab, so the app opens there until Chat lands.
  const [tab, setTab] = useState<TabId>("datasets");
  useEffect(() => {
    // After the first frame is on screen, not merely rendered to the DOM.
    requestAnimationFrame(() => setTimeout(() => void appReady().catch(() => undefined), 0));
  }, []);
  const current = TABS.find((t) => t.id === tab)!;
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
        {tab === "settings" && <SettingsTab />}
        {NOT_BUILT[tab] && <NotBuiltTab title={current.label} description={NOT_BUILT[tab]!} />}
      </main>
    </div>
  );
}
