//! Routing: which tier answers a prompt, given the classifier's probability for each level.
//!
//! Two policies. The paper's map sends the predicted level to a fixed tier (levels 1–2 → L1, 3–4 → L2, 5 → L3
//! for its five levels; editable). The threshold policy picks the cheapest tier whose *expected* pass rate —
//! the level probabilities weighted by each tier's measured pass rate on tasks of that level — reaches τ, so
//! the choice can be read off a table, not taken on faith. Availability is separate: a chosen tier that cannot
//! answer (no key, unreachable, rate-limited, offline) falls through to the next capable one.

use serde::{Deserialize, Serialize};

use crate::keys::SecretStore;
use crate::store::{Store, StoreError};
use crate::tiers::table::{self, ProviderKind, TierError, TierRow};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
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

/// The routing policy as the user saves it in Settings (`route-policy`), used by the chat, `ask`, `route` and the
/// server. Stored in the settings table; read and written only through [`load_settings`] / [`save_settings`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct RouteSettings {
    pub policy: PolicyKind,
    /// The threshold policy's τ.
    pub tau: f64,
    /// An edited paper map (`1-2:1,3-4:2,5:3`); None: the paper's map for the classifier's rule.
    pub map: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    Paper,
    Threshold,
}

impl std::str::FromStr for PolicyKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "paper" => Ok(PolicyKind::Paper),
            "threshold" => Ok(PolicyKind::Threshold),
            other => Err(format!("unknown policy {other:?} (paper or threshold)")),
        }
    }
}

impl Default for RouteSettings {
    fn default() -> Self {
        RouteSettings { policy: PolicyKind::Paper, tau: 0.5, map: None }
    }
}

impl RouteSettings {
    pub fn validate(&self) -> Result<(), RouteError> {
        if !(0.0..=1.0).contains(&self.tau) || !self.tau.is_finite() {
            return Err(RouteError::Invalid("τ must be in [0, 1]".into()));
        }
        Ok(())
    }

    /// The policy for a classifier's levels and rule over `tiers` tiers. `success` is the classifier's
    /// [level][tier] pass rates (the threshold policy needs them).
    pub fn policy(&self, rule: &str, levels: &[u32], success: &[Vec<f64>], tiers: usize) -> Result<Policy, RouteError> {
        self.validate()?;
        match self.policy {
            PolicyKind::Paper => {
                let map = match &self.map {
                    Some(spec) => parse_map(spec, levels, tiers).map_err(RouteError::Invalid)?,
                    None => default_map(rule, levels, tiers),
                };
                Ok(Policy::Paper { map })
            }
            PolicyKind::Threshold => {
                if success.is_empty() {
                    return Err(RouteError::Invalid(
                        "this classifier has no per-level pass rates (retrain it on a label run to use the threshold \
                         policy)"
                            .into(),
                    ));
                }
                Ok(Policy::Threshold { tau: self.tau })
            }
        }
    }
}

/// The saved routing policy (the paper's map until the user changes it). Unreadable values fall back to the
/// defaults: a bad setting must not stop the chat.
pub fn load_settings(store: &Store) -> Result<RouteSettings, StoreError> {
    let d = RouteSettings::default();
    Ok(RouteSettings {
        policy: store.setting("route_policy")?.and_then(|v| v.parse().ok()).unwrap_or(d.policy),
        tau: store.setting("route_tau")?.and_then(|v| v.parse().ok()).unwrap_or(d.tau),
        map: store.setting("route_map")?.filter(|m| !m.trim().is_empty()),
    })
}

pub fn save_settings(store: &Store, s: &RouteSettings) -> Result<(), RouteError> {
    s.validate()?;
    let policy = match s.policy {
        PolicyKind::Paper => "paper",
        PolicyKind::Threshold => "threshold",
    };
    store.set_setting("route_policy", Some(policy))?;
    store.set_setting("route_tau", Some(&s.tau.to_string()))?;
    store.set_setting("route_map", s.map.as_deref().filter(|m| !m.trim().is_empty()))?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("{0}")]
    Invalid(String),
    #[error("no tiers are configured (complexitynet tiers list)")]
    NoTiers,
    /// Every tier is unavailable (no model, no key); the message names each one's reason and fix.
    #[error("no tier can answer: {0}")]
    NoTierAvailable(String),
    #[error(transparent)]
    Tier(#[from] TierError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl RouteError {
    pub fn code(&self) -> crate::ErrorCode {
        match self {
            RouteError::Invalid(_) | RouteError::NoTiers => crate::ErrorCode::InvalidArguments,
            RouteError::NoTierAvailable(_) => crate::ErrorCode::NoTierAvailable,
            RouteError::Tier(e) => e.code(),
            RouteError::Store(e) => e.code(),
        }
    }
}

