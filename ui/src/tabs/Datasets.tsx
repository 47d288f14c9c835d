import { useCallback, useEffect, useState, type FormEvent } from "react";
import {
  datasetCatalog,
  deleteDataset,
  downloadDataset,
  getTask,
  importDataset,
  listDatasets,
  listTasks,
  pickDatasetFile,
} from "../ipc/commands";
import type { AppError } from "../ipc/errors";
import type { CatalogEntry, DatasetSummary, Format, TaskPage, TaskView } from "../ipc/types";
import { ErrorBanner } from "./ErrorBanner";

const PAGE = 100;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Percent done for the download bar, or null while the total is unknown. */
export function percent(received: number, total: number | null): number | null {
  if (!total) return null;
  return Math.min(100, Math.floor((received / total) * 100));
}

export function DatasetsTab() {
  const [datasets, setDatasets] = useState<DatasetSummary[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<AppError | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const refresh = useCallback(async (select?: string) => {
    try {
      const list = await listDatasets();
      setDatasets(list);
      setSelected((cur) => select ?? (cur && list.some((d) => d.name === cur) ? cur : (list[0]?.name ?? null)));
    } catch (e) {
      setError(e as AppError);
    }
  }, []);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  const onImported = (name: string, message: string) => {
    setError(null);
    setNotice(message);
    void refresh(name);
  };

  return (
    <section className="datasets">
      <h1>Datasets</h1>
      <p className="lede">Coding tasks with executable checks: each task is a prompt plus the asserts that decide whether an answer solves it.</p>
      <ErrorBanner error={error} onDismiss={() => setError(null)} />
      {notice && !error && (
        <div className="notice-ok" role="status" id="dataset-notice">
          {notice}
        </div>
      )}
      <div className="datasets-grid">
        <div className="panel">
          <ImportForm onDone={onImported} onError={setError} />
          <DownloadForm onDone={onImported} onError={setError} />
          <h2>Imported</h2>
          {datasets.length === 0 ? (
            <p className="muted next-step" id="no-datasets">
              No datasets yet: import a JSONL or CSV file below, or press <strong>Download MBPP</strong> (from the shell:{" "}
              <code>complexitynet dataset download mbpp</code>).
            </p>
          ) : (
            <ul className="dataset-list" id="dataset-list">
              {datasets.map((d) => (
                <li key={d.name}>
                  <button
                    className={d.name === selected ? "dataset-item active" : "dataset-item"}
                    data-name={d.name}
                    onClick={() => setSelected(d.name)}
                  >
                    <span className="dataset-name">{d.name}</span>
                    <span className="task-count" data-count={d.tasks}>{d.tasks} tasks</span>
                    <span className="muted small">{d.format}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
        {selected ? (
          <TaskBrowser
            key={selected}
            dataset={datasets.find((d) => d.name === selected)!}
            onError={setError}
            onDeleted={() => {
              setNotice(`Deleted ${selected}.`);
              setSelected(null);
              void refresh();
            }}
          />
        ) : (
          <div className="panel muted">Select a dataset to browse its tasks.</div>
        )}
      </div>
    </section>
  );
}

function ImportForm({ onDone, onError }: { onDone: (name: string, msg: string) => void; onError: (e: AppError) => void }) {
  const [path, setPath] = useState("");
  const [format, setFormat] = useState("auto");
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);

  const browse = async () => {
    try {
      const picked = await pickDatasetFile();
      if (picked) setPath(picked);
    } catch (e) {
      onError(e as AppError);
    }
  };

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    if (!path.trim()) return;
    setBusy(true);
    try {
      const out = await importDataset({ path: path.trim(), format: format === "auto" ? null : (format as Format), name: name.trim() || undefined });
      const verb = out.status === "unchanged" ? "Already up to date" : out.status === "replaced" ? "Replaced" : "Imported";
      onDone(out.name, `${verb}: ${out.name} (${out.tasks} tasks, ${out.format}).`);
    } catch (e) {
      onError(e as AppError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="import-form" onSubmit={submit} aria-label="Import a dataset file">
      <h2>Import a file</h2>
      <div className="row">
        <input
          id="import-path"
          placeholder="/path/to/tasks.jsonl"
          value={path}
          onChange={(e) => setPath(e.target.value)}
          aria-label="Dataset file path"
        />
        <button type="button" id="import-browse" onClick={browse}>
          Browse…
        </button>
      </div>
      <div className="row">
        <select id="import-format" value={format} onChange={(e) => setFormat(e.target.value)} aria-label="Format">
          <option value="auto">Detect format</option>
          <option value="mbpp">MBPP JSONL</option>
          <option value="humaneval">HumanEval JSONL</option>
          <option value="jsonl">JSONL {"{id, prompt, tests}"}</option>
          <option value="csv">CSV id,prompt,tests</option>
        </select>
        <input id="import-name" placeholder="name (default: file name)" value={name} onChange={(e) => setName(e.target.value)} aria-label="Dataset name" />
      </div>
      <div className="row">
        <button type="submit" id="import-button" disabled={busy || !path.trim()}>
          {busy ? "Importing…" : "Import"}
        </button>
      </div>
    </form>
  );
}

function DownloadForm({ onDone, onError }: { onDone: (name: string, msg: string) => void; onError: (e: AppError) => void }) {
  const [catalog, setCatalog] = useState<CatalogEntry[]>([]);
  const [url, setUrl] = useState("");
  const [progress, setProgress] = useState<{ received: number; total: number | null; importing: boolean } | null>(null);

  useEffect(() => {
    datasetCatalog().then(setCatalog, onError);
  }, [onError]);

  const start = async (entry: CatalogEntry) => {
    setProgress({ received: 0, total: entry.size, importing: false });
    try {
      const out = await downloadDataset(entry.name, url.trim() || undefined, (ev) =>
        setProgress((p) =>
          ev.event === "progress"
            ? { received: ev.received, total: ev.total, importing: false }
            : { ...(p ?? { received: 0, total: null }), importing: true },
        ),
      );
      onDone(out.name, `Downloaded and verified ${out.name}: ${out.tasks} tasks.`);
    } catch (e) {
      onError(e as AppError);
    } finally {
      setProgress(null);
    }
  };

  const pct = progress ? percent(progress.received, progress.total) : null;
  return (
    <div className="download-form">
      <h2>Download</h2>
      {catalog.map((c) => (
        <div className="row" key={c.name}>
          <button id={`download-${c.name}`} onClick={() => start(c)} disabled={progress !== null}>
            Download {c.name.toUpperCase()}
          </button>
          <span className="muted small">
            {c.title} · {formatBytes(c.size)} · {c.license}
          </span>
        </div>
      ))}
      <details>
        <summary className="small">Mirror URL</summary>
        <input id="download-url" placeholder="https://… (default: the canonical URL)" value={url} onChange={(e) => setUrl(e.target.value)} aria-label="Mirror URL" />
      </details>
      {progress && (
        <div className="progress" id="download-progress">
          <progress max={100} value={pct ?? undefined} />
          <span className="small">
            {progress.importing
              ? "Importing…"
              : `${formatBytes(progress.received)}${progress.total ? ` of ${formatBytes(progress.total)}` : ""}`}
          </span>
        </div>
      )}
    </div>
  );
}

function TaskBrowser({ dataset, onError, onDeleted }: { dataset: DatasetSummary; onError: (e: AppError) => void; onDeleted: () => void }) {
  const [query, setQuery] = useState("");
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<TaskPage | null>(null);
  const [task, setTask] = useState<TaskView | null>(null);

  useEffect(() => {
    let live = true;
    listTasks(dataset.name, query, offset, PAGE).then((p) => live && setPage(p), onError);
    return () => {
      live = false;
    };
  }, [dataset.name, query, offset, onError]);

  const open = async (taskId: string) => {
    try {
      setTask(await getTask(dataset.name, taskId));
    } catch (e) {
      onError(e as AppError);
    }
  };

  const remove = async () => {
    if (!window.confirm(`Delete the dataset ${dataset.name} and its ${dataset.tasks} tasks?`)) return;
    try {
      await deleteDataset(dataset.name);
      onDeleted();
    } catch (e) {
      onError(e as AppError);
    }
  };

  return (
    <div className="panel browser" id="task-browser" data-dataset={dataset.name}>
      <div className="row spread">
        <h2>
          {dataset.name} <span className="muted small">{dataset.tasks} tasks · {dataset.format}</span>
        </h2>
        <button className="danger" id="dataset-delete" onClick={remove}>
          Delete
        </button>
      </div>
      <input
        id="task-search"
        type="search"
        placeholder="Search id, prompt or function name"
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          setOffset(0);
        }}
        aria-label="Search tasks"
      />
      <div className="browser-split">
        <div>
          <ul className="task-list" id="task-list">
            {page?.tasks.map((t) => (
              <li key={t.task_id}>
                <button
                  className={task?.task_id === t.task_id ? "task-item active" : "task-item"}
                  data-task-id={t.task_id}
                  onClick={() => open(t.task_id)}
                >
                  <span className="task-id">{t.task_id}</span>
                  <span className="task-fn">{t.entry_point}</span>
                  <span className="task-prompt">{t.prompt.split("\n")[0]}</span>
                </button>
              </li>
            ))}
          </ul>
          {page && (
            <div className="row spread small" id="task-paging">
              <span id="task-range">
                {page.total === 0 ? "No matching tasks" : `${page.offset + 1}–${page.offset + page.tasks.length} of ${page.total}`}
              </span>
              <span>
                <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
                  Previous
                </button>
                <button disabled={offset + PAGE >= page.total} onClick={() => setOffset(offset + PAGE)}>
                  Next
                </button>
              </span>
            </div>
          )}
        </div>
        {task ? <TaskDetail task={task} /> : <div className="muted">Open a task to see its prompt, reference code and asserts.</div>}
      </div>
    </div>
  );
}

function TaskDetail({ task }: { task: TaskView }) {
  return (
    <article className="task-detail" id="task-detail" data-task-id={task.task_id}>
      <h3>
        Task {task.task_id} <code id="task-signature">{task.signature}</code>
      </h3>
      <p className="task-text" id="task-prompt">{task.prompt}</p>
      {task.reference && (
        <>
          <h4>Reference solution</h4>
          <pre id="task-reference">
            <code>{task.reference.replace(/\r\n/g, "\n")}</code>
          </pre>
        </>
      )}
      {task.setup.trim() && (
        <>
          <h4>Setup</h4>
          <pre>
            <code>{task.setup}</code>
          </pre>
        </>
      )}
      <h4>Asserts ({task.asserts.length})</h4>
      <ol className="asserts" id="task-asserts">
        {task.asserts.map((a, i) => (
          <li key={i}>
            <code>{a}</code>
          </li>
        ))}
      </ol>
      {task.challenge_asserts.length > 0 && (
        <>
          <h4>Challenge asserts ({task.challenge_asserts.length})</h4>
          <ol className="asserts">
            {task.challenge_asserts.map((a, i) => (
              <li key={i}>
                <code>{a}</code>
              </li>
            ))}
          </ol>
        </>
      )}
    </article>
  );
}
