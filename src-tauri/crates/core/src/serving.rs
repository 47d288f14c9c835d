//! The local server's rules, below the transport: who may call it (the `Host` it was reached by, the page's
//! `Origin`, the bearer key), what a request must be (JSON, so no cross-site "simple" request reaches a
//! handler), and how much requests through it may spend per day. The server (`src-tauri/src/server.rs`) only maps
//! each refusal to its HTTP status and an OpenAI-style body.
//!
//! Why each rule: any web page the user opens can send a "simple" cross-origin POST (`text/plain`, no preflight)
//! to 127.0.0.1 — it cannot read the answer, but the tiers are paid on the user's keys; a DNS-rebinding page (its
//! own name resolving to 127.0.0.1) passes a browser's same-origin check and reads everything, but it has to say
//! its own name in `Host`. Ollama (`OLLAMA_ORIGINS`, its rebinding fix) and Jupyter (token, Host and Origin
//! checks) close the same holes.

use complexitynet_engine::tiers::{self as table, ProviderKind};
use complexitynet_engine::ErrorCode;
use complexitynet_providers::keys::Secret;
use serde::{Deserialize, Serialize};

use crate::ask::AskRequest;
use crate::{App, AppError, Result};

/// The origins of the app's own window (Tauri's webview: `tauri://localhost` on Linux and macOS,
/// `http(s)://tauri.localhost` on Windows): it may always call its own server.
pub const APP_ORIGINS: &[&str] = &["tauri://localhost", "http://tauri.localhost", "https://tauri.localhost"];

/// The names the server answers to besides the ones the user adds.
const LOOPBACK_NAMES: &[&str] = &["127.0.0.1", "localhost", "[::1]"];

/// What the user sets for the local server (Settings, `serve` flags); the key is not here: it lives in memory for
/// one start only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ServerSettings {
    /// Web origins (`https://app.example`) whose pages may call the server, CORS included. Empty by default.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Extra host names the server may be reached by (a name in /etc/hosts for 127.0.0.1, say).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// The most that requests through the server may spend per day (UTC), in the cost mode in use (dollars or
    /// the paper's units); over it, paid tiers are refused and the local tier still answers. None: no cap.
    #[serde(default)]
    pub daily_cap: Option<f64>,
    /// A model name no tier serves (a client's own, `claude-sonnet-4-5` say) goes straight to the top tier's
    /// provider under that name instead of being routed.
    #[serde(default)]
    pub pass_through: bool,
}

const SETTINGS_KEY: &str = "server";

impl ServerSettings {
    /// Checks each field; the error names the bad value.
    pub fn validate(&self) -> std::result::Result<(), String> {
        for o in &self.allowed_origins {
            let ok = (o.starts_with("http://") || o.starts_with("https://") || o.starts_with("tauri://"))
                && !o.ends_with('/')
                && o.split("://").nth(1).is_some_and(|h| !h.is_empty() && !h.contains('/'));
            if !ok {
                return Err(format!(
                    "allowed origin {o:?} is not an origin (scheme://host[:port], no path, e.g. https://app.example)"
                ));
            }
        }
        for h in &self.allowed_hosts {
            if h.is_empty() || h.contains(['/', ':', ' ']) {
                return Err(format!("allowed host {h:?} is not a host name (no scheme, port or path)"));
            }
        }
        if let Some(c) = self.daily_cap {
            if !(c.is_finite() && c > 0.0) {
                return Err(format!("the daily spend cap must be a positive amount, got {c}"));
            }
        }
        Ok(())
    }
}

/// Why a request is refused before any handler runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Reached by a name that is not loopback's nor one the user added (DNS rebinding).
    Host(String),
    /// Sent by a web page whose origin is not allowed.
    Origin(String),
    /// A body that is not JSON.
    MediaType(String),
    /// No key, or the wrong one.
    Key,
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::Host(h) => format!(
                "this server answers only to 127.0.0.1, localhost and [::1] on its own port (and hosts added in \
                 Settings or with --allow-host); the request was addressed to {h:?}"
            ),
            Refusal::Origin(o) => format!(
                "requests from web pages are refused unless their origin is allowed (Settings, or serve \
                 --allow-origin); {o:?} is not"
            ),
            Refusal::MediaType(t) => {
                format!("the request body must be JSON (Content-Type: application/json), not {t:?}")
            }
            Refusal::Key => "Incorrect API key provided.".into(),
        }
    }
}

/// The checks of one running server: its port, the names and origins it accepts, its key.
#[derive(Debug, Clone)]
pub struct Gate {
    port: u16,
    hosts: Vec<String>,
    origins: Vec<String>,
    key: Option<Secret>,
}