/// Whether a tier can answer now, without a network probe, and why not (with the fix).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Availability {
    pub available: bool,
    /// `local model installed`, `ready`, or what is missing and how to fix it.
    pub note: String,
}

/// The local tier has its model file; a cloud tier has a key in the keychain (or talks to a keyless local
/// server such as Ollama on localhost).
pub fn available(store: &Store, secrets: &dyn SecretStore, tier: &TierRow) -> Availability {
    let Ok(prov) = table::provider(store, &tier.provider) else {
        return Availability { available: false, note: format!("provider {} is not configured", tier.provider) };
    };
    match prov.kind {
        ProviderKind::Local => {
            let ok = crate::models::get(store, &tier.model).is_ok_and(|m| std::path::Path::new(&m.path).is_file());
            Availability {
                available: ok,
                note: if ok {
                    "local model installed".into()
                } else {
                    format!(
                        "local model {} not installed (complexitynet models download {}, or models add FILE.gguf \
                         and tiers set {} --model NAME)",
                        tier.model, tier.model, tier.name
                    )
                },
            }
        }
        _ => {
            // A keyless local server needs no keychain round trip (this runs on every routed request).
            let keyless = prov.base_url.contains("://127.0.0.1") || prov.base_url.contains("://localhost");
            let ok = keyless || secrets.get(&prov.name).ok().flatten().is_some();
            Availability {
                available: ok,
                note: if ok {
                    "ready".into()
                } else {
                    format!("no API key for {} (complexitynet keys set {})", prov.name, prov.name)
                },
            }
        }
    }
}

/// One tier as a decision shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct TierStatus {
    pub tier: String,
    pub model: String,
    /// The expected pass rate, when the classifier carries per-level pass rates.
    pub expected: Option<f64>,
    pub available: bool,
    pub note: String,
}

/// Where a prompt goes and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct Decision {
    pub level: u32,
    /// The tier that answers: the policy's choice, or the next one that can answer.
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
    /// False when no tier can answer now (`route` still shows the decision; `ask` fails).
    pub available: bool,
    /// Every tier with its expected pass rate and whether it can answer (and the fix when it cannot).
    pub tiers: Vec<TierStatus>,
}

/// What the classifier said about a prompt.
#[derive(Debug, Clone)]
pub struct Prediction<'a> {
    pub levels: &'a [u32],
    pub probabilities: &'a [f32],
    /// [level][tier] pass rates (empty when the classifier has none).
    pub success: &'a [Vec<f64>],
    pub classifier: &'a str,
}

/// Picks the tier for a prediction: the policy's choice, then the first tier that can answer. `unavailable`
/// marks tiers that failed this request already (the fall-through); they are skipped as if they had no key.
pub fn decide(
    store: &Store,
    secrets: &dyn SecretStore,
    policy: &Policy,
    p: &Prediction,
    unavailable: &[String],
) -> Result<Decision, RouteError> {
    let tiers = table::tiers(store)?;
    if tiers.is_empty() {
        return Err(RouteError::NoTiers);
    }
    let c = choose(policy, p.levels, p.probabilities, p.success, tiers.len());
    let avail: Vec<Availability> = tiers
        .iter()
        .map(|t| {
            if unavailable.contains(&t.name) {
                Availability { available: false, note: "failed on this request".into() }
            } else {
                available(store, secrets, t)
            }
        })
        .collect();
    let ok: Vec<bool> = avail.iter().map(|a| a.available).collect();
    let statuses: Vec<TierStatus> = tiers
        .iter()
        .zip(&avail)
        .enumerate()
        .map(|(i, (t, a))| TierStatus {
            tier: t.name.clone(),
            model: t.model.clone(),
            expected: c.expected.get(i).copied(),
            available: a.available,
            note: a.note.clone(),
        })
        .collect();
    let (t, flagged, usable) = match fall_through(c.tier, &ok) {
        Some((t, flagged)) => (t, flagged, true),
        None => (c.tier, false, false),
    };
    let mut reason = c.reason.clone();
    if !usable {
        reason.push_str(&format!("; {} cannot answer: {}", tiers[c.tier].name, avail[c.tier].note));
    } else if t != c.tier {
        reason.push_str(&format!(
            "; {} cannot answer ({}), so {} does{}",
            tiers[c.tier].name,
            avail[c.tier].note,
            tiers[t].name,
            if flagged { " — below the predicted level" } else { "" }
        ));
    }
    Ok(Decision {
        level: c.level,
        tier: tiers[t].name.clone(),
        model: tiers[t].model.clone(),
        probabilities: p.probabilities.to_vec(),
        levels: p.levels.to_vec(),
        reason,
        classifier: p.classifier.to_owned(),
        expected: c.expected,
        chosen: tiers[c.tier].name.clone(),
        flagged,
        available: usable,
        tiers: statuses,
    })
}

