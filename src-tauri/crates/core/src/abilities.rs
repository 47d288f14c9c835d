//! What the router knows of each tier's *model*: its ability, from (in this order) the user's own verified
//! outcomes with that model (every cascade step and every answer marked working or failing is one), a
//! calibration run on it (`label calibrate`), or its published pass rate (`tiers set … --published mbpp:0.66`,
//! or the figure the catalog or a tier preset lists for it). With the shipped difficulty model (prompt difficulty
//! learned once from 49 models' outcomes), an ability gives the probability that the model passes a given prompt.
//!
//! A figure learned for one model is never shown as another's: the classifier's per-tier probabilities carry the
//! model they were learned for, and a tier whose model differs says "not learned for <model>".

use complexitynet_classifier::ability::{self, DifficultyModel};
use complexitynet_engine::tiers::{self as table, ModelRate, TierRow};
pub use complexitynet_router::known::same_model;
use complexitynet_router::known::{what_decides, Known, OWN_OUTCOMES};
use complexitynet_router::TierStatus;
use serde::Serialize;

use crate::{App, Result};

/// What is known of a tier's model.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct TierAbility {
    pub tier: String,
    pub model: String,
    /// Ability (logits on the difficulty scale); None: nothing is known of this model.
    pub ability: Option<f64>,
    /// The pass rate that ability means on the reference benchmark (MBPP).
    pub rate: Option<f64>,
    /// `outcomes`, `calibrated`, `published`, or `unknown`.
    pub source: String,
    /// In words: "known from 37 of your prompts", "calibrated on 100 MBPP tasks", "published: MBPP 74.9% (…)".
    pub detail: String,
    /// How many of the user's verified outcomes with this model went into it.
    pub prompts: u32,
    /// The uncertainty of `rate` (one standard deviation) once the user's outcomes update it; None for a figure
    /// alone. The budget's mix leans to the cheaper of two tiers this cannot tell apart.
    pub rate_sd: Option<f64>,
}

/// How far a published or calibrated figure may sit from a model's ability on the user's own prompts (logits,
/// one standard deviation; 1 logit is about 20 points near 60%): a benchmark is not the user's work, so a few
/// dozen verified outcomes outweigh it.
const FIGURE_SD: f64 = 1.0;
/// With no figure at all, the prior on an ability (as in the difficulty fit).
const NO_FIGURE_SD: f64 = 2.5;

/// The published rate the catalog knows for a model it lists (its MBPP pass@1).
fn catalog_rate(model: &str) -> Option<ModelRate> {
    let catalog = complexitynet_engine::local_models::catalog();
    let (name, entry) = catalog.iter().find(|(name, _)| same_model(name, model))?;
    let score = entry.scores.iter().find(|s| s.benchmark.eq_ignore_ascii_case("mbpp"))?;
    Some(ModelRate {
        model: name.clone(),
        source: "published".into(),
        benchmark: "mbpp".into(),
        rate: score.pass_at_1,
        trials: 0,
        detail: format!("published: MBPP {:.1}% ({})", 100.0 * score.pass_at_1, score.source),
    })
}

impl App {
    /// What is known of each tier's model, in tier order.
    pub fn tier_abilities(&self) -> Result<Vec<TierAbility>> {
        let dm = ability::builtin();
        let (tiers, rates, outcomes) = self.with_store(|s| {
            Ok((table::tiers(s)?, table::model_rates(s)?, complexitynet_engine::conversations::outcomes(s)?))
        })?;
        Ok(tiers.iter().map(|t| ability_of(dm, t, &rates, &outcomes)).collect())
    }