impl Gate {
    pub fn new(port: u16, settings: &ServerSettings, key: Option<&str>) -> Gate {
        let hosts = LOOPBACK_NAMES.iter().map(|h| h.to_string()).chain(settings.allowed_hosts.iter().cloned());
        Gate {
            port,
            hosts: hosts.map(|h| h.to_ascii_lowercase()).collect(),
            origins: APP_ORIGINS
                .iter()
                .map(|o| o.to_string())
                .chain(settings.allowed_origins.iter().cloned())
                .collect(),
            key: key.filter(|k| !k.is_empty()).map(Secret::new),
        }
    }

    pub fn requires_key(&self) -> bool {
        self.key.is_some()
    }

    /// The `Host` header must name a loopback address (or an added host) and this server's port.
    pub fn host(&self, host: Option<&str>) -> std::result::Result<(), Refusal> {
        let h = host.unwrap_or("").trim().to_ascii_lowercase();
        let (name, port) = match h.rsplit_once(':') {
            // `[::1]` alone has colons but no port after the bracket.
            Some((n, p)) if !p.contains(']') => (n.to_owned(), p.parse::<u16>().ok()),
            _ => (h.clone(), Some(80)),
        };
        if port == Some(self.port) && self.hosts.contains(&name) {
            Ok(())
        } else {
            Err(Refusal::Host(host.unwrap_or("").to_owned()))
        }
    }

    /// A request with an `Origin` comes from a web page: allowed only for listed origins. Ok(Some(origin)) is an
    /// allowed page (CORS headers echo it); Ok(None) a request from no page (a program, curl).
    pub fn origin(&self, origin: Option<&str>) -> std::result::Result<Option<String>, Refusal> {
        match origin {
            None => Ok(None),
            Some(o) if self.origins.iter().any(|a| a.eq_ignore_ascii_case(o.trim_end_matches('/'))) => {
                Ok(Some(o.to_owned()))
            }
            Some(o) => Err(Refusal::Origin(o.to_owned())),
        }
    }

    /// A body must be JSON: `text/plain`, forms and multipart are what a page may send cross-site unannounced.
    pub fn content_type(&self, content_type: Option<&str>) -> std::result::Result<(), Refusal> {
        let t = content_type.unwrap_or("");
        let media = t.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/json") {
            Ok(())
        } else {
            Err(Refusal::MediaType(t.to_owned()))
        }
    }

    /// `Authorization: Bearer KEY`, compared in constant time, when the server has a key.
    pub fn key(&self, authorization: Option<&str>) -> std::result::Result<(), Refusal> {
        let Some(want) = &self.key else { return Ok(()) };
        let given = authorization.and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
        if same_secret(given.as_bytes(), want.expose().as_bytes()) {
            Ok(())
        } else {
            Err(Refusal::Key)
        }
    }
}

/// Equal in time independent of where the two differ (and of their lengths): the SHA-256 digests are compared
/// byte by byte with no early exit.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    let (x, y) = (Sha256::digest(a), Sha256::digest(b));
    x.iter().zip(y.iter()).fold(0u8, |acc, (p, q)| acc | (p ^ q)) == 0
}

/// A fresh bearer key for one start of the server: 32 random bytes, hex, after a recognisable prefix.
pub fn new_key() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the OS random source works");
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("cn-local-{hex}")
}

impl App {
    pub fn server_settings(&self) -> Result<ServerSettings> {
        self.with_store(|s| {
            Ok(s.setting(SETTINGS_KEY)?.and_then(|v| serde_json::from_str(&v).ok()).unwrap_or_default())
        })
    }

    pub fn set_server_settings(&self, settings: &ServerSettings) -> Result<ServerSettings> {
        settings.validate().map_err(AppError::invalid)?;
        let json = serde_json::to_string(settings).map_err(|e| AppError::internal(e.to_string()))?;
        self.with_store(|s| Ok(s.set_setting(SETTINGS_KEY, Some(&json))?))?;
        self.server_settings()
    }

    /// What was spent today (UTC) — every call in the ledger, the chat's, `ask`'s, label runs' and the
    /// server's — in the cost mode in use: what the server's daily cap is held to.
    pub fn spent_today(&self) -> Result<f64> {
        self.with_store(|s| Ok(complexitynet_engine::ledger::spent_today(s, table::cost_mode(s)?)?))
    }

