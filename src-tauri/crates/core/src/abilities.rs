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
use complexitynet_router::known::{what_decides, Known};
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
    /// In words: "your 23 verified answers", "calibrated on 100 MBPP tasks", "published: MBPP 74.9% (…)".
    pub detail: String,
}

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
    let (ability, source, detail) = if let Known::Outcomes { prior } = known {
        let prior_ability = prior.map(|r| dm.ability_for_rate(r.rate));
        let a = ability::ability_from_outcomes(&seen, prior_ability.unwrap_or(0.0));
        (Some(a), "outcomes", format!("your {} verified answers from {}", seen.len(), t.model))
    } else if let Known::Prior(r) = known {
        (Some(dm.ability_for_rate(r.rate)), r.source.as_str(), r.detail.clone())
    } else {
        let fix = format!("calibrate it, or tiers set {} --published mbpp:RATE", t.name);
        (None, "unknown", format!("not learned for {}: nothing is known of it yet ({fix})", t.model))
    };
    TierAbility {
        tier: t.name.clone(),
        model: t.model.clone(),
        rate: ability.map(|a| dm.rate_for_ability(a)),
        ability,
        source: source.into(),
        detail,
    }
}
