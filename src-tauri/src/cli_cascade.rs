//! The verified cascade: when a prompt carries tests (`assert` lines in the message, or a dataset task), the
//! answer of the cheapest chosen tier is run against them in the sandbox, and the prompt escalates to the next
//! tier while it fails. Every step is reported (tier, verdict, cost), so the user sees why it cost what it did.

use serde::Serialize;

use complexitynet_engine::dataset::{self, derive_entry_point};
use complexitynet_engine::keys::Keychain;
use complexitynet_engine::paths::DataDir;
use complexitynet_engine::store::Store;
use complexitynet_engine::tiers::table;
use complexitynet_engine::tiers::{CancellationToken, GenParams, Message, Request};
use complexitynet_engine::verify::extract::extract_code;
use complexitynet_engine::verify::{Check, Limits, Verdict, Verifier};
use complexitynet_engine::{EngineError, ErrorCode};

use crate::cli::{emit, open};
use crate::cli_tiers::{build_provider, tier_err, AskArgs};
use crate::error::AppError;

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub tier: String,
    pub model: String,
    pub verdict: Verdict,
    pub cost_usd: f64,
    pub usage: complexitynet_engine::tiers::Usage,
    pub answer: String,
    pub code: String,
}

#[derive(Debug, Serialize)]
pub struct CascadeOutcome {
    pub steps: Vec<Step>,
    /// The tier whose answer passed, if any.
    pub passed_on: Option<String>,
    pub answer: String,
    pub cost_usd: f64,
}

/// The tests a prompt carries: the task's (with its setup) when given, else the prompt's own `assert` lines.
fn tests_for(store: &Store, args: &AskArgs) -> Result<(String, Vec<String>, Option<String>), AppError> {
    if let (Some(ds), Some(task)) = (&args.dataset, &args.task) {
        let t = dataset::get_task(store, ds, task).map_err(|e| AppError::from(EngineError::from(e)))?;
        return Ok((t.setup.clone(), t.asserts.clone(), Some(t.entry_point.name.clone())));
    }
    prompt_tests(&args.prompt).ok_or_else(|| AppError {
        code: ErrorCode::InvalidArguments,
        message: "--cascade needs tests: assert lines in the prompt, or --dataset and --task".into(),
    })
}

/// Runs the cascade from tier `start` (a name) upwards. `on_step` hears each verified answer.
pub fn cascade(
    store: &Store,
    start: &str,
    prompt: &str,
    tests: &(String, Vec<String>, Option<String>),
    params: GenParams,
    on_step: &dyn Fn(&Step),
    on_skip: &dyn Fn(&str, &str),
) -> Result<CascadeOutcome, AppError> {
    let (setup, asserts, entry) = tests;
    let tiers = table::tiers(store).map_err(tier_err)?;
    let first = tiers.iter().position(|t| t.name == start).ok_or_else(|| AppError {
        code: ErrorCode::UnknownTier,
        message: format!("no tier {start:?} (the cascade climbs the tier table)"),
    })?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::internal(format!("cannot start the async runtime: {e}")))?;
    let keychain = Keychain::open();
    let verifier = Verifier::new();
    let mut steps = Vec::new();
    let mut passed_on = None;
    for tier in &tiers[first..] {
        let span = tracing::info_span!("cascade_step", tier = %tier.name);
        let _enter = span.enter();
        let (ok, why) = crate::cli_route::available(store, &keychain, tier);
        if !ok {
            on_skip(&tier.name, &why);
            continue;
        }
        let prov = table::provider(store, &tier.provider).map_err(tier_err)?;
        let provider = build_provider(store, tier, &prov, &keychain, None)?;
        let request = Request {
            model: tier.model.clone(),
            messages: vec![Message::user(prompt)],
            params: params.clone(),
            stream: false,
            price: tier.price(),
        };
        let completion = match rt.block_on(provider.generate(&request, &|_| {}, &CancellationToken::new())) {
            Ok(c) => c,
            Err(e) => {
                // A tier that cannot answer is a failed step, not the end of the cascade.
                on_skip(&tier.name, &e.message);
                continue;
            }
        };
        let code = extract_code(&completion.text, entry.as_deref()).code;
        let check =
            Check { code: code.clone(), setup: setup.clone(), asserts: asserts.clone(), limits: Limits::default() };
        let verdict = verifier.verify(&check);
        let passed = verdict.passed();
        let step = Step {
            tier: tier.name.clone(),
            model: completion.model.clone(),
            verdict,
            cost_usd: completion.cost_usd,
            usage: completion.usage,
            answer: completion.text,
            code,
        };
        on_step(&step);
        steps.push(step);
        if passed {
            passed_on = Some(tier.name.clone());
            break;
        }
    }
    let answer = steps.last().map(|s| s.answer.clone()).unwrap_or_default();
    Ok(CascadeOutcome { cost_usd: steps.iter().map(|s| s.cost_usd).sum(), passed_on, answer, steps })
}

/// The tests of a prompt's own `assert` lines.
pub fn prompt_tests(prompt: &str) -> Option<(String, Vec<String>, Option<String>)> {
    let asserts: Vec<String> =
        prompt.lines().map(str::trim).filter(|l| l.starts_with("assert ")).map(str::to_owned).collect();
    if asserts.is_empty() {
        return None;
    }
    let entry = derive_entry_point(&asserts, None).ok().map(|e| e.name);
    Some((String::new(), asserts, entry))
}

/// `ask --cascade`.
pub fn run(args: &AskArgs, start: &str, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    let store = open(data_dir)?;
    let tests = tests_for(&store, args)?;
    let params = GenParams { temperature: args.temperature, max_tokens: args.max_tokens, ..GenParams::default() };
    let on_step = |s: &Step| {
        if !json {
            eprintln!("[cascade] {} ({}): {}", s.tier, s.model, s.verdict.summary());
        }
    };
    let on_skip = |tier: &str, why: &str| {
        if !json {
            eprintln!("[cascade] {tier}: no answer ({why}) → next tier");
        }
    };
    let outcome = cascade(&store, start, &args.prompt, &tests, params, &on_step, &on_skip)?;
    emit(json, &outcome, || {
        let mut s = outcome.answer.trim_end().to_owned();
        s.push('\n');
        s
    });
    if !json {
        match &outcome.passed_on {
            Some(t) => eprintln!("[cascade] passed on {t} · ${:.6} in all", outcome.cost_usd),
            None => eprintln!("[cascade] no tier's answer passed the tests · ${:.6} in all", outcome.cost_usd),
        }
    }
    Ok(())
}
