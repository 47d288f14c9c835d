//! Routing: which tier answers a prompt, given the classifier's probability for each level.
//!
//! Two policies. The paper's map sends the predicted level to a fixed tier (levels 1–2 → L1, 3–4 → L2, 5 → L3
//! for its five levels; editable). The threshold policy picks the cheapest tier whose *expected* pass rate —
//! the level probabilities weighted by each tier's measured pass rate on tasks of that level — reaches τ, so
//! the choice can be read off a table, not taken on faith. Availability is separate: a chosen tier that cannot
//! answer (no key, unreachable, rate-limited, offline) falls through to the next capable one.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "policy", rename_all = "snake_case")]
pub enum Policy {
    /// `map[i]` is the tier (0-based) for the classifier's i-th level.
    Paper {
        map: Vec<usize>,
    },
    Threshold {
        tau: f64,
    },
}

/// The paper's map for a rule's levels over `tiers` tiers: five levels → 1–2 to L1, 3–4 to L2, 5 to L3;
/// single3's classes 0/1/2 → L1/L2/L3; threshold levels 1..K → L1..LK and K+1 → LK.
pub fn default_map(rule: &str, levels: &[u32], tiers: usize) -> Vec<usize> {
    let top = tiers.saturating_sub(1);
    levels
        .iter()
        .map(|&l| {
            let t = match rule {
                "paper5" => match l {
                    1 | 2 => 0,
                    3 | 4 => 1,
                    _ => 2,
                },
                "single3" => l as usize,
                _ => (l as usize).saturating_sub(1),
            };
            t.min(top)
        })
        .collect()
}

/// Parses an edited map such as `1-2:1,3-4:2,5:3` (levels → 1-based tier) against the classifier's levels.
pub fn parse_map(spec: &str, levels: &[u32], tiers: usize) -> Result<Vec<usize>, String> {
    let mut map: Vec<Option<usize>> = vec![None; levels.len()];
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lv, tier) = part.split_once(':').ok_or_else(|| format!("{part:?}: expected LEVELS:TIER"))?;
        let tier: usize = tier.trim().parse().map_err(|_| format!("{part:?}: the tier is a number 1..{tiers}"))?;
        if tier == 0 || tier > tiers {
            return Err(format!("{part:?}: tier {tier} is not in 1..{tiers}"));
        }
        let (a, b) = match lv.split_once('-') {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (lv.trim(), lv.trim()),
        };
        let (a, b): (u32, u32) = (
            a.parse().map_err(|_| format!("{part:?}: bad level"))?,
            b.parse().map_err(|_| format!("{part:?}: bad level"))?,
        );
        for l in a..=b {
            let i = levels.iter().position(|&x| x == l).ok_or_else(|| format!("level {l} is not one of {levels:?}"))?;
            map[i] = Some(tier - 1);
        }
    }
    map.into_iter().zip(levels).map(|(t, l)| t.ok_or_else(|| format!("the map does not place level {l}"))).collect()
}

/// The expected pass rate of each tier: Σ over levels of p(level) · (tier's pass rate on that level).
pub fn expected_success(probabilities: &[f32], success: &[Vec<f64>], tiers: usize) -> Vec<f64> {
    (0..tiers)
        .map(|t| probabilities.iter().zip(success).map(|(&p, row)| p as f64 * row.get(t).copied().unwrap_or(0.0)).sum())
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    /// 0-based tier.
    pub tier: usize,
    /// The predicted level (argmax).
    pub level: u32,
    /// The expected pass rate of each tier, when the classifier knows the tiers' pass rates per level.
    pub expected: Vec<f64>,
    pub reason: String,
}

