// Mirrors of the engine's serde shapes (src-tauri/crates/engine/src/dataset.rs).

export type Format = "mbpp" | "humaneval" | "jsonl" | "csv";

export interface DatasetSummary {
  name: string;
  format: string;
  source: string;
  tasks: number;
  content_sha256: string;
  imported_at: string;
}

export interface ImportOutcome {
  name: string;
  format: Format;
  tasks: number;
  status: "created" | "unchanged" | "replaced";
  content_sha256: string;
}

export interface TaskRow {
  task_id: string;
  prompt: string;
  entry_point: string;
  asserts: number;
}

export interface TaskPage {
  dataset: string;
  total: number;
  offset: number;
  tasks: TaskRow[];
}

export interface TaskView {
  dataset: string;
  task_id: string;
  prompt: string;
  reference: string | null;
  setup: string;
  asserts: string[];
  challenge_asserts: string[];
  entry_point: string;
  signature: string;
  arity: number;
}

export interface CatalogEntry {
  name: string;
  title: string;
  url: string;
  size: number;
  license: string;
}

export type DownloadEvent =
  | { event: "progress"; received: number; total: number | null }
  | { event: "importing" };

export interface AppInfo {
  version: string;
  data_dir: string;
  database: string;
  logs: string;
}

export type CostMode = "usd" | "paper_units";
export type ProviderKind = "openai" | "anthropic" | "local";

export interface TierRow {
  name: string;
  position: number;
  provider: string;
  model: string;
  input_per_1k: number;
  output_per_1k: number;
  paper_units: number;
}

export interface ProviderRow {
  name: string;
  kind: ProviderKind;
  base_url: string;
  concurrency: number;
  timeout_s: number;
}

export interface TierTable {
  cost_mode: CostMode;
  tiers: TierRow[];
  providers: ProviderRow[];
}

export interface KeyTable {
  keychain: string;
  providers: { provider: string; key: string | null }[];
}

export interface ModelView {
  name: string;
  path: string;
  bytes: number;
  architecture: string;
  parameters: number;
  quantization: string;
  context_length: number | null;
  has_chat_template: boolean;
  source: string;
  added_at: string;
  file_present: boolean;
  memory_estimate_bytes: number | null;
  loaded: boolean;
}