    /// Records a published pass rate for a tier's model (`tiers set TIER --published mbpp:0.66`).
    pub fn set_published(&self, tier: &str, spec: &str) -> Result<ModelRate> {
        let (benchmark, rate) = table::parse_published(spec)?;
        self.with_store(|s| {
            let t = table::tiers(s)?
                .into_iter()
                .find(|t| t.name == tier)
                .ok_or_else(|| crate::AppError::invalid(format!("no tier {tier:?} (complexitynet tiers list)")))?;
            let r = ModelRate {
                model: t.model.clone(),
                source: "published".into(),
                benchmark,
                rate,
                trials: 0,
                detail: format!("published: MBPP {:.1}% (entered for {})", 100.0 * rate, t.model),
            };
            table::set_model_rate(s, &r)?;
            Ok(r)
        })
    }

    /// Fills each tier of a decision with what is known of its model: the classifier's figure when it was learned
    /// for this very model, else the probability from the model's ability and the prompt's difficulty, else
    /// nothing ("not learned for <model>").
    pub(crate) fn explain_tiers(
        &self,
        prompt: &str,
        statuses: &mut [TierStatus],
        learned_for: &[String],
        classifier_pass: &[f64],
    ) -> Result<Vec<TierAbility>> {
        let abilities = self.tier_abilities()?;
        let dm = ability::builtin();
        let difficulty = dm.difficulty(prompt);
        for (i, st) in statuses.iter_mut().enumerate() {
            let learned = learned_for.get(i).cloned();
            let own = learned.as_deref().is_some_and(|l| same_model(l, &st.model));
            st.learned_for = learned.clone();
            let ab = abilities.get(i);
            if own {
                st.expected = classifier_pass.get(i).copied().filter(|p| p.is_finite());
                st.calibrated = true;
                st.source = format!("learned for {} by classifier", st.model);
            } else if let Some(a) = ab.and_then(|a| a.ability) {
                st.expected = Some(dm.pass_probability(a, difficulty));
                st.calibrated = true;
                st.source = ab.map(|a| a.detail.clone()).unwrap_or_default();
            } else {
                st.expected = None;
                st.calibrated = false;
                st.source = match &learned {
                    Some(l) => format!(
                        "not learned for {} (the classifier's figure is {l}'s): calibrate it, or set its published \
                         pass rate (tiers set {} --published mbpp:RATE)",
                        st.model, st.tier
                    ),
                    None => format!(
                        "not learned for {}: nothing is known of it yet (calibrate it, or tiers set {} --published \
                         mbpp:RATE)",
                        st.model, st.tier
                    ),
                };
            }
        }
        Ok(abilities)
    }
}

