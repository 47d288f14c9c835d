//! Where a prompt can go now: a tier is available when the local tier has its model file or a cloud tier has a
//! key in the keychain (or talks to a keyless server on this machine); the decision itself is the router's,
//! given the store's tiers and this availability.

use complexitynet_engine::local_models as models;
use complexitynet_engine::store::Store;
use complexitynet_engine::tiers::{self as table, ProviderKind, TierRow};
use complexitynet_providers::keys::SecretStore;
use complexitynet_router::{self as route, Availability, Decision, Policy, Prediction, Skip};

/// The local tier has its model file; a cloud tier has a key in the keychain (or talks to a keyless local
/// server such as Ollama on localhost).
pub fn available(store: &Store, secrets: &dyn SecretStore, tier: &TierRow) -> Availability {
    let Ok(prov) = table::provider(store, &tier.provider) else {
        return Availability { available: false, note: format!("provider {} is not configured", tier.provider) };
    };
    match prov.kind {
        ProviderKind::Local => {
            let ok = models::get(store, &tier.model).is_ok_and(|m| std::path::Path::new(&m.path).is_file());
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

/// The policy's choice for a prediction over the store's tiers, falling through to the first that can answer.
pub fn decide(
    store: &Store,
    secrets: &dyn SecretStore,
    policy: &Policy,
    p: &Prediction,
    skip: &Skip,
) -> crate::Result<Decision> {
    let tiers = table::tiers(store)?;
    let names: Vec<route::TierName> =
        tiers.iter().map(|t| route::TierName { name: t.name.clone(), model: t.model.clone() }).collect();
    Ok(route::decide(&names, &|i| available(store, secrets, &tiers[i]), policy, p, skip)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use complexitynet_providers::keys::SecretStore;
    use complexitynet_router::Budget;

    fn store_with_tiers() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = complexitynet_engine::open(&dir.path().join("db.sqlite3")).unwrap();
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
        Prediction { levels: &[0, 1, 2], probabilities, pass: &[], classifier: "test", budget: Budget::default() }
    }

    #[test]
    fn a_decision_falls_through_to_the_tier_that_has_a_key_and_says_why() {
        let (_dir, store) = store_with_tiers();
        let keys = complexitynet_providers::keys::MemoryStore::default();
        let paper = Policy::Paper { map: vec![0, 1, 2] };
        // Nothing can answer: the decision is still made, marked unavailable, each tier with its fix.
        let d = decide(&store, &keys, &paper, &prediction(&[0.1, 0.8, 0.1]), &Skip::default()).unwrap();
        assert_eq!((d.level, d.chosen.as_str(), d.available), (1, "mid", false));
        assert!(d.tiers[0].note.contains("complexitynet models download"), "{:?}", d.tiers[0]);
        assert!(d.tiers[1].note.contains("complexitynet keys set cloud"), "{:?}", d.tiers[1]);
        let e = d.unavailable_error();
        assert_eq!(e.code(), complexitynet_errors::ErrorCode::NoTierAvailable);
        assert!(e.to_string().contains("local: local model") && e.to_string().contains("top: no API key"), "{e}");
        // With a key, the cloud tiers answer; a tier that already failed on this request is skipped upwards.
        keys.set("cloud", &complexitynet_providers::keys::Secret::new("k")).unwrap();
        let d = decide(&store, &keys, &paper, &prediction(&[0.1, 0.8, 0.1]), &Skip::default()).unwrap();
        assert_eq!((d.tier.as_str(), d.flagged, d.available), ("mid", false, true));
        let d = decide(&store, &keys, &paper, &prediction(&[0.1, 0.8, 0.1]), &Skip::failed(&["mid".into()])).unwrap();
        assert_eq!((d.tier.as_str(), d.chosen.as_str(), d.flagged), ("top", "mid", false));
        assert!(d.reason.contains("mid cannot answer (failed on this request), so top does"), "{}", d.reason);
        // Level 2 chosen, top failed, mid below it answers, flagged.
        let d = decide(&store, &keys, &paper, &prediction(&[0.1, 0.1, 0.8]), &Skip::failed(&["top".into()])).unwrap();
        assert_eq!((d.tier.as_str(), d.flagged), ("mid", true));
        // A cap ("never the top tier") is a choice among the tiers below it, not a flagged fall; the tiers above
        // say why they were not used.
        let capped = Skip { cap: Some("mid".into()), ..Skip::default() };
        let d = decide(&store, &keys, &paper, &prediction(&[0.1, 0.1, 0.8]), &capped).unwrap();
        assert_eq!((d.tier.as_str(), d.chosen.as_str(), d.flagged), ("mid", "mid", false));
        assert!(d.tiers[2].note.contains("above mid, the highest tier allowed"), "{:?}", d.tiers[2]);
        let dial = Policy::Dial { lambda: 0.01, costs: vec![0.01, 0.1, 1.0] };
        let p = Prediction {
            levels: &[0, 1, 2],
            probabilities: &[0.3, 0.3, 0.4],
            pass: &[0.2, 0.5, 0.9],
            classifier: "t",
            budget: Budget::default(),
        };
        assert_eq!(decide(&store, &keys, &dial, &p, &Skip::default()).unwrap().tier, "top");
        assert_eq!(decide(&store, &keys, &dial, &p, &capped).unwrap().tier, "mid");
        assert_eq!(decide(&store, &keys, &dial, &p, &capped).unwrap().expected, vec![0.2, 0.5, 0.9]);
        let bad = Skip { cap: Some("huge".into()), ..Skip::default() };
        assert!(decide(&store, &keys, &dial, &p, &bad).unwrap_err().to_string().contains("no tier \"huge\""));
    }
}
