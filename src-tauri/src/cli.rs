//! The headless `complexitynet` commands: clap parsing and rendering over the application core
//! ([`complexitynet_core::App`]); no use case lives here. Contract: with `--json` every command prints exactly
//! one JSON document on stdout (an `{"error": {code, message}}` object on failure); errors also go to stderr
//! and exit non-zero; progress goes to stderr only; a closed stdout (`| head`) ends the command quietly.

mod ask;
mod checks;
mod classifier;
mod dataset;
mod keys;
mod label;
mod models;
mod route;
mod serve;
mod usage;
mod verify;

use clap::{Parser, Subcommand};
use complexitynet_core::types::DataDir;
use complexitynet_core::types::Keychain;
use complexitynet_core::{App, AppError};
use serde::Serialize;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

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
    Dataset(dataset::DatasetCommand),
    /// Versions, the data dir, the sandbox mode, and what is installed or missing
    Doctor,
    /// Run code against asserts in the sandbox: one check, a dataset's references, or a file of answers
    Verify(verify::VerifyArgs),
    /// API keys in the OS keychain
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Cloud and local providers (endpoints, concurrency)
    #[command(subcommand)]
    Providers(keys::ProvidersCommand),
    /// Model tiers (L1 < L2 < …) and their prices
    #[command(subcommand)]
    Tiers(keys::TiersCommand),
    /// Ask a prompt: routed to the cheapest tier that can answer it, or to the tier you name
    Ask(ask::AskArgs),
    /// The checks a prompt shows: its examples (asserts, doctests, calls with results, Input/Output) as asserts
    Checks(checks::ChecksArgs),
    /// Local GGUF models for the local tier
    #[command(subcommand)]
    Models(models::ModelsCommand),
    /// Label rules, label runs (tiers × trials, every answer verified), status and exports
    #[command(subcommand)]
    Label(label::LabelCommand),
    /// Train a complexity classifier on a label run and evaluate it (80/20 split and k-fold CV)
    Train(classifier::TrainArgs),
    /// Predict a prompt's level with the active classifier
    Classify(classifier::ClassifyArgs),
    /// Trained classifiers: list, show, compare, activate, remove; fetch the sentence encoder
    #[command(subcommand)]
    Classifier(classifier::ClassifierCommand),
    /// Which tier a prompt would go to, and why (also when that tier cannot answer now)
    Route(route::RouteArgs),
    /// Show or save the routing policy used by chat, ask, route and serve: the cost dial at a share of always-top's
    /// cost (the default), a paper map, or threshold τ
    RoutePolicy(route::PolicyFields),
    /// An OpenAI-compatible endpoint on 127.0.0.1 (model `auto` routes; tier names call a tier)
    Serve(serve::ServeArgs),
    /// Score routing on held-out labels against always-L1/L2/top, random, the oracle and the threshold curve
    Eval(route::EvalArgs),
    /// What was spent and saved, from the one ledger: by day, tier, source, client or conversation
    Usage(usage::UsageArgs),
}

/// What every command gets: the app and the output mode.
pub(crate) struct Ctx {
    pub app: Arc<App>,
    pub json: bool,
}

impl Ctx {
    /// Prints `value` as JSON with `--json`, else the text.
    pub fn emit<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) {
        if self.json {
            out(&(serde_json::to_string_pretty(value).expect("outputs serialise") + "\n"));
        } else {
            out(&text());
        }
    }
}

/// Writes to stdout. A reader that went away (`| head`) ends the command quietly with success, as command-line
/// tools do; any other write error is reported once.
pub(crate) fn out(s: &str) {
    let mut o = std::io::stdout().lock();
    if let Err(e) = o.write_all(s.as_bytes()).and_then(|()| o.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {e}");
        std::process::exit(1);
    }
}

/// A progress bar on stderr (hidden when stderr is not a terminal, as indicatif does).
pub(crate) fn bar(template: &str, len: Option<u64>) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(len, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(indicatif::ProgressStyle::with_template(template).expect("valid template").progress_chars("=> "));
    bar
}

/// A download's progress for a bar.
pub(crate) fn download_progress(
    bar: &indicatif::ProgressBar,
) -> impl Fn(complexitynet_core::types::DownloadProgress) + Send + Sync + 'static {
    let bar = bar.clone();
    move |p| {
        if let Some(t) = p.total {
            bar.set_length(t);
        }
        bar.set_position(p.received);
    }
}

/// Runs a subcommand and reports its outcome; the process exit code is the return value.
pub fn run(cli: Cli) -> ExitCode {
    crate::logging::init_cli();
    let json = cli.json;
    let data_dir = DataDir::resolve(cli.data_dir);
    let Some(command) = cli.command else { return ExitCode::SUCCESS };
    let _span = tracing::info_span!("cli", data_dir = %data_dir.root.display()).entered();
    let ctx = Ctx { app: Arc::new(App::open(data_dir, Arc::new(Keychain::open()))), json };
    match execute(command, &ctx) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if json {
                out(&format!("{}\n", json!({ "error": e })));
            }
            eprintln!("error: {}", e.message);
            ExitCode::FAILURE
        }
    }
}

fn execute(command: Command, ctx: &Ctx) -> Result<(), AppError> {
    match command {
        Command::Doctor => doctor(ctx),
        Command::Dataset(cmd) => dataset::run(cmd, ctx),
        Command::Verify(args) => verify::run(args, ctx),
        Command::Keys(cmd) => keys::keys(cmd, ctx),
        Command::Providers(cmd) => keys::providers(cmd, ctx),
        Command::Tiers(cmd) => keys::tiers(cmd, ctx),
        Command::Ask(args) => ask::run(args, ctx),
        Command::Checks(args) => checks::run(args, ctx),
        Command::Models(cmd) => models::run(cmd, ctx),
        Command::Label(cmd) => label::run(cmd, ctx),
        Command::Train(args) => classifier::train(args, ctx),
        Command::Classify(args) => classifier::classify(args, ctx),
        Command::Classifier(cmd) => classifier::classifier(cmd, ctx),
        Command::Route(args) => route::route(args, ctx),
        Command::RoutePolicy(args) => route::policy(args, ctx),
        Command::Eval(args) => route::eval(args, ctx),
        Command::Serve(args) => serve::run(args, ctx),
        Command::Usage(args) => usage::run(args, ctx),
    }
}

fn doctor(ctx: &Ctx) -> Result<(), AppError> {
    let report = ctx.app.doctor();
    ctx.emit(&report, || {
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
            s.push_str(&format!("{:<10} {:<22} {}\n", format!("{:?}", c.status).to_lowercase(), c.name, c.detail));
        }
        s
    });
    Ok(())
}
