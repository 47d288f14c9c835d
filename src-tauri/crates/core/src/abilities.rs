//! What the router knows of each tier's *model*: its ability, from (in this order) the user's own verified
//! outcomes with that model (every cascade step and every answer marked working or failing is one), a
//! calibration run on it (`label calibrate`), or its published pass rate (`tiers set … --published mbpp:0.66`,
//! or the figure the catalog or a tier preset lists for it). With the shipped difficulty model (prompt difficulty
//! learned once from 49 models' outcomes), an ability gives the probability that the model passes a given prompt.
//!
//! A figure learned for one model is never shown as another's: the classifier's per-tier probabilities carry the
//! model they were learned for, and a tier whose model differs says "not learned for <model>".

use complexitynet_classifier::ability::{self, DifficultyModel};
use complexitynet_engine::route::TierStatus;
use complexitynet_engine::tiers::{self as table, ModelRate, TierRow};
use serde::Serialize;

use crate::{App, Result};

/// How many verified outcomes with a model it takes before they decide its ability (fewer only nudge the prior).
const OWN_OUTCOMES: usize = 10;

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

/// Two model names for the same model: equal once lowercased and stripped of a `replay:`/provider prefix and a
/// GGUF quantization suffix, or one a dated or versioned release of the other (`gpt-3.5-turbo-1106`).
pub fn same_model(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> String {
        let s = s.trim().to_ascii_lowercase();
        let s = s.rsplit(':').next().unwrap_or(&s).to_owned();
        let s = match s.rfind(".q") {
            Some(i) if s[i + 2..].starts_with(|c: char| c.is_ascii_digit()) => s[..i].to_owned(),
            _ => s,
        };
        s.trim_end_matches(".gguf").to_owned()
    }
    let (a, b) = (norm(a), norm(b));
    let versioned = |long: &str, short: &str| {
        long.strip_prefix(short)
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    };
    !a.is_empty() && (a == b || versioned(&a, &b) || versioned(&b, &a))
}

/// The published rate the catalog knows for a model it lists (its MBPP pass@1).
fn catalog_rate(model: &str) -> Option<ModelRate> {
    let catalog = complexitynet_engine::models::catalog();
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
        let (tiers, rates, outcomes) = self
            .with_store(|s| Ok((table::tiers(s)?, table::model_rates(s)?, complexitynet_engine::chat::outcomes(s)?)))?;
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
    outcomes: &[complexitynet_engine::chat::ChatOutcome],
) -> TierAbility {
    let pick = |source: &str| rates.iter().find(|r| r.source == source && same_model(&r.model, &t.model)).cloned();
    let prior = pick("calibrated").or_else(|| pick("published")).or_else(|| catalog_rate(&t.model)).or_else(|| {
        table::preset_rate(&t.model, same_model).map(|(rate, detail)| ModelRate {
            model: t.model.clone(),
            source: "published".into(),
            benchmark: "mbpp".into(),
            rate,
            trials: 0,
            detail,
        })
    });
    let prior_ability = prior.as_ref().map(|r| dm.ability_for_rate(r.rate));
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
    let (ability, source, detail) = if seen.len() >= OWN_OUTCOMES {
        let a = ability::ability_from_outcomes(&seen, prior_ability.unwrap_or(0.0));
        (Some(a), "outcomes", format!("your {} verified answers from {}", seen.len(), t.model))
    } else if let Some(r) = &prior {
        (prior_ability, r.source.as_str(), r.detail.clone())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_match_across_releases_and_quantizations_but_not_across_models() {
        assert!(same_model("gpt-3.5-turbo", "gpt-3.5-turbo-1106"));
        assert!(same_model("replay:gpt-4-1106-preview", "gpt-4-1106-preview"));
        assert!(same_model("qwen2.5-coder-1.5b-instruct.Q4_K_M", "Qwen2.5-Coder-1.5B-Instruct"));
        assert!(!same_model("codellama-7b-instruct.Q4_K_M", "replay:codellama-7b-python"));
        assert!(!same_model("smollm2-135m-instruct", "replay:codellama-7b-python"));
        assert!(!same_model("gpt-4-turbo", "gpt-4-1106-preview"));
        assert!(!same_model("", ""));
    }
}
