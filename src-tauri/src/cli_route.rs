//! `route`, routed `ask` and `eval`: the classifier's prediction turned into a tier, and the savings measured.

use clap::Args;
use serde::Serialize;
use std::collections::HashMap;
use std::path::PathBuf;

use complexitynet_classifier::artifact::{self, Classifier};
use complexitynet_classifier::eval::{self, EvalOptions};
use complexitynet_classifier::LabeledSet;
use complexitynet_engine::keys::{Keychain, SecretStore};
use complexitynet_engine::paths::DataDir;
use complexitynet_engine::route::{self, Policy};
use complexitynet_engine::store::Store;
use complexitynet_engine::tiers::table::{self, ProviderKind, TierRow};
use complexitynet_engine::tiers::CancellationToken;
use complexitynet_engine::ErrorCode;

use crate::cli::{emit, open};
use crate::cli_classify::cls_err;
use crate::error::AppError;

/// A routing policy as stored in Settings (and overridden per command).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PolicyArgs {
    /// `paper` or `threshold`.
    pub policy: String,
    pub tau: f64,
    /// An edited paper map (`1-2:1,3-4:2,5:3`); None: the paper's map for the classifier's rule.
    pub map: Option<String>,
    /// A classifier other than the active one.
    #[serde(default)]
    pub classifier: Option<String>,
}

impl Default for PolicyArgs {
    fn default() -> Self {
        PolicyArgs { policy: "paper".into(), tau: 0.5, map: None, classifier: None }
    }
}

fn setting(store: &Store, key: &str) -> Option<String> {
    // A missing row and a read error both mean "not set": the default applies.
    store.conn().query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).ok()
}

/// The routing policy saved in Settings (the paper's map until the user changes it).
pub fn stored(store: &Store) -> PolicyArgs {
    let d = PolicyArgs::default();
    PolicyArgs {
        policy: setting(store, "route_policy").unwrap_or(d.policy),
        tau: setting(store, "route_tau").and_then(|v| v.parse().ok()).unwrap_or(d.tau),
        map: setting(store, "route_map").filter(|m| !m.is_empty()),
        classifier: None,
    }
}

/// Saves the routing policy for the chat, `ask`, `route` and the server.
pub fn save(store: &Store, p: &PolicyArgs) -> Result<(), AppError> {
    if !["paper", "threshold"].contains(&p.policy.as_str()) {
        return Err(invalid(format!("unknown policy {:?} (paper or threshold)", p.policy)));
    }
    if !(0.0..=1.0).contains(&p.tau) {
        return Err(invalid("τ must be in [0, 1]"));
    }
    for (k, v) in [
        ("route_policy", p.policy.clone()),
        ("route_tau", p.tau.to_string()),
        ("route_map", p.map.clone().unwrap_or_default()),
    ] {
        store
            .conn()
            .execute(
                "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [k, &v],
            )
            .map_err(|e| AppError::internal(e.to_string()))?;
    }
    Ok(())
}

/// The saved policy's fields as flags: `route-policy` saves them, other commands override with them.
#[derive(Debug, Args, Clone, Default)]
pub struct PolicyFields {
    /// paper (a level → tier map) or threshold (the cheapest tier expected to pass with probability ≥ τ)
    /// [default: the policy saved in Settings, else paper]
    #[arg(long)]
    pub policy: Option<String>,
    /// The threshold policy's τ [default: saved, else 0.5]
    #[arg(long)]
    pub tau: Option<f64>,
    /// An edited paper map, levels → 1-based tier, e.g. `1-2:1,3-4:2,5:3` [default: the paper's for the rule]
    #[arg(long)]
    pub map: Option<String>,
}

/// Per-command overrides of the saved policy.
#[derive(Debug, Args, Clone, Default)]
pub struct PolicyFlags {
    #[command(flatten)]
    pub fields: PolicyFields,
    /// Route with this classifier instead of the active one
    #[arg(long)]
    pub classifier: Option<String>,
}

