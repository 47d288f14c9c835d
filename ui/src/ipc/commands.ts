// The only module that talks to Tauri. Every call rejects with an AppError ({code, message}). Arguments are
// snake_case, like every type in ./bindings.ts (generated from the Rust types).
import { Channel, invoke } from "@tauri-apps/api/core";
import { open } from "@tauri-apps/plugin-dialog";
import { toAppError } from "./errors";
import type {
  AppInfo,
  AskEvent,
  BudgetStatus,
  Calibration,
  CalibrateRequest,
  CatalogEntry,
  CatalogModel,
  ChatEvent,
  ChatMessage,
  CheckItem,
  Checks,
  LocalStatus,
  Preset,
  ChatTotals,
  DialCurve,
  ServerSettings,
  UsageBy,
  UsageRow,
  ClassifierMeta,
  Conversation,
  CostMode,
  DatasetSummary,
  DownloadEvent,
  EncoderStatus,
  Estimate,
  Evaluation,
  ExportFormat,
  Format,
  ImportOutcome,
  JobInfo,
  KeyTable,
  LabelArgs,
  LabelEvent,
  ModelRow,
  ModelView,
  AskOutcome,
  Prediction,
  ProviderRow,
  ProviderUpdate,
  RouteOverrides,
  RouteSettings,
  RunSummary,
  ServerStatus,
  TaskPage,
  TaskView,
  TierFields,
  TierRow,
  TierTable,
  TrainEvent,
  TrainRequest,
  TrialView,
} from "./types";

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw toAppError(e);
  }
}

export const appInfo = () => call<AppInfo>("app_info");

/** Tells the app its first frame is painted (for the cold-start measurement). */
export const appReady = () => call<void>("app_ready");

export const listDatasets = () => call<DatasetSummary[]>("dataset_list");

export const importDataset = (args: { path: string; format?: Format | null; name?: string; replace?: boolean }) =>
  call<ImportOutcome>("dataset_import", { path: args.path, format: args.format ?? null, name: args.name ?? null, replace: args.replace ?? false });

export const datasetCatalog = () => call<CatalogEntry[]>("dataset_catalog");

export function downloadDataset(
  name: string,
  url: string | undefined,
  onEvent: (e: DownloadEvent) => void,
): Promise<ImportOutcome> {
  const channel = new Channel<DownloadEvent>();
  channel.onmessage = onEvent;
  return call<ImportOutcome>("dataset_download", { name, url: url || null, on_event: channel });
}

export const listTasks = (name: string, query: string, offset: number, limit: number) =>
  call<TaskPage>("dataset_tasks", { name, query: query || null, offset, limit });

export const getTask = (name: string, taskId: string) => call<TaskView>("dataset_task", { name, task_id: taskId });

export const deleteDataset = (name: string) => call<number>("dataset_delete", { name });

/** The native open-file dialog; resolves to a path, or null when the user cancels. */
export async function pickDatasetFile(): Promise<string | null> {
  try {
    const picked = await open({
      multiple: false,
      directory: false,
      filters: [
        { name: "Datasets", extensions: ["jsonl", "json", "csv"] },
        { name: "All files", extensions: ["*"] },
      ],
    });
    return typeof picked === "string" ? picked : null;
  } catch (e) {
    throw toAppError(e);
  }
}

// ---- Models & Keys --------------------------------------------------------------------------------------

export const tiersList = () => call<TierTable>("tiers_list");

export const tierSet = (name: string, fields: TierFields) => call<TierRow>("tier_set", { name, fields });

export const tierPresets = () => call<Preset[]>("tier_presets");

export const tierPresetApply = (name: string) => call<TierTable>("tier_preset_apply", { name });

export const costModeSet = (mode: CostMode) => call<void>("cost_mode_set", { mode });

export const providerSet = (name: string, fields: ProviderUpdate) => call<ProviderRow>("provider_set", { name, fields });

export const keysList = () => call<KeyTable>("keys_list");

/** Writes the key to the OS keychain; resolves to its mask (…abcd). The key itself never comes back. */
export const keySet = (provider: string, key: string) => call<string>("key_set", { provider, key });

export const keyDelete = (provider: string) => call<boolean>("key_delete", { provider });

export const modelsList = () => call<ModelView[]>("models_list");

export const modelsCatalog = () => call<CatalogModel[]>("models_catalog");

export const modelAdd = (path: string, name?: string) => call<ModelRow>("model_add", { path, name: name || null });

export function modelDownload(spec: string, job: string, onEvent: (e: DownloadEvent) => void) {
  const channel = new Channel<DownloadEvent>();
  channel.onmessage = onEvent;
  return call<ModelRow>("model_download", { spec, job, on_event: channel });
}

export const jobCancel = (job: string) => call<boolean>("job_cancel", { job });

export const jobsList = () => call<JobInfo[]>("jobs_list");

export const modelLoad = (name: string) => call<void>("model_load", { name });

export const modelUnload = (name: string) => call<boolean>("model_unload", { name });

export function askTier(tier: string, prompt: string, job: string, onEvent: (e: AskEvent) => void) {
  const channel = new Channel<AskEvent>();
  channel.onmessage = onEvent;
  return call<AskOutcome>("ask_tier", { tier, prompt, job, on_event: channel });
}

/** The native open-file dialog for GGUF models. */
export async function pickModelFile(): Promise<string | null> {
  try {
    const picked = await open({ multiple: false, directory: false, filters: [{ name: "GGUF models", extensions: ["gguf"] }] });
    return typeof picked === "string" ? picked : null;
  } catch (e) {
    throw toAppError(e);
  }
}