/// Applies a policy. `success` is [level][tier] (may be empty for the paper map).
pub fn choose(policy: &Policy, levels: &[u32], probabilities: &[f32], success: &[Vec<f64>], tiers: usize) -> Choice {
    let best = probabilities.iter().enumerate().fold(0, |b, (i, &p)| if p > probabilities[b] { i } else { b });
    let level = levels.get(best).copied().unwrap_or(0);
    let expected = if success.is_empty() { Vec::new() } else { expected_success(probabilities, success, tiers) };
    let top = tiers.saturating_sub(1);
    match policy {
        Policy::Paper { map } => {
            let tier = map.get(best).copied().unwrap_or(top).min(top);
            Choice { tier, level, expected, reason: format!("level {level} → L{} (paper map)", tier + 1) }
        }
        Policy::Threshold { tau } => match expected.iter().position(|&e| e >= *tau) {
            Some(tier) => Choice {
                tier,
                level,
                reason: format!(
                    "L{} is the cheapest tier with expected pass rate {:.2} ≥ τ {tau:.2}",
                    tier + 1,
                    expected[tier]
                ),
                expected,
            },
            None => Choice {
                tier: top,
                level,
                reason: format!("no tier reaches τ {tau:.2}; the top tier L{} answers", top + 1),
                expected,
            },
        },
    }
}

/// Where a chosen tier cannot answer: the next available tier above it, else the highest available below it
/// (then `flagged`: the answer comes from a tier under the predicted need). None when no tier is available.
pub fn fall_through(chosen: usize, available: &[bool]) -> Option<(usize, bool)> {
    if let Some(t) = (chosen..available.len()).find(|&t| available[t]) {
        return Some((t, false));
    }
    (0..chosen.min(available.len())).rev().find(|&t| available[t]).map(|t| (t, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_papers_map_and_an_edited_one() {
        assert_eq!(default_map("paper5", &[1, 2, 3, 4, 5], 3), vec![0, 0, 1, 1, 2]);
        assert_eq!(default_map("single3", &[0, 1, 2], 3), vec![0, 1, 2]);
        assert_eq!(default_map("threshold", &[1, 2, 3, 4], 3), vec![0, 1, 2, 2]);
        assert_eq!(parse_map("1-3:1,4:2,5:3", &[1, 2, 3, 4, 5], 3).unwrap(), vec![0, 0, 0, 1, 2]);
        assert!(parse_map("1-2:1", &[1, 2, 3], 3).unwrap_err().contains("level 3"));
        assert!(parse_map("1-3:4", &[1, 2, 3], 3).unwrap_err().contains("not in 1..3"));
        let c =
            choose(&Policy::Paper { map: vec![0, 0, 1, 1, 2] }, &[1, 2, 3, 4, 5], &[0.1, 0.1, 0.2, 0.5, 0.1], &[], 3);
        assert_eq!((c.tier, c.level, c.reason.as_str()), (1, 4, "level 4 → L2 (paper map)"));
    }

    #[test]
    fn the_threshold_policy_takes_the_cheapest_tier_expected_to_pass() {
        // [level][tier] pass rates: easy tasks pass everywhere, hard ones only on L3.
        let s = vec![vec![0.9, 0.95, 0.97], vec![0.2, 0.8, 0.9], vec![0.05, 0.3, 0.7]];
        let p = [0.6, 0.3, 0.1];
        let e = expected_success(&p, &s, 3);
        assert!((e[0] - (0.54 + 0.06 + 0.005)).abs() < 1e-6, "{e:?}");
        assert_eq!(choose(&Policy::Threshold { tau: 0.5 }, &[0, 1, 2], &p, &s, 3).tier, 0);
        assert_eq!(choose(&Policy::Threshold { tau: 0.8 }, &[0, 1, 2], &p, &s, 3).tier, 1);
        let c = choose(&Policy::Threshold { tau: 0.99 }, &[0, 1, 2], &p, &s, 3);
        assert_eq!(c.tier, 2);
        assert!(c.reason.contains("no tier reaches"));
    }

    #[test]
    fn an_unavailable_tier_falls_through_up_then_down() {
        assert_eq!(fall_through(0, &[false, true, true]), Some((1, false)));
        assert_eq!(fall_through(1, &[true, false, false]), Some((0, true)), "offline: the local tier, flagged");
        assert_eq!(fall_through(2, &[true, true, true]), Some((2, false)));
        assert_eq!(fall_through(0, &[false, false, false]), None);
    }
}
