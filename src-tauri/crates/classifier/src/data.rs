//! A labeled set: (prompt, level) pairs from a label run or the user's chat, with the rule that made the levels. Its checks run
//! before any training, so a set that cannot be evaluated fails in milliseconds with the reason, not after an
//! hour of fine-tuning.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use complexitynet_router::label::Rule;

use crate::error::{ClassifierError, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub task_id: String,
    pub prompt: String,
    pub level: u32,
    /// Passes and trials per tier behind the label (empty for sets not made by a label run).
    #[serde(default)]
    pub counts: Vec<u32>,
    #[serde(default)]
    pub trials: Vec<u32>,
    /// The task's asserts (a dataset task's tests; empty for chat prompts, whose tests are in the prompt).
    #[serde(default)]
    pub asserts: Vec<String>,
}

impl Example {
    /// The prompt as the router sees it at routing time: the task's description alone. A prompt that shows
    /// tests takes the verified cascade, never the router, so the router learns and is scored on prompts without
    /// them.
    pub fn routing_prompt(&self) -> String {
        self.prompt.clone()
    }
}

/// One chat answer as the personal labels read it: the prompt it answered, each verified step (the tier and
/// whether its answer passed in the sandbox), and the tier that gave it with the user's word on it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatEvidence {
    pub id: i64,
    pub prompt: String,
    pub steps: Vec<(String, bool)>,
    pub tier: Option<String>,
    pub feedback: Option<String>,
}

#[derive(Debug, Clone)]
pub struct LabeledSet {
    /// The label run (or personal dataset) the labels came from.
    pub source: String,
    pub rule: Rule,
    /// Every level the rule can give, ascending: the classifier's classes.
    pub levels: Vec<u32>,
    pub examples: Vec<Example>,
    /// The label run's tiers, L1..LK.
    pub tiers: Vec<String>,
}

/// The levels a rule produces for `tiers` tiers.
pub fn rule_levels(rule: &Rule, tiers: usize) -> Vec<u32> {
    match rule {
        Rule::Paper5 { .. } => (1..=5).collect(),
        Rule::Single3 => vec![0, 1, 2],
        Rule::Threshold { .. } => (1..=tiers as u32 + 1).collect(),
    }
}

impl LabeledSet {
    /// The personal dataset, from the user's own chat outcomes (read by the core from the chat): every
    /// verified step of a chat answer (each tier the cascade tried, passed or failed in the sandbox), and answers
    /// the user marked (`worked`/`up` or `failed`/`down`, which override the verdict for the tier that answered).
    /// Each prompt is labeled with the cheapest tier known to have answered it well (single3 levels over the
    /// first three tiers: 0 local, 1 mid, 2 top); prompts no tier answered well carry no level and are left out.
    /// A tier that never tried a prompt is unknown for it, not failed.
    ///
    pub fn from_outcomes(tiers: &[String], outcomes: &[ChatEvidence]) -> LabeledSet {
        let k = tiers.len().min(3);
        let mut by_prompt: std::collections::BTreeMap<&str, (i64, Vec<u32>, Vec<u32>)> = Default::default();
        for o in outcomes {
            let e = by_prompt.entry(o.prompt.as_str()).or_insert_with(|| (o.id, vec![0; k], vec![0; k]));
            // The sandbox's verdicts, tier by tier (a later answer to the same prompt adds to them).
            for (tier, passed) in &o.steps {
                let Some(t) = tiers.iter().position(|x| x == tier).filter(|&t| t < k) else { continue };
                e.2[t] += 1;
                e.1[t] += *passed as u32;
            }
            // The user's word on the answer replaces the verdict for the tier that gave it.
            let (Some(tier), Some(feedback)) = (&o.tier, &o.feedback) else { continue };
            let Some(t) = tiers.iter().position(|x| x == tier).filter(|&t| t < k) else { continue };
            e.2[t] = 1;
            e.1[t] = matches!(feedback.as_str(), "worked" | "up") as u32;
        }
        let examples = by_prompt
            .into_iter()
            .filter_map(|(prompt, (id, counts, trials))| {
                let level = counts.iter().position(|&c| c > 0)? as u32;
                Some(Example {
                    task_id: format!("chat-{id}"),
                    prompt: prompt.to_owned(),
                    level,
                    counts,
                    trials,
                    asserts: Vec::new(),
                })
            })
            .collect();
        LabeledSet {
            source: "personal".into(),
            rule: Rule::Single3,
            levels: vec![0, 1, 2],
            examples,
            tiers: tiers.iter().take(k).cloned().collect(),
        }
    }

    /// Class index of each example (its level's position in `levels`).
    pub fn classes(&self) -> Vec<usize> {
        self.examples.iter().map(|e| self.levels.iter().position(|&l| l == e.level).unwrap_or(0)).collect()
    }

    pub fn level_values(&self) -> Vec<u32> {
        self.examples.iter().map(|e| e.level).collect()
    }