export interface CatalogModel {
  name: string;
  title: string;
  size: number;
  license: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export interface Completion {
  text: string;
  model: string;
  usage: Usage;
  finish_reason: string | { other: string };
  latency_ms: number;
  cost_usd: number;
  attempts: number;
  usage_estimated: boolean;
}

export type AskEvent =
  | { event: "started"; tier: string; provider: string; model: string }
  | { event: "piece"; text: string };

export type ModelDownloadEvent = { event: "progress"; received: number; total: number | null };

export interface LabelArgs {
  name: string;
  dataset: string;
  tiers: string[];
  trials: number;
  rule: string;
  replay?: string | null;
  limit?: number | null;
  budget?: number | null;
}

export interface LabelRow {
  task_id: string;
  counts: number[];
  trials: number[];
  level: number | null;
  dropped: boolean;
}

export interface RunSummary {
  name: string;
  dataset: string;
  status: string;
  rule: { rule: string };
  config: { tiers: string[]; trials: number; task_ids: string[] };
  trials_stored: number;
  trials_total: number;
  tiers: { tier: string; passes: number; trials: number; pass_rate: number }[];
  histogram: Record<string, number>;
  spent_usd: number;
  labels: LabelRow[];
}

export interface TrialView {
  tier: string;
  trial: number;
  verdict: string;
  verdict_json: unknown;
  answer: string;
  code: string;
  cost_usd: number;
}

export type LabelEvent = { event: "trial"; tier_index: number; passed: boolean; cost_usd: number };

// ---- Classifier (Fine-tune tab) ---------------------------------------------------------------------------

export type Method = "zero-shot" | "tfidf" | "head" | "finetune" | "openai";

export interface Metrics {
  n: number;
  accuracy: number;
  macro_f1: number;
  within_one: number;
  accuracy_ci: [number, number];
  macro_f1_ci: [number, number];
  within_one_ci: [number, number];
  levels: number[];
  confusion: number[][];
}

export interface Job {
  id: string;
  status: string;
  model: string;
  fine_tuned_model?: string | null;
}

export interface Report {
  method: Method;
  source: string;
  levels: number[];
  n: number;
  counts: [number, number][];
  training_hash: string;
  folds: number;
  seed: number;
  split: Metrics;
  cv: Metrics | null;
  majority: Metrics | null;
  train_seconds: number;
  total_seconds: number;
  unparsed: number;
  jobs: Job[];
}

export interface ClassifierMeta {
  id: string;
  method: Method;
  labels: string;
  rule: { rule: string };
  levels: number[];
  training_hash: string;
  created: number;
  report: Report;
  tier?: string | null;
  fine_tuned_model?: string | null;
  builtin: boolean;
  active: boolean;
}

export interface TrainRequest {
  labels: string;
  method: Method;
  folds?: number | null;
  seed?: number;
  epochs?: number | null;
  tier?: string | null;
  baseModel?: string | null;
  provider?: string | null;
  name?: string | null;
  activate?: boolean;
}

export interface EpochReport {
  epoch: number;
  epochs: number;
  loss: number;
  train_accuracy: number;
  held_out_accuracy: number | null;
}

export type JobUpdate =
  | { kind: "status"; job: string; status: string }
  | { kind: "event"; job: string; event: { id: string; created_at: number; level: string; message: string } };

export type TrainEvent =
  | { kind: "round"; round: string; index: number; total: number }
  | { kind: "epoch"; round: string; epoch: EpochReport }
  | { kind: "job"; round: string; update: JobUpdate };

export interface Prediction {
  level: number;
  probabilities: number[];
  levels: number[];
  classifier: string;
}

export interface EncoderStatus {
  id: string;
  dir: string;
  present: boolean;
}

// ---- Chat ---------------------------------------------------------------------------------------------------

export interface Decision {
  level: number;
  tier: string;
  model: string;
  probabilities: number[];
  levels: number[];
  reason: string;
  classifier: string;
  expected: number[];
  chosen: string;
  flagged: boolean;
  /** Present when the prompt carried tests: each tier tried, with its verdict. */
  cascade?: CascadeStep[];
}

export interface Conversation {
  id: number;
  title: string;
  created_at: string;
  messages: number;
}

export interface ChatMessage {
  id: number;
  conversation_id: number;
  role: "user" | "assistant";
  content: string;
  tier: string | null;
  model: string | null;
  level: number | null;
  route: Decision | null;
  prompt_tokens: number;
  completion_tokens: number;
  cost_usd: number;
  saved_usd: number;
  feedback: string | null;
  created_at: string;
}

export interface CascadeStep {
  tier: string;
  model: string;
  verdict: string;
  passed: boolean;
}

export type ChatEvent =
  | { event: "routed"; decision: Decision }
  | { event: "piece"; text: string }
  | ({ event: "step" } & CascadeStep);

export interface Totals {
  answers: number;
  cost_usd: number;
  saved_usd: number;
}

// ---- Evaluate -----------------------------------------------------------------------------------------------

export interface Strategy {
  name: string;
  pass_rate: number;
  cost: number;
  relative_cost: number;
  savings_vs_top: number;
  tier_share: number[];
}

export interface EvalReport {
  labels: string;
  classifier: string;
  rule: string;
  tiers: string[];
  costs: number[];
  cost_unit: string;
  n: number;
  folds: number;
  classifier_metrics: Metrics;
  routed: Strategy;
  strategies: Strategy[];
  threshold_curve: { tau: number; pass_rate: number; relative_cost: number }[];
  pass_rate_gap_vs_oracle: number;
  cost_ratio_vs_oracle: number;
}

export interface Evaluation {
  report: EvalReport;
  svg: string;
  markdown: string;
}
