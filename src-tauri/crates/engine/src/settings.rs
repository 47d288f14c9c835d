//! Typed settings kept in the store's settings table: the routing policy the user saved (Settings,
//! `route-policy`), read back with the defaults for anything unset or unreadable.

use complexitynet_router::RouteSettings;

use crate::store::{Store, StoreError};

/// The saved routing policy (the cost dial at a tenth of always-top's cost until the user changes it). Unreadable values fall back to the
/// defaults: a bad setting must not stop the chat.
pub fn route_settings(store: &Store) -> Result<RouteSettings, StoreError> {
    let d = RouteSettings::default();
    Ok(RouteSettings {
        policy: store.setting("route_policy")?.and_then(|v| v.parse().ok()).unwrap_or(d.policy),
        tau: store.setting("route_tau")?.and_then(|v| v.parse().ok()).unwrap_or(d.tau),
        map: store.setting("route_map")?.filter(|m| !m.trim().is_empty()),
        cost_share: store.setting("route_cost_share")?.and_then(|v| v.parse().ok()).unwrap_or(d.cost_share),
        min_pass: store.setting("route_min_pass")?.and_then(|v| v.parse().ok()),
    })
}

/// Saves a routing policy; the caller validated it ([`RouteSettings::validate`]).
pub fn save_route_settings(store: &Store, s: &RouteSettings) -> Result<(), StoreError> {
    store.set_setting("route_policy", Some(s.policy.as_str()))?;
    store.set_setting("route_tau", Some(&s.tau.to_string()))?;
    store.set_setting("route_map", s.map.as_deref().filter(|m| !m.trim().is_empty()))?;
    store.set_setting("route_cost_share", Some(&s.cost_share.to_string()))?;
    store.set_setting("route_min_pass", s.min_pass.map(|m| m.to_string()).as_deref())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use complexitynet_router::{Policy, PolicyKind};

    #[test]
    fn the_saved_policy_round_trips_and_is_validated() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::open(&dir.path().join("db.sqlite3")).unwrap();
        assert_eq!(route_settings(&store).unwrap(), RouteSettings::default());
        assert_eq!(RouteSettings::default().policy, PolicyKind::Dial, "the cost dial is the default");
        let s = RouteSettings {
            policy: PolicyKind::Threshold,
            tau: 0.7,
            cost_share: 0.2,
            min_pass: Some(0.75),
            ..Default::default()
        };
        save_route_settings(&store, &s).unwrap();
        assert_eq!(route_settings(&store).unwrap(), s);
        assert!(RouteSettings { tau: 1.5, ..s.clone() }.validate().is_err());
        assert!(RouteSettings { cost_share: 0.0, ..s.clone() }.validate().is_err());
        assert_eq!(s.fixed_policy("single3", &[0, 1, 2], 3).unwrap(), Policy::Threshold { tau: 0.7 });
        let paper = RouteSettings { policy: PolicyKind::Paper, map: Some("0-1:1,2:3".into()), ..Default::default() };
        assert_eq!(paper.fixed_policy("single3", &[0, 1, 2], 3).unwrap(), Policy::Paper { map: vec![0, 0, 2] });
    }
}
