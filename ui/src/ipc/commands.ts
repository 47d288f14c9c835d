// The only module that talks to Tauri. Every call rejects with an AppError ({code, message}).
import { Channel, invoke } from "@tauri-apps/api/core";
import { open } from "@tauri-apps/plugin-dialog";
import { toAppError } from "./errors";
import type {
  AppInfo,
  CatalogEntry,
  DatasetSummary,
  DownloadEvent,
  ImportOutcome,
  TaskPage,
  TaskView,
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

export const importDataset = (args: { path: string; format?: string; name?: string; replace?: boolean }) =>
  call<ImportOutcome>("dataset_import", args);

export const datasetCatalog = () => call<CatalogEntry[]>("dataset_catalog");

export function downloadDataset(
  name: string,
  url: string | undefined,
  onEvent: (e: DownloadEvent) => void,
): Promise<ImportOutcome> {
  const channel = new Channel<DownloadEvent>();
  channel.onmessage = onEvent;
  return call<ImportOutcome>("dataset_download", { name, url: url || null, onEvent: channel });
}

export const listTasks = (name: string, query: string, offset: number, limit: number) =>
  call<TaskPage>("dataset_tasks", { name, query: query || null, offset, limit });

export const getTask = (name: string, taskId: string) => call<TaskView>("dataset_task", { name, taskId });

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
