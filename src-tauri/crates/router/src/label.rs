//! Labels: success counts of K ordered tiers × M trials mapped to complexity levels, as the paper does.
//!
//! The rules: [`Rule::Paper5`] (the paper's Figure 3, exactly, generalised to any M through fractions of M),
//! [`Rule::Single3`] (the paper's single-trial three classes) and [`Rule::Threshold`] (any K: the least tier that
//! passes at least a fraction of its trials). Every rule drops tasks that all tiers failed (the paper found those
//! to be dataset errors). The rule travels with the labels it made.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// The paper's 5 levels for K = 3. With M = 5 the thresholds are exactly 5, 7 and 2; for other M they scale
    /// as fractions of M (all, 7/5 of M, 2/5 of M), rounded up.
    Paper5 { trials: u32 },
    /// The paper's single-trial rule (M = 1, K = 3): 0 = L1 solved it, 1 = L2 or L3 did (L1 failed),
    /// 2 = only L3 did.
    Single3,
    /// Any K and M: the level is the first tier (1-based) whose passes reach `fraction` of the trials; K + 1
    /// when none does but some passed.
    Threshold { trials: u32, fraction: f64 },
}

/// A label: a level, or dropped because every tier failed every trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Level(u32),
    Dropped,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum RuleError {
    #[error("the rule {rule} needs {want} tiers, got {got}")]
    Tiers { rule: &'static str, want: usize, got: usize },
    #[error("a count of {count} passes is more than the {trials} trials")]
    Count { count: u32, trials: u32 },
    #[error("{0}")]
    Invalid(String),
}

impl Rule {
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Paper5 { .. } => "paper5",
            Rule::Single3 => "single3",
            Rule::Threshold { .. } => "threshold",
        }
    }

    pub fn trials(&self) -> u32 {
        match self {
            Rule::Paper5 { trials } | Rule::Threshold { trials, .. } => *trials,
            Rule::Single3 => 1,
        }
    }

    /// Builds a rule from its CLI name.
    pub fn parse(name: &str, trials: u32, fraction: Option<f64>) -> Result<Rule, RuleError> {
        if trials == 0 {
            return Err(RuleError::Invalid("trials must be at least 1".into()));
        }
        match name {
            "paper5" => Ok(Rule::Paper5 { trials }),
            "single3" if trials == 1 => Ok(Rule::Single3),
            "single3" => Err(RuleError::Invalid("the single3 rule is for one trial (--trials 1)".into())),
            "threshold" => {
                let fraction = fraction.unwrap_or(1.0);
                if !(fraction > 0.0 && fraction <= 1.0) {
                    return Err(RuleError::Invalid("--fraction must be in (0, 1]".into()));
                }
                Ok(Rule::Threshold { trials, fraction })
            }
            other => Err(RuleError::Invalid(format!("unknown rule {other:?} (paper5, single3 or threshold)"))),
        }
    }

    /// The label for the pass counts of the tiers L1..LK (each out of `trials()`).
    pub fn label(&self, counts: &[u32]) -> Result<Label, RuleError> {
        let m = self.trials();
        if let Some(&c) = counts.iter().find(|&&c| c > m) {
            return Err(RuleError::Count { count: c, trials: m });
        }
        if counts.iter().all(|&c| c == 0) {
            return Ok(Label::Dropped);
        }
        match self {
            Rule::Paper5 { .. } => {
                let [x1, x2, x3] = counts else {
                    return Err(RuleError::Tiers { rule: "paper5", want: 3, got: counts.len() });
                };
                // Thresholds for M = 5 are 5, 7 and 2: all trials, 7/5 of them, 2/5 of them (rounded up).
                let all = m;
                let pair = (7 * m).div_ceil(5);
                let some = (2 * m).div_ceil(5);
                Ok(Label::Level(if *x1 == all || x1 + x2 >= pair {
                    1
                } else if *x2 == all {
                    2
                } else if *x3 == all {
                    3
                } else if *x2 >= some || *x3 >= some {
                    4
                } else {
                    5
                }))
            }
            Rule::Single3 => {
                let [x1, x2, x3] = counts else {
                    return Err(RuleError::Tiers { rule: "single3", want: 3, got: counts.len() });
                };
                // L2 solving while L3 fails counts as class 1: the natural reading (the paper is silent).
                Ok(Label::Level(if *x1 > 0 {
                    0
                } else if *x2 > 0 {
                    1
                } else {
                    let _ = x3;
                    2
                }))
            }
            Rule::Threshold { fraction, .. } => {
                let need = (fraction * m as f64).ceil() as u32;
                let level = counts.iter().position(|&c| c >= need.max(1)).map(|i| i as u32 + 1);
                Ok(Label::Level(level.unwrap_or(counts.len() as u32 + 1)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paper(x: [u32; 3]) -> Label {
        Rule::Paper5 { trials: 5 }.label(&x).unwrap()
    }

    #[test]
    fn the_paper5_rule_reproduces_the_papers_table_on_its_edges() {
        use Label::*;
        for (x, want) in [
            ([5, 0, 0], Level(1)), // X1 = 5
            ([5, 5, 5], Level(1)),
            ([3, 4, 0], Level(1)), // X1 + X2 = 7
            ([2, 5, 5], Level(1)), // 7 again: rule 1 wins over X2 = 5
            ([4, 3, 0], Level(1)),
            ([1, 5, 0], Level(2)), // 6 < 7, X2 = 5
            ([0, 5, 5], Level(2)),
            ([2, 4, 5], Level(3)), // 6 < 7, X2 < 5, X3 = 5
            ([0, 0, 5], Level(3)),
            ([0, 2, 0], Level(4)), // X2 >= 2
            ([0, 0, 2], Level(4)), // X3 >= 2
            ([3, 3, 4], Level(4)), // 6 < 7, nothing full, X2 >= 2
            ([1, 1, 1], Level(5)),
            ([4, 0, 1], Level(5)), // L1 alone at 4/5 is not enough
            ([0, 0, 1], Level(5)),
            ([0, 0, 0], Dropped),
        ] {
            assert_eq!(paper(x), want, "{x:?}");
        }
    }

    #[test]
    fn the_single3_rule_is_the_papers_three_classes() {
        let r = Rule::Single3;
        assert_eq!(r.label(&[1, 1, 1]).unwrap(), Label::Level(0));
        assert_eq!(r.label(&[0, 1, 1]).unwrap(), Label::Level(1));
        assert_eq!(r.label(&[0, 1, 0]).unwrap(), Label::Level(1));
        assert_eq!(r.label(&[0, 0, 1]).unwrap(), Label::Level(2));
        assert_eq!(r.label(&[0, 0, 0]).unwrap(), Label::Dropped);
    }

    #[test]
    fn paper5_scales_with_m_and_threshold_handles_any_k() {
        // M = 10: thresholds 10, 14, 4.
        let r = Rule::Paper5 { trials: 10 };
        assert_eq!(r.label(&[6, 8, 0]).unwrap(), Label::Level(1));
        assert_eq!(r.label(&[0, 3, 3]).unwrap(), Label::Level(5));
        assert_eq!(r.label(&[0, 4, 0]).unwrap(), Label::Level(4));
        let t = Rule::Threshold { trials: 4, fraction: 0.75 };
        assert_eq!(t.label(&[2, 3, 0, 4]).unwrap(), Label::Level(2));
        assert_eq!(t.label(&[1, 1, 1, 1]).unwrap(), Label::Level(5));
    }

    #[test]
    fn bad_counts_and_tier_numbers_are_errors() {
        assert!(matches!(Rule::Paper5 { trials: 5 }.label(&[6, 0, 0]), Err(RuleError::Count { .. })));
        assert!(matches!(Rule::Paper5 { trials: 5 }.label(&[1, 0]), Err(RuleError::Tiers { .. })));
        assert!(Rule::parse("single3", 5, None).is_err());
        assert!(Rule::parse("nope", 5, None).is_err());
    }
}