    /// Holds a request through the server to the daily spend cap: under it, nothing changes; at or over it, the
    /// request may use only the free tiers at the bottom of the table (the bundled runtime, or a tier priced at
    /// nothing), routing and the cascade included; one that names a paid tier, or finds no free tier, is refused
    /// with [`ErrorCode::SpendCapReached`]. The cap is checked before a request, so the request that crosses it
    /// completes.
    pub fn apply_server_cap(&self, cap: Option<f64>, req: &mut AskRequest) -> Result<()> {
        let Some(cap) = cap else { return Ok(()) };
        let spent = self.spent_today()?;
        if spent < cap {
            return Ok(());
        }
        let unit = |x: f64| match self.with_store(|s| Ok(table::cost_mode(s)?)) {
            Ok(table::CostMode::PaperUnits) => format!("{x} units"),
            _ => complexitynet_engine::money::usd(x),
        };
        let refuse = |why: &str| {
            AppError::new(
                ErrorCode::SpendCapReached,
                format!(
                    "the local server's daily spend cap ({}) is reached: {} spent today (every call: the chat, ask, \
                     label runs and the server). {why} The cap resets at midnight UTC; change it in Settings or \
                     with serve --daily-cap.",
                    unit(cap),
                    unit(spent)
                ),
            )
        };
        let (tiers, providers) = self.with_store(|s| Ok((table::tiers(s)?, table::providers(s)?)))?;
        // Free: the bundled runtime, or a tier priced at nothing (an Ollama on this machine, say).
        let is_local = |t: &table::TierRow| {
            providers.iter().any(|p| p.name == t.provider && p.kind == ProviderKind::Local)
                || (t.input_per_1k == 0.0 && t.output_per_1k == 0.0 && t.paper_units == 0.0)
        };
        let local: Vec<&table::TierRow> = tiers.iter().take_while(|t| is_local(t)).collect();
        let Some(last_local) = local.last() else {
            return Err(refuse("No local tier can answer instead."));
        };
        if let Some(named) = &req.tier {
            if !local.iter().any(|t| &t.name == named) {
                return Err(refuse(&format!("{named} is a paid tier.")));
            }
        }
        tracing::info!(spent, cap, "server spend cap reached: local tiers only");
        req.route.max_tier = Some(last_local.name.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(key: Option<&str>) -> Gate {
        let s = ServerSettings {
            allowed_origins: vec!["https://app.example".into()],
            allowed_hosts: vec!["devbox".into()],
            daily_cap: None,
            pass_through: false,
        };
        Gate::new(8731, &s, key)
    }

    #[test]
    fn only_loopback_names_and_added_hosts_on_its_own_port_are_served() {
        let g = gate(None);
        for ok in ["127.0.0.1:8731", "localhost:8731", "LOCALHOST:8731", "[::1]:8731", "devbox:8731"] {
            assert_eq!(g.host(Some(ok)), Ok(()), "{ok}");
        }
        for bad in ["evil.example:8731", "127.0.0.1:9999", "127.0.0.1", "localhost.evil.example:8731", "", "[::1]"] {
            assert!(matches!(g.host(Some(bad)), Err(Refusal::Host(_))), "{bad}");
        }
        assert!(g.host(None).is_err());
    }

    #[test]
    fn pages_need_an_allowed_origin_and_programs_send_none() {
        let g = gate(None);
        assert_eq!(g.origin(None), Ok(None));
        assert_eq!(g.origin(Some("https://app.example")), Ok(Some("https://app.example".into())));
        assert_eq!(g.origin(Some("tauri://localhost")), Ok(Some("tauri://localhost".into())), "the app's window");
        assert!(matches!(g.origin(Some("http://evil.example")), Err(Refusal::Origin(_))));
        assert!(matches!(g.origin(Some("null")), Err(Refusal::Origin(_))), "sandboxed frames and files");
        assert!(g.origin(Some("https://app.example.evil.example")).is_err());
    }

    #[test]
    fn bodies_must_be_json_and_keys_must_match() {
        let g = gate(Some("cn-local-abc"));
        assert!(g.content_type(Some("application/json")).is_ok());
        assert!(g.content_type(Some("application/json; charset=utf-8")).is_ok());
        for bad in [None, Some("text/plain"), Some("application/x-www-form-urlencoded"), Some("multipart/form-data")] {
            assert!(matches!(g.content_type(bad), Err(Refusal::MediaType(_))), "{bad:?}");
        }
        assert!(g.key(Some("Bearer cn-local-abc")).is_ok());
        for bad in
            [None, Some("Bearer cn-local-abd"), Some("cn-local-abc"), Some("Bearer "), Some("Bearer cn-local-abcd")]
        {
            assert_eq!(g.key(bad), Err(Refusal::Key), "{bad:?}");
        }
        assert!(gate(None).key(None).is_ok(), "no key: an explicit choice");
        assert!(!format!("{g:?}").contains("cn-local-abc"), "the key never prints");
    }

    #[test]
    fn a_fresh_key_is_random_and_settings_are_validated() {
        let (a, b) = (new_key(), new_key());
        assert!(a.starts_with("cn-local-") && a.len() == 9 + 64 && a != b);
        let bad = |s: ServerSettings| s.validate().unwrap_err();
        assert!(bad(ServerSettings { allowed_origins: vec!["app.example".into()], ..Default::default() })
            .contains("not an origin"));
        assert!(bad(ServerSettings { allowed_origins: vec!["https://a.example/".into()], ..Default::default() })
            .contains("not an origin"));
        assert!(bad(ServerSettings { allowed_hosts: vec!["a:80".into()], ..Default::default() }).contains("host name"));
        assert!(bad(ServerSettings { daily_cap: Some(0.0), ..Default::default() }).contains("positive"));
        assert!(ServerSettings { daily_cap: Some(2.5), ..Default::default() }.validate().is_ok());
    }
}