impl Decision {
    /// The error `ask` answers when no tier can answer: each tier's reason and fix.
    pub fn unavailable_error(&self) -> RouteError {
        let why: Vec<String> = self.tiers.iter().map(|t| format!("{}: {}", t.tier, t.note)).collect();
        RouteError::NoTierAvailable(why.join("; "))
    }
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

    fn store_with_tiers() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite3")).unwrap();
        // The mid and top tiers call a cloud provider that needs a key; the local tier's model is not installed.
        table::set_provider(
            &store,
            "cloud",
            Some(ProviderKind::Openai),
            Some("https://api.example.com/v1"),
            None,
            None,
        )
        .unwrap();
        for t in ["mid", "top"] {
            table::set_tier(&store, t, table::TierUpdate { provider: Some("cloud"), ..Default::default() }).unwrap();
        }
        (dir, store)
    }

    fn prediction<'a>(probabilities: &'a [f32]) -> Prediction<'a> {
        Prediction { levels: &[0, 1, 2], probabilities, success: &[], classifier: "test" }
    }

    #[test]
    fn a_decision_falls_through_to_the_tier_that_has_a_key_and_says_why() {
        let (_dir, store) = store_with_tiers();
        let keys = crate::keys::MemoryStore::default();
        let paper = Policy::Paper { map: vec![0, 1, 2] };
        // Nothing can answer: the decision is still made, marked unavailable, each tier with its fix.
        let d = decide(&store, &keys, &paper, &prediction(&[0.1, 0.8, 0.1]), &[]).unwrap();
        assert_eq!((d.level, d.chosen.as_str(), d.available), (1, "mid", false));
        assert!(d.tiers[0].note.contains("complexitynet models download"), "{:?}", d.tiers[0]);
        assert!(d.tiers[1].note.contains("complexitynet keys set cloud"), "{:?}", d.tiers[1]);
        let e = d.unavailable_error();
        assert_eq!(e.code(), crate::ErrorCode::NoTierAvailable);
        assert!(e.to_string().contains("local: local model") && e.to_string().contains("top: no API key"), "{e}");
        // With a key, the cloud tiers answer; a tier that already failed on this request is skipped upwards.
        keys.set("cloud", &crate::keys::Secret::new("k")).unwrap();
        let d = decide(&store, &keys, &paper, &prediction(&[0.1, 0.8, 0.1]), &[]).unwrap();
        assert_eq!((d.tier.as_str(), d.flagged, d.available), ("mid", false, true));
        let d = decide(&store, &keys, &paper, &prediction(&[0.1, 0.8, 0.1]), &["mid".into()]).unwrap();
        assert_eq!((d.tier.as_str(), d.chosen.as_str(), d.flagged), ("top", "mid", false));
        assert!(d.reason.contains("mid cannot answer (failed on this request), so top does"), "{}", d.reason);
        // Level 2 chosen, top failed, mid below it answers, flagged.
        let d = decide(&store, &keys, &paper, &prediction(&[0.1, 0.1, 0.8]), &["top".into()]).unwrap();
        assert_eq!((d.tier.as_str(), d.flagged), ("mid", true));
    }

    #[test]
    fn the_saved_policy_round_trips_and_is_validated() {
        let (_dir, store) = store_with_tiers();
        assert_eq!(load_settings(&store).unwrap(), RouteSettings::default());
        let s = RouteSettings { policy: PolicyKind::Threshold, tau: 0.7, map: None };
        save_settings(&store, &s).unwrap();
        assert_eq!(load_settings(&store).unwrap(), s);
        assert!(save_settings(&store, &RouteSettings { tau: 1.5, ..s.clone() }).is_err());
        let e = s.policy("single3", &[0, 1, 2], &[], 3).unwrap_err();
        assert!(e.to_string().contains("per-level pass rates"), "{e}");
        let paper = RouteSettings { map: Some("0-1:1,2:3".into()), ..Default::default() };
        assert_eq!(paper.policy("single3", &[0, 1, 2], &[], 3).unwrap(), Policy::Paper { map: vec![0, 0, 2] });
    }

    #[test]
    fn an_unavailable_tier_falls_through_up_then_down() {
        assert_eq!(fall_through(0, &[false, true, true]), Some((1, false)));
        assert_eq!(fall_through(1, &[true, false, false]), Some((0, true)), "offline: the local tier, flagged");
        assert_eq!(fall_through(2, &[true, true, true]), Some((2, false)));
        assert_eq!(fall_through(0, &[false, false, false]), None);
    }
}
