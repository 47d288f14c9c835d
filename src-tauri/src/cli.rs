//! The headless `complexitynet` commands. Contract: with `--json` every command prints exactly one JSON
//! document on stdout (an `{"error": {code, message}}` object on failure); errors also go to stderr and exit
//! non-zero; progress bars go to stderr only.

use clap::{Args, Parser, Subcommand};
use complexitynet_engine::dataset::{self, Format};
use complexitynet_engine::download::DownloadProgress;
use complexitynet_engine::paths::DataDir;
use complexitynet_engine::store::Store;
use complexitynet_engine::{catalog, doctor, EngineError};
use serde::Serialize;
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::error::AppError;

#[derive(Debug, Parser)]
#[command(name = "complexitynet", version, about = "Send each coding prompt to the cheapest model that can solve it.")]
#[command(after_help = "Without a command, opens the app window.")]
pub struct Cli {
    /// Where ComplexityNet keeps its database and logs [default: $COMPLEXITYNET_DATA_DIR, else the OS app-data dir]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print one JSON document on stdout instead of text
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Datasets of coding tasks with executable checks
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Versions, the data dir, the sandbox mode, and what is installed or missing
    Doctor,
    /// Run code against asserts in the sandbox: one check, a dataset's references, or a file of answers
    Verify(VerifyArgs),
    /// API keys in the OS keychain
    #[command(subcommand)]
    Keys(crate::cli_tiers::KeysCommand),
    /// Cloud and local providers (endpoints, concurrency)
    #[command(subcommand)]
    Providers(crate::cli_tiers::ProvidersCommand),
    /// Model tiers (L1 < L2 < …) and their prices
    #[command(subcommand)]
    Tiers(crate::cli_tiers::TiersCommand),
    /// Ask one tier and stream its answer
    Ask(crate::cli_tiers::AskArgs),
    /// Local GGUF models for the local tier
    #[command(subcommand)]
    Models(crate::cli_tiers::ModelsCommand),
    /// Label rules, label runs (tiers × trials, every answer verified), status and exports
    #[command(subcommand)]
    Label(crate::cli_label::LabelCommand),
    /// Train a complexity classifier on a label run and evaluate it (80/20 split and k-fold CV)
    Train(crate::cli_classify::TrainArgs),
    /// Predict a prompt's level with the active classifier
    Classify(crate::cli_classify::ClassifyArgs),
    /// Trained classifiers: list, show, compare, activate, remove; fetch the sentence encoder
    #[command(subcommand)]
    Classifier(crate::cli_classify::ClassifierCommand),
    /// Which tier a prompt goes to, and why
    Route(crate::cli_route::RouteArgs),
    /// Show or save the routing policy (paper map or threshold τ) used by chat, ask, route and serve
    RoutePolicy(crate::cli_route::PolicyFields),
    /// An OpenAI-compatible endpoint on 127.0.0.1 (model `auto` routes; tier names call a tier)
    Serve(crate::serve::ServeArgs),
    /// Score routing on held-out labels against always-L1/L2/top, random, the oracle and the threshold curve
    Eval(crate::cli_route::EvalArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A Python file to check (used as is; model answers given with --answers are extracted first)
    #[arg(long, value_name = "FILE")]
    pub code: Option<PathBuf>,
    /// A file with one `assert` statement per line
    #[arg(long, value_name = "FILE", conflicts_with = "task")]
    pub tests: Option<PathBuf>,
    /// Take the asserts (and setup) from this dataset's task, or check the whole dataset
    #[arg(long)]
    pub dataset: Option<String>,
    /// The task of --dataset whose asserts --code is checked against
    #[arg(long, requires = "dataset")]
    pub task: Option<String>,
    /// Setup code run before the asserts (overrides the task's)
    #[arg(long, value_name = "FILE")]
    pub setup: Option<PathBuf>,
    /// Check every task's reference solution of --dataset
    #[arg(long, requires = "dataset", conflicts_with_all = ["code", "answers"])]
    pub reference: bool,
    /// A JSONL file of recorded answers (task_id, model, trial, output) to check against --dataset
    #[arg(long, value_name = "FILE.jsonl", requires = "dataset", conflicts_with = "code")]
    pub answers: Option<PathBuf>,
    /// Wall-clock limit per check
    #[arg(long, default_value_t = 5000)]
    pub timeout_ms: u64,
    /// Checks run in parallel [default: one per core]
    #[arg(long)]
    pub jobs: Option<usize>,
}

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

/// Runs a subcommand and reports its outcome; the process exit code is the return value.
pub fn run(cli: Cli) -> ExitCode {
    crate::logging::init_cli();
    let json = cli.json;
    let data_dir = DataDir::resolve(cli.data_dir);
    let Some(command) = cli.command else { return ExitCode::SUCCESS };
    let _span = tracing::info_span!("cli", data_dir = %data_dir.root.display()).entered();
    match execute(command, &data_dir, json) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                println!("{}", json!({ "error": e }));
            }
            eprintln!("error: {}", e.message);
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn emit<T: Serialize>(json: bool, value: &T, text: impl FnOnce() -> String) {
    if json {
        println!("{}", serde_json::to_string_pretty(value).expect("outputs serialise"));
    } else {
        print!("{}", text());
    }
}

pub(crate) fn open(data_dir: &DataDir) -> Result<Store, AppError> {
    Ok(Store::open(&data_dir.database())?)
}

fn execute(command: Command, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    match command {
        Command::Doctor => {
            let mut report = doctor::report(data_dir);
            report.checks.push(crate::cli_tiers::local_runtime_check(data_dir));
            report.checks.push(crate::cli_classify::classifier_check(data_dir));
            emit(json, &report, || {
                let mut s = format!(
                    "ComplexityNet {} ({}/{})\ndata dir  {} ({:?})\ndatabase  {}\nlogs      {}\nSQLite    {}\n",
                    report.version,
                    report.os,
                    report.arch,
                    report.data_dir,
                    report.data_dir_source,
                    report.database,
                    report.logs,
                    report.sqlite
                );
                for c in &report.checks {
                    s.push_str(&format!(
                        "{:<10} {:<22} {}\n",
                        format!("{:?}", c.status).to_lowercase(),
                        c.name,
                        c.detail
                    ));
                }
                s
            });
            Ok(())
        }
        Command::Dataset(cmd) => dataset_command(cmd, data_dir, json),
        Command::Verify(args) => crate::cli_verify::run(args, data_dir, json),
        Command::Keys(cmd) => crate::cli_tiers::keys(cmd, data_dir, json),
        Command::Providers(cmd) => crate::cli_tiers::providers(cmd, data_dir, json),
        Command::Tiers(cmd) => crate::cli_tiers::tiers(cmd, data_dir, json),
        Command::Ask(args) => crate::cli_tiers::ask(args, data_dir, json),
        Command::Models(cmd) => crate::cli_tiers::models(cmd, data_dir, json),
        Command::Label(cmd) => crate::cli_label::run(cmd, data_dir, json),
        Command::Train(args) => crate::cli_classify::train(args, data_dir, json),
        Command::Classify(args) => crate::cli_classify::classify(args, data_dir, json),
        Command::Classifier(cmd) => crate::cli_classify::classifier(cmd, data_dir, json),
        Command::Route(args) => crate::cli_route::route_cmd(args, data_dir, json),
        Command::RoutePolicy(args) => crate::cli_route::policy_cmd(args, data_dir, json),
        Command::Eval(args) => crate::cli_route::eval_cmd(args, data_dir, json),
        Command::Serve(args) => crate::serve::serve(args, data_dir),
    }
}

fn dataset_command(cmd: DatasetCommand, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    match cmd {
        DatasetCommand::Import(a) => {
            let mut store = open(data_dir)?;
            let out = dataset::import_file(&mut store, &a.file, a.format, a.name.as_deref(), a.replace)?;
            emit(json, &out, || {
                format!("{} dataset {:?}: {} tasks ({})\n", status_word(&out), out.name, out.tasks, out.format.as_str())
            });
        }
        DatasetCommand::List => {
            let list = dataset::list(&open(data_dir)?)?;
            emit(json, &list, || {
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
            let task = dataset::get_task(&open(data_dir)?, &name, &task_id)?.view(&name);
            emit(json, &task, || {
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
            let store = open(data_dir)?;
            let summary = dataset::summary(&store, &name)?;
            let page = dataset::list_tasks(&store, &name, query.as_deref(), offset, limit)?;
            #[derive(Serialize)]
            struct Shown<'a> {
                #[serde(flatten)]
                summary: &'a dataset::DatasetSummary,
                page: &'a dataset::TaskPage,
            }
            emit(json, &Shown { summary: &summary, page: &page }, || {
                let mut s = format!(
                    "{}: {} tasks ({}), from {}\n\n",
                    summary.name, summary.tasks, summary.format, summary.source
                );
                for t in &page.tasks {
                    let first = t.prompt.lines().next().unwrap_or_default();
                    let first: String = first.chars().take(80).collect();
                    s.push_str(&format!("{:>8}  {:<28} {}\n", t.task_id, t.entry_point, first));
                }
                if page.total > offset + page.tasks.len() {
                    s.push_str(&format!("… {} of {} shown; use --offset/--limit\n", page.tasks.len(), page.total));
                }
                s
            });
        }
        DatasetCommand::Delete { name } => {
            let removed = dataset::delete(&mut open(data_dir)?, &name)?;
            emit(json, &json!({ "deleted": name, "tasks": removed }), || {
                format!("Deleted {name:?} ({removed} tasks)\n")
            });
        }
        DatasetCommand::Download { name, url } => {
            // Open (and migrate) the store first: a newer database is refused before any bytes are fetched.
            let mut store = open(data_dir)?;
            let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
            bar.set_style(
                indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(format!("downloading {name}"));
            let progress = {
                let bar = bar.clone();
                move |p: DownloadProgress| {
                    if let Some(t) = p.total {
                        bar.set_length(t);
                    }
                    bar.set_position(p.received);
                }
            };
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| AppError::internal(format!("cannot start the async runtime: {e}")))?;
            let fetched = runtime.block_on(catalog::fetch_dataset(data_dir, &name, url.as_deref(), &progress));
            bar.finish_and_clear();
            let (entry, fetched) = fetched?;
            let source = url.unwrap_or(entry.url);
            let (format, tasks) = dataset::parse_file(&fetched.path, Some(entry.format)).map_err(EngineError::from)?;
            let out = dataset::import_tasks(&mut store, &name, format, &source, &tasks, false)?;
            let doc = json!({
                "name": out.name, "format": out.format, "tasks": out.tasks, "status": out.status,
                "content_sha256": out.content_sha256,
                "download": { "url": source, "bytes": fetched.bytes, "sha256": fetched.sha256, "attempts": fetched.attempts,
                              "path": fetched.path },
            });
            emit(json, &doc, || {
                format!(
                    "{} dataset {:?}: {} tasks, {} bytes verified\n",
                    status_word(&out),
                    out.name,
                    out.tasks,
                    fetched.bytes
                )
            });
        }
    }
    Ok(())
}

fn status_word(out: &dataset::ImportOutcome) -> &'static str {
    match out.status {
        dataset::ImportStatus::Created => "Imported",
        dataset::ImportStatus::Unchanged => "Unchanged",
        dataset::ImportStatus::Replaced => "Replaced",
    }
}