impl PolicyFlags {
    pub fn resolve(&self, store: &Store) -> PolicyArgs {
        let s = stored(store);
        PolicyArgs {
            policy: self.fields.policy.clone().unwrap_or(s.policy),
            tau: self.fields.tau.unwrap_or(s.tau),
            map: self.fields.map.clone().or(s.map),
            classifier: self.classifier.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct RouteArgs {
    pub prompt: String,
    #[command(flatten)]
    pub policy: PolicyFlags,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The label run to evaluate on (the classifier must have been trained on exactly these labels: its
    /// held-out fold predictions are what is scored)
    #[arg(long, value_name = "RUN")]
    pub labels: String,
    #[command(flatten)]
    pub policy: PolicyFlags,
    /// Cost of one task per tier, L1..LK [default: the paper's units 1,10,100]
    #[arg(long, value_delimiter = ',')]
    pub costs: Option<Vec<f64>>,
    /// Where report.md, report.json and plot.svg go
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError { code: ErrorCode::InvalidArguments, message: message.into() }
}

pub fn policy_of(args: &PolicyArgs, c: &Classifier, tiers: usize) -> Result<Policy, AppError> {
    match args.policy.as_str() {
        "paper" => {
            let map = match &args.map {
                Some(spec) => route::parse_map(spec, &c.meta.levels, tiers).map_err(invalid)?,
                None => route::default_map(c.meta.rule.name(), &c.meta.levels, tiers),
            };
            Ok(Policy::Paper { map })
        }
        "threshold" => {
            if !(0.0..=1.0).contains(&args.tau) {
                return Err(invalid("--tau must be in [0, 1]"));
            }
            if c.meta.report.tier_success.is_empty() {
                return Err(invalid(format!(
                    "classifier {} has no per-level pass rates (retrain it on a label run to use --policy threshold)",
                    c.meta.id
                )));
            }
            Ok(Policy::Threshold { tau: args.tau })
        }
        other => Err(invalid(format!("unknown policy {other:?} (paper or threshold)"))),
    }
}

/// Whether a tier can answer now without a network probe: the local tier has its model file; a cloud tier has
/// a key in the keychain (or talks to a keyless local server such as Ollama on localhost).
pub fn available(store: &Store, keychain: &dyn SecretStore, tier: &TierRow) -> (bool, String) {
    let Ok(prov) = table::provider(store, &tier.provider) else {
        return (false, format!("provider {} is not configured", tier.provider));
    };
    match prov.kind {
        ProviderKind::Local => {
            let ok = complexitynet_engine::models::get(store, &tier.model)
                .is_ok_and(|m| std::path::Path::new(&m.path).is_file());
            (ok, if ok { "local model installed".into() } else { format!("local model {} not installed", tier.model) })
        }
        _ => {
            // A keyless local server needs no keychain round trip (this runs on every routed request).
            let keyless = prov.base_url.contains("://127.0.0.1") || prov.base_url.contains("://localhost");
            let ok = keyless || keychain.get(&prov.name).ok().flatten().is_some();
            (
                ok,
                if ok {
                    "ready".into()
                } else {
                    format!("no API key for {} (complexitynet keys set {})", prov.name, prov.name)
                },
            )
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub level: u32,
    pub tier: String,
    pub model: String,
    pub probabilities: Vec<f32>,
    pub levels: Vec<u32>,
    pub reason: String,
    pub classifier: String,
    /// Expected pass rate per tier (threshold policy data), when the classifier carries it.
    pub expected: Vec<f64>,
    /// The tier the policy chose before availability was considered.
    pub chosen: String,
    /// The answer comes from a tier below the predicted need (offline or no key above it).
    pub flagged: bool,
}

/// Classifies a prompt and picks the tier that answers it.
pub fn decide(
    store: &Store,
    classifier: &Classifier,
    policy: &Policy,
    prompt: &str,
    keychain: &dyn SecretStore,
    rt: &tokio::runtime::Runtime,
) -> Result<Decision, AppError> {
    let p = rt.block_on(classifier.classify(prompt, &CancellationToken::new())).map_err(cls_err)?;
    decide_from(store, &classifier.meta, policy, p, keychain)
}

/// Picks the tier for a prediction: the policy's choice, then the first tier that can answer.
pub fn decide_from(
    store: &Store,
    meta: &artifact::Meta,
    policy: &Policy,
    p: artifact::Prediction,
    keychain: &dyn SecretStore,
) -> Result<Decision, AppError> {
    let tiers = table::tiers(store).map_err(crate::cli_tiers::tier_err)?;
    if tiers.is_empty() {
        return Err(invalid("no tiers are configured (complexitynet tiers list)"));
    }
    let c = route::choose(policy, &p.levels, &p.probabilities, &meta.report.tier_success, tiers.len());
    let avail: Vec<(bool, String)> = tiers.iter().map(|t| available(store, keychain, t)).collect();
    let ok: Vec<bool> = avail.iter().map(|a| a.0).collect();
    let Some((t, flagged)) = route::fall_through(c.tier, &ok) else {
        let why: Vec<String> = tiers.iter().zip(&avail).map(|(t, a)| format!("{}: {}", t.name, a.1)).collect();
        return Err(AppError {
            code: ErrorCode::ProviderAuth,
            message: format!("no tier can answer: {}", why.join("; ")),
        });
    };
    let mut reason = c.reason.clone();
    if t != c.tier {
        reason.push_str(&format!(
            "; {} cannot answer ({}), so {} does{}",
            tiers[c.tier].name,
            avail[c.tier].1,
            tiers[t].name,
            if flagged { " — below the predicted level" } else { "" }
        ));
    }
    Ok(Decision {
        level: p.level,
        tier: tiers[t].name.clone(),
        model: tiers[t].model.clone(),
        probabilities: p.probabilities,
        levels: p.levels,
        reason,
        classifier: p.classifier,
        expected: c.expected,
        chosen: tiers[c.tier].name.clone(),
        flagged,
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, AppError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| AppError::internal(format!("cannot start the async runtime: {e}")))
}

pub fn load_for_routing(
    store: &Store,
    data_dir: &DataDir,
    args: &PolicyArgs,
) -> Result<(Classifier, Policy), AppError> {
    let c = crate::cli_classify::load(store, data_dir, args.classifier.as_deref(), None)?;
    let n = table::tiers(store).map_err(crate::cli_tiers::tier_err)?.len();
    let policy = policy_of(args, &c, n)?;
    Ok((c, policy))
}

pub fn route_cmd(args: RouteArgs, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    let store = open(data_dir)?;
    let (c, policy) = load_for_routing(&store, data_dir, &args.policy.resolve(&store))?;
    let d = decide(&store, &c, &policy, &args.prompt, &Keychain::open(), &runtime()?)?;
    emit(json, &d, || {
        let probs: Vec<String> = d.levels.iter().zip(&d.probabilities).map(|(l, p)| format!("{l}: {p:.2}")).collect();
        format!("level {} → {} ({})\n  {}\n  probabilities {}\n", d.level, d.tier, d.model, d.reason, probs.join(", "))
    });
    Ok(())
}

/// Scores routing on a label run's held-out predictions (shared by `eval` and the Evaluate tab).
pub fn evaluate(
    store: &Store,
    labels: &str,
    policy_args: &PolicyArgs,
    costs: Option<Vec<f64>>,
) -> Result<eval::EvalReport, AppError> {
    let set = LabeledSet::from_run(store, labels).map_err(cls_err)?;
    let id = match &policy_args.classifier {
        Some(i) => i.clone(),
        None => artifact::active_id(store).map_err(cls_err)?,
    };
    let (meta, _) = artifact::get(store, &id).map_err(cls_err)?;
    if meta.training_hash != set.hash() || meta.report.cv_predictions.is_empty() {
        return Err(AppError {
            code: ErrorCode::LabelsUnusable,
            message: format!(
                "classifier {id} was not cross-validated on the labels of {labels:?}, so it has no held-out \
                 predictions for them; train one on these labels first (complexitynet train --labels {labels} \
                 --method head)"
            ),
        });
    }
    let predictions: HashMap<String, Vec<f32>> =
        meta.report.cv_predictions.iter().map(|h| (h.task_id.clone(), h.probabilities.clone())).collect();
    let k = set.tiers.len();
    let cost_unit = if costs.is_some() { "given costs" } else { "the paper's compute units: 1, 10, 100" };
    let costs = costs.unwrap_or_else(|| (0..k).map(|i| 10f64.powi(i as i32)).collect());
    let policy = match policy_args.policy.as_str() {
        "paper" => Policy::Paper {
            map: match &policy_args.map {
                Some(spec) => route::parse_map(spec, &set.levels, k).map_err(invalid)?,
                None => route::default_map(set.rule.name(), &set.levels, k),
            },
        },
        "threshold" => Policy::Threshold { tau: policy_args.tau },
        other => return Err(invalid(format!("unknown policy {other:?} (paper or threshold)"))),
    };
    let opts = EvalOptions {
        classifier: id,
        policy,
        costs,
        cost_unit: cost_unit.into(),
        folds: meta.report.folds,
        seed: meta.report.seed,
    };
    eval::evaluate_routing(&set, &predictions, &opts).map_err(cls_err)
}

pub fn eval_cmd(args: EvalArgs, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    let store = open(data_dir)?;
    let report = evaluate(&store, &args.labels, &args.policy.resolve(&store), args.costs.clone())?;
    let io = |e: std::io::Error| AppError::internal(format!("writing the report to {}: {e}", args.out.display()));
    std::fs::create_dir_all(&args.out).map_err(io)?;
    std::fs::write(args.out.join("report.json"), serde_json::to_string_pretty(&report).expect("serialises"))
        .map_err(io)?;
    std::fs::write(args.out.join("report.md"), eval::markdown(&report)).map_err(io)?;
    std::fs::write(args.out.join("plot.svg"), eval::plot_svg(&report)).map_err(io)?;
    emit(json, &report, || {
        let mut s = String::new();
        for st in report.strategies.iter().chain(std::iter::once(&report.routed)) {
            s.push_str(&format!(
                "{:<32} pass {:>5.1}%  cost {:>6.1}% of top  saves {:>5.1}%\n",
                st.name,
                100.0 * st.pass_rate,
                100.0 * st.relative_cost,
                100.0 * st.savings_vs_top
            ));
        }
        s.push_str(&format!("report: {}\n", args.out.join("report.md").display()));
        s
    });
    Ok(())
}

/// `complexitynet route-policy`: shows or saves the policy the chat, `ask`, `route` and the server use (with no
/// flag it shows it; `--map ""` restores the paper's map).
pub fn policy_cmd(args: PolicyFields, data_dir: &DataDir, json: bool) -> Result<(), AppError> {
    let store = open(data_dir)?;
    let mut p = stored(&store);
    if args.policy.is_some() || args.tau.is_some() || args.map.is_some() {
        if let Some(x) = args.policy {
            p.policy = x;
        }
        if let Some(t) = args.tau {
            p.tau = t;
        }
        if let Some(m) = args.map {
            p.map = Some(m).filter(|m| !m.trim().is_empty());
        }
        save(&store, &p)?;
    }
    emit(json, &p, || match p.policy.as_str() {
        "threshold" => format!("threshold τ = {:.2}\n", p.tau),
        _ => format!("paper map{}\n", p.map.as_ref().map(|m| format!(" ({m})")).unwrap_or_default()),
    });
    Ok(())
}
