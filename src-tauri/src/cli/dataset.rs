//! `complexitynet dataset …`: import, list, show, delete, download.

use clap::{Args, Subcommand};
use complexitynet_core::types::{Format, ImportOutcome, ImportStatus};
use complexitynet_core::AppError;
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;

use super::Ctx;

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Import a dataset file (all or nothing)
    Import(ImportArgs),
    /// List the imported datasets with their task counts
    List,
    /// Show a dataset's tasks, or one task with its asserts
    Show {
        name: String,
        task_id: Option<String>,
        /// Only tasks whose id, prompt or entry point contains this text
        #[arg(long)]
        query: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        offset: usize,
    },
    /// Delete a dataset and its tasks
    Delete { name: String },
    /// Download a known dataset (mbpp), check its size and SHA-256, and import it
    Download {
        name: String,
        /// Fetch from this URL instead of the canonical one (a mirror); size and checksum are still checked
        #[arg(long)]
        url: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    file: PathBuf,
    /// mbpp, humaneval, jsonl or csv [default: detected from the file]
    #[arg(long)]
    format: Option<Format>,
    /// The dataset's name [default: the file name without extension]
    #[arg(long)]
    name: Option<String>,
    /// Overwrite a dataset of the same name that has different content
    #[arg(long)]
    replace: bool,
}

fn status_word(out: &ImportOutcome) -> &'static str {
    match out.status {
        ImportStatus::Created => "Imported",
        ImportStatus::Unchanged => "Unchanged",
        ImportStatus::Replaced => "Replaced",
    }
}

pub fn run(cmd: DatasetCommand, ctx: &Ctx) -> Result<(), AppError> {
    let app = &ctx.app;
    match cmd {
        DatasetCommand::Import(a) => {
            let out = app.import_dataset(&a.file, a.format, a.name.as_deref(), a.replace)?;
            ctx.emit(&out, || {
                format!("{} dataset {:?}: {} tasks ({})\n", status_word(&out), out.name, out.tasks, out.format.as_str())
            });
        }
        DatasetCommand::List => {
            let list = app.datasets()?;
            ctx.emit(&list, || {
                if list.is_empty() {
                    return "No datasets yet. Try `complexitynet dataset download mbpp`.\n".into();
                }
                let mut s = format!("{:<24} {:>6}  {:<10} {}\n", "NAME", "TASKS", "FORMAT", "IMPORTED");
                for d in &list {
                    s.push_str(&format!("{:<24} {:>6}  {:<10} {}\n", d.name, d.tasks, d.format, d.imported_at));
                }
                s
            });
        }
        DatasetCommand::Show { name, task_id: Some(task_id), .. } => {
            let task = app.task(&name, &task_id)?;
            ctx.emit(&task, || {
                let mut s = format!("{} / {}  —  {}\n\n{}\n", task.dataset, task.task_id, task.signature, task.prompt);
                if let Some(r) = &task.reference {
                    s.push_str(&format!("\nReference solution:\n{}\n", r.replace("\r\n", "\n").trim_end()));
                }
                if !task.setup.trim().is_empty() {
                    s.push_str(&format!("\nSetup:\n{}\n", task.setup.trim_end()));
                }
                s.push_str("\nAsserts:\n");
                for a in &task.asserts {
                    s.push_str(&format!("  {a}\n"));
                }
                if !task.challenge_asserts.is_empty() {
                    s.push_str(&format!("\nChallenge asserts: {}\n", task.challenge_asserts.len()));
                }
                s
            });
        }
        DatasetCommand::Show { name, task_id: None, query, limit, offset } => {
            let summary = app.dataset_summary(&name)?;
            let page = app.tasks(&name, query.as_deref(), offset, limit)?;
            #[derive(Serialize)]
            struct Shown<'a> {
                #[serde(flatten)]
                summary: &'a complexitynet_core::types::DatasetSummary,
                page: &'a complexitynet_core::types::TaskPage,
            }
            ctx.emit(&Shown { summary: &summary, page: &page }, || {
                let mut s = format!(
                    "{}: {} tasks ({}), from {}\n\n",
                    summary.name, summary.tasks, summary.format, summary.source
                );
                for t in &page.tasks {
                    let first: String = t.prompt.lines().next().unwrap_or_default().chars().take(80).collect();
                    s.push_str(&format!("{:>8}  {:<28} {}\n", t.task_id, t.entry_point, first));
                }
                if page.total > offset + page.tasks.len() {
                    s.push_str(&format!("… {} of {} shown; use --offset/--limit\n", page.tasks.len(), page.total));
                }
                s
            });
        }
        DatasetCommand::Delete { name } => {
            let removed = app.delete_dataset(&name)?;
            ctx.emit(&json!({ "deleted": name, "tasks": removed }), || format!("Deleted {name:?} ({removed} tasks)\n"));
        }
        DatasetCommand::Download { name, url } => {
            let bar = super::bar("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}", None);
            bar.set_message(format!("downloading {name}"));
            let progress = super::download_progress(&bar);
            let out = complexitynet_core::runtime()?.block_on(app.download_dataset(&name, url.as_deref(), &progress));
            bar.finish_and_clear();
            let out = out?;
            ctx.emit(&out, || {
                format!(
                    "{} dataset {:?}: {} tasks, {} bytes verified\n",
                    status_word(&out.import),
                    out.import.name,
                    out.import.tasks,
                    out.download.bytes
                )
            });
        }
    }
    Ok(())
}
