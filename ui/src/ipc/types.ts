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