    /// SHA-256 over the sorted (task id, level, prompt) triples: two classifiers with the same hash were trained
    /// on the same data.
    pub fn hash(&self) -> String {
        let mut rows: Vec<&Example> = self.examples.iter().collect();
        rows.sort_by(|a, b| a.task_id.cmp(&b.task_id));
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(&self.rule).unwrap_or_default());
        for e in rows {
            h.update(e.task_id.as_bytes());
            h.update([0]);
            h.update(e.level.to_le_bytes());
            h.update(e.prompt.as_bytes());
            h.update([0]);
        }
        hex::encode(h.finalize())
    }

    /// Counts per level, in `levels` order.
    pub fn counts(&self) -> Vec<(u32, usize)> {
        self.levels.iter().map(|&l| (l, self.examples.iter().filter(|e| e.level == l).count())).collect()
    }

    /// Checks that the set can train and be evaluated with `folds` folds (0: the 80/20 split only): not empty,
    /// every level the rule gives present often enough for each fold (and the split) to hold one, and, when the
    /// caller expects a rule, made by that rule.
    pub fn validate(&self, folds: usize, expect_rule: Option<&str>) -> Result<()> {
        if let Some(want) = expect_rule {
            if want != self.rule.name() {
                return Err(ClassifierError::LabelsUnusable(format!(
                    "the labels of {:?} come from the {} rule, but a classifier for the {want} rule was asked for; \
                     relabel with `complexitynet label rule {} --rule {want}` or drop --rule",
                    self.source,
                    self.rule.name(),
                    self.source
                )));
            }
        }
        if self.examples.is_empty() {
            return Err(ClassifierError::LabelsUnusable(format!(
                "{:?} has no labeled tasks yet (finish its label run first: `complexitynet label status {}`)",
                self.source, self.source
            )));
        }
        let need = folds.max(2);
        let thin: Vec<String> =
            self.counts().into_iter().filter(|&(_, n)| n < need).map(|(l, n)| format!("level {l}: {n}")).collect();
        if !thin.is_empty() {
            return Err(ClassifierError::LabelsUnusable(format!(
                "too few examples to train and evaluate on {:?} with {} folds: every level needs at least {need} \
                 ({}); label more tasks, use fewer --folds, or a rule with fewer levels",
                self.source,
                folds,
                thin.join(", ")
            )));
        }
        Ok(())
    }

    /// The measured pass rate of each tier on the tasks of each level: [level][tier]. The router's threshold
    /// policy turns a predicted level distribution into an expected pass rate per tier with it.
    pub fn tier_success(&self) -> Vec<Vec<f64>> {
        let k = self.tiers.len();
        self.levels
            .iter()
            .map(|&l| {
                let (mut pass, mut n) = (vec![0u64; k], vec![0u64; k]);
                for e in self.examples.iter().filter(|e| e.level == l) {
                    for t in 0..k.min(e.counts.len()).min(e.trials.len()) {
                        pass[t] += e.counts[t] as u64;
                        n[t] += e.trials[t] as u64;
                    }
                }
                (0..k).map(|t| if n[t] > 0 { pass[t] as f64 / n[t] as f64 } else { 0.0 }).collect()
            })
            .collect()
    }

    /// Each example's pass fraction per tier (passes / trials; NaN where a tier has no trials: unknown, not failed).
    pub fn pass_fractions(&self) -> Vec<Vec<f32>> {
        self.examples
            .iter()
            .map(|e| {
                e.counts
                    .iter()
                    .zip(&e.trials)
                    .map(|(&c, &t)| if t > 0 { c as f32 / t as f32 } else { f32::NAN })
                    .collect()
            })
            .collect()
    }

    /// The most trials any tier has per task (the `M` of the run).
    pub fn max_trials(&self) -> u32 {
        self.examples.iter().flat_map(|e| e.trials.iter().copied()).max().unwrap_or(1).max(1)
    }

    pub fn subset(&self, idx: &[usize]) -> Vec<&Example> {
        idx.iter().map(|&i| &self.examples[i]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(levels: &[u32]) -> LabeledSet {
        LabeledSet {
            source: "t".into(),
            rule: Rule::Single3,
            levels: vec![0, 1, 2],
            examples: levels
                .iter()
                .enumerate()
                .map(|(i, &l)| Example {
                    task_id: i.to_string(),
                    prompt: format!("p{i}"),
                    level: l,
                    counts: vec![(l == 0) as u32, (l <= 1) as u32, 1],
                    trials: vec![1, 1, 1],
                    asserts: Vec::new(),
                })
                .collect(),
            tiers: vec!["a".into(), "b".into(), "c".into()],
        }
    }

    #[test]
    fn an_unusable_set_is_refused_with_the_reason() {
        let e = set(&[]).validate(5, None).unwrap_err().to_string();
        assert!(e.contains("no labeled tasks"), "{e}");
        let e = set(&[0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2]).validate(5, None).unwrap_err().to_string();
        assert!(e.contains("level 2: 2") && e.contains("at least 5"), "{e}");
        let e = set(&[0, 1, 2, 0, 1, 2]).validate(0, Some("paper5")).unwrap_err().to_string();
        assert!(e.contains("single3 rule") && e.contains("paper5"), "{e}");
        set(&[0, 1, 2, 0, 1, 2]).validate(2, Some("single3")).unwrap();
    }

    #[test]
    fn tier_success_is_the_pass_rate_per_level_and_tier() {
        let s = set(&[0, 1, 1, 2]);
        assert_eq!(s.tier_success(), vec![vec![1.0, 1.0, 1.0], vec![0.0, 1.0, 1.0], vec![0.0, 0.0, 1.0]]);
    }

    #[test]
    fn the_hash_ignores_order_and_sees_levels() {
        let a = set(&[0, 1, 2]);
        let mut b = a.clone();
        b.examples.reverse();
        assert_eq!(a.hash(), b.hash());
        b.examples[0].level = 0;
        assert_ne!(a.hash(), b.hash());
    }
}