// ---- Labeling ---------------------------------------------------------------------------------------------

export const labelEstimate = (args: LabelArgs) => call<Estimate>("label_estimate", { request: args });

export function labelStart(args: LabelArgs, onEvent: (e: LabelEvent) => void) {
  const channel = new Channel<LabelEvent>();
  channel.onmessage = onEvent;
  return call<RunSummary>("label_start", { request: args, on_event: channel });
}

/** MBPP labeled from the paper's recorded answers (the Evaluate tab's first step). */
export function labelPaperReplay(recorded: string, onEvent: (e: LabelEvent) => void) {
  const channel = new Channel<LabelEvent>();
  channel.onmessage = onEvent;
  return call<RunSummary>("label_paper_replay", { recorded, on_event: channel });
}

export function calibrateTiers(request: CalibrateRequest, onEvent: (e: LabelEvent) => void) {
  const channel = new Channel<LabelEvent>();
  channel.onmessage = onEvent;
  return call<Calibration>("calibrate_tiers", { request, on_event: channel });
}

export const labelRuns = () => call<RunSummary[]>("label_runs");

export const labelTrials = (name: string, taskId: string) => call<TrialView[]>("label_trials", { name, task_id: taskId });

// ---- Classifier (Fine-tune tab) ---------------------------------------------------------------------------

export const classifierList = () => call<ClassifierMeta[]>("classifier_list");

export const classifierActivate = (id: string) => call<ClassifierMeta>("classifier_activate", { id });

export const classifierRemove = (id: string) => call<void>("classifier_remove", { id });

export const encoderStatus = () => call<EncoderStatus>("encoder_status");

/** Trains and evaluates; `onEvent` gets rounds, epochs and cloud job updates. Cancel with jobCancel("train"). */
export function classifierTrain(request: TrainRequest, onEvent: (e: TrainEvent) => void) {
  const channel = new Channel<TrainEvent>();
  channel.onmessage = onEvent;
  return call<ClassifierMeta>("classifier_train", { request, on_event: channel });
}

export const classifyPrompt = (prompt: string, classifier?: string | null) =>
  call<Prediction>("classify_prompt", { prompt, classifier: classifier ?? null });

// ---- Chat -------------------------------------------------------------------------------------------------

export const chatConversations = () => call<Conversation[]>("chat_conversations");

export const chatMessages = (conversation: number) => call<ChatMessage[]>("chat_messages", { conversation });

export const chatDelete = (conversation: number) => call<void>("chat_delete", { conversation });

export const chatFeedback = (message: number, feedback: string | null) => call<void>("chat_feedback", { message, feedback });

export const chatTotals = () => call<ChatTotals>("chat_totals");

export const chatExport = (conversation: number, format: ExportFormat) => call<string>("chat_export", { conversation, format });

/** Sends a prompt (routed unless `tier` is given, never above `maxTier`), verified against `checks` when given
 * (the ones the user edited or accepted; null: the prompt's own; an empty list: none); `onEvent` gets the routing
 * decision, the checks, each verified step, then the pieces. Stop with jobCancel("chat"). */
export function chatSend(
  conversation: number | null,
  prompt: string,
  tier: string | null,
  maxTier: string | null,
  checks: CheckItem[] | null,
  onEvent: (e: ChatEvent) => void,
) {
  const channel = new Channel<ChatEvent>();
  channel.onmessage = onEvent;
  return call<ChatMessage>("chat_send", { conversation, prompt, tier, max_tier: maxTier, checks, on_event: channel });
}

/** Whether the local tier has its model, and which to download when not (the first-launch notice). */
export const localStatus = () => call<LocalStatus>("local_status");

/** The checks a prompt shows (its examples read as asserts). */
export const promptChecks = (prompt: string) => call<Checks>("prompt_checks", { prompt });

/** Checks a tier proposes from the prompt alone, for the user to edit and accept (null tier: the first tier). */
export const proposeChecks = (prompt: string, tier: string | null) => call<CheckItem[]>("propose_checks", { prompt, tier });

/** The dial's budget: target, realized share, and which router decides and why (Settings, the chat header). */
export const budgetStatus = () => call<BudgetStatus>("budget_status");

/** The cost dial's curve with the saved setting's operating point (Settings). */
export const dialCurve = () => call<DialCurve>("dial_curve");

// ---- Evaluate ---------------------------------------------------------------------------------------------

export const evalRun = (labels: string, overrides: RouteOverrides) => call<Evaluation>("eval_run", { labels, overrides });

// ---- Local server (Settings) ------------------------------------------------------------------------------

export const serverStatus = () => call<ServerStatus>("server_status");

/** Starts the OpenAI-compatible server; the key stays in the app's memory (never stored). */
/** Starts the server with a fresh random key for this start, or with none when `noKey` (the explicit choice). */
export const serverStart = (port: number, noKey: boolean) => call<ServerStatus>("server_start", { port, no_key: noKey });

export const serverSettingsGet = () => call<ServerSettings>("server_settings_get");

/** Spend and savings from the ledger, grouped (what `complexitynet usage --by BY --days DAYS` prints). */
export const usage = (by: UsageBy, days: number) => call<UsageRow[]>("usage", { by, days });

export const serverSettingsSet = (settings: ServerSettings) => call<ServerSettings>("server_settings_set", { settings });

export const serverStop = () => call<ServerStatus>("server_stop");

/** The routing policy the chat, `ask`, `route` and the server use. */
export const routePolicyGet = () => call<RouteSettings>("route_policy_get");

export const routePolicySet = (policy: RouteSettings) => call<RouteSettings>("route_policy_set", { policy });