/// A tier's model's ability from the best source there is.
fn ability_of(
    dm: &DifficultyModel,
    t: &TierRow,
    rates: &[ModelRate],
    outcomes: &[complexitynet_engine::conversations::ChatOutcome],
) -> TierAbility {
    let pick = |source: &str| rates.iter().find(|r| r.source == source && same_model(&r.model, &t.model)).cloned();
    let (calibrated, published, catalog) = (pick("calibrated"), pick("published"), catalog_rate(&t.model));
    let preset = table::preset_rate(&t.model, same_model).map(|(rate, detail)| ModelRate {
        model: t.model.clone(),
        source: "published".into(),
        benchmark: "mbpp".into(),
        rate,
        trials: 0,
        detail,
    });
    // The user's own verified outcomes with this model: each cascade step, and each marked answer.
    let mut seen: Vec<(f64, bool)> = Vec::new();
    for o in outcomes {
        let b = dm.difficulty(&o.prompt);
        for s in o.steps.iter().filter(|s| same_model(&s.model, &t.model)) {
            seen.push((b, s.passed));
        }
        if let (Some(m), Some(f)) = (&o.model, &o.feedback) {
            if same_model(m, &t.model) && matches!(f.as_str(), "worked" | "failed" | "up" | "down") {
                seen.push((b, matches!(f.as_str(), "worked" | "up")));
            }
        }
    }
    let known = what_decides(seen.len(), &[calibrated.as_ref(), published.as_ref(), catalog.as_ref(), preset.as_ref()]);
    // Every verified outcome updates what is known (the figure as the prior, the user's outcomes as evidence);
    // with no figure, the outcomes decide alone once there are enough of them.
    let update = |prior: Option<&ModelRate>| {
        let (centre, sd) = match prior {
            Some(r) => (dm.ability_for_rate(r.rate), FIGURE_SD),
            None => (0.0, NO_FIGURE_SD),
        };
        let (a, a_sd) = dm.ability_posterior(&seen, centre, sd);
        let rate_sd = (dm.rate_for_ability(a + a_sd) - dm.rate_for_ability(a - a_sd)) / 2.0;
        (a, rate_sd)
    };
    let n = seen.len();
    let (ability, rate_sd, source, detail) = match known {
        Known::Outcomes { prior } => {
            let (a, sd) = update(prior);
            let from = prior.map(|r| format!(" (prior: {})", r.detail)).unwrap_or_default();
            (Some(a), Some(sd), "outcomes", format!("known from {n} of your prompts with {}{from}", t.model))
        }
        Known::Prior(r) if n > 0 => {
            let (a, sd) = update(Some(r));
            let detail = format!("{}, updated by {n} of your prompts", r.detail);
            (Some(a), Some(sd), r.source.as_str(), detail)
        }
        Known::Prior(r) => (Some(dm.ability_for_rate(r.rate)), None, r.source.as_str(), r.detail.clone()),
        Known::Unknown => {
            let fix = format!("calibrate it, or tiers set {} --published mbpp:RATE", t.name);
            let seen =
                if n > 0 { format!(" ({n} of your prompts so far, {} needed)", OWN_OUTCOMES) } else { String::new() };
            (None, None, "unknown", format!("not learned for {}: nothing is known of it yet{seen} ({fix})", t.model))
        }
    };
    TierAbility {
        tier: t.name.clone(),
        model: t.model.clone(),
        rate: ability.map(|a| dm.rate_for_ability(a)),
        ability,
        source: source.into(),
        detail,
        prompts: u32::try_from(n).unwrap_or(u32::MAX),
        rate_sd,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use complexitynet_engine::conversations::{self as chat, ChatMessage};
    use complexitynet_engine::paths::DataDir;
    use complexitynet_providers::keys::MemoryStore;
    use complexitynet_router::{Hull, Policy, RouteSettings};
    use std::sync::Arc;

    /// A small seeded generator (no dependency): uniform in [0, 1).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
        fn normal(&mut self) -> f64 {
            let (u, v) = (self.next().max(1e-12), self.next());
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        }
    }

    fn sigmoid(x: f64) -> f64 {
        1.0 / (1.0 + (-x).exp())
    }

    /// The share of always-top's cost → the true pass rate of the mix the app's budget buys, and the true hull's.
    fn mix_against_truth(app: &App, truth: &[f64], share: f64) -> (f64, f64) {
        let settings = RouteSettings { cost_share: share, ..app.route_settings().unwrap() };
        let tiers = app.with_store(|s| Ok(table::tiers(s)?)).unwrap();
        let mode = app.with_store(|s| Ok(table::cost_mode(s)?)).unwrap();
        let costs = crate::routing::relative_costs(&tiers, mode);
        let Policy::Hull { lower, upper, .. } = app.budget_policy(&settings, costs.clone()).unwrap() else {
            panic!("the default dial is the hull mix")
        };
        let f =
            if lower == upper { 0.0 } else { ((share - costs[lower]) / (costs[upper] - costs[lower])).clamp(0.0, 1.0) };
        let got = (1.0 - f) * truth[lower] + f * truth[upper];
        let points: Vec<[f64; 2]> = costs.iter().zip(truth).map(|(&c, &r)| [c, r]).collect();
        (got, Hull::new(&points).at(share))
    }

    #[test]
    fn fifty_verified_outcomes_per_tier_correct_published_figures_fifteen_points_off() {
        let mbpp = std::env::var_os("COMPLEXITYNET_SHARED_DATA")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/data"))
            .join("mbpp.jsonl");
        let prompts: Vec<String> = std::fs::read_to_string(&mbpp)
            .unwrap_or_else(|e| panic!("{}: {e} (set COMPLEXITYNET_SHARED_DATA)", mbpp.display()))
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["text"].as_str().unwrap().to_owned())
            .collect();
        // Ten independent draws of the evidence: none may leave the mix more than a point under the true hull.
        for seed in 1..=10u64 {
            let dir = tempfile::tempdir().unwrap();
            let app = App::open(DataDir::at(dir.path()), Arc::new(MemoryStore::default()));
            let tiers = app.tier_abilities().unwrap();
            assert_eq!(tiers.len(), 3);
            // The truth on the user's work, and published figures 15 points off: local looks better than it is and
            // mid worse, so by the figures mid is dominated by local and leaves the hull.
            let truth = [0.35, 0.60, 0.80];
            let published = [0.50, 0.45, 0.95];
            for (t, p) in tiers.iter().zip(published) {
                app.set_published(&t.tier, &format!("mbpp:{p}")).unwrap();
            }
            let shares = [0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75];
            let worst = |app: &App| {
                shares
                    .iter()
                    .map(|&s| mix_against_truth(app, &truth, s))
                    .map(|(got, hull)| hull - got)
                    .fold(0.0, f64::max)
            };
            let before = worst(&app);
            assert!(before > 0.05, "the wrong figures cost more than 5 points somewhere: {before}");

            // 50 verified outcomes per tier on MBPP prompts, drawn from the true abilities (each prompt's true
            // difficulty is its predicted one plus the prediction's error).
            let dm = ability::builtin();
            let mut rng = Lcg(seed);
            let c = app.with_store(|s| Ok(chat::create(s, "evidence")?)).unwrap();
            for (k, t) in tiers.iter().enumerate() {
                let theta = dm.ability_for_rate(truth[k]);
                for i in 0..50 {
                    let prompt = &prompts[(k * 97 + i * 7) % prompts.len()];
                    let b = dm.difficulty(prompt) + f64::from(dm.residual_sd) * rng.normal();
                    let passed = rng.next() < sigmoid(theta - b);
                    app.with_store(|s| {
                        let user = ChatMessage {
                            conversation_id: c,
                            role: "user".into(),
                            content: prompt.clone(),
                            ..Default::default()
                        };
                        chat::add(s, &user)?;
                        let answer = ChatMessage {
                            conversation_id: c,
                            role: "assistant".into(),
                            content: "…".into(),
                            tier: Some(t.tier.clone()),
                            model: Some(t.model.clone()),
                            ..Default::default()
                        };
                        let a = chat::add(s, &answer)?;
                        chat::set_feedback(s, a.id, Some(if passed { "worked" } else { "failed" }))?;
                        Ok(())
                    })
                    .unwrap();
                }
            }
            let known = app.tier_abilities().unwrap();
            for (a, truth) in known.iter().zip(truth) {
                assert_eq!(a.prompts, 50, "{a:?}");
                assert!(a.detail.contains("known from 50 of your prompts"), "{}", a.detail);
                let rate = a.rate.unwrap();
                assert!((rate - truth).abs() < 0.15, "{}: {rate:.3} vs the truth {truth}", a.tier);
                assert!(a.rate_sd.is_some_and(|sd| sd > 0.0 && sd < 0.1), "{a:?}");
            }
            eprintln!(
                "seed {seed}: figures only {:.1} points under the true hull at worst; after 50 outcomes per tier {:.1}, rates {:?}",
                100.0 * before,
                100.0 * worst(&app),
                known.iter().map(|a| a.rate.unwrap()).collect::<Vec<_>>()
            );
            for &s in &shares {
                let (got, hull) = mix_against_truth(&app, &truth, s);
                assert!(hull - got <= 0.01, "seed {seed}, at {s}: the mix passes {got:.3}, the true hull {hull:.3}");
            }
        }
    }
}
