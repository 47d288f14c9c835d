//! API keys: they live only in the OS keychain (macOS Keychain, Windows Credential Manager, the Secret Service
//! on Linux, with the kernel keyutils as the fallback). Nothing else in the app ever holds a key longer than a
//! request: not SQLite, not config files, not logs (a [`Secret`] prints as `***`), not the webview.

use serde::Serialize;

/// An API key. `Debug` and `Display` print `***`; only [`Secret::expose`] gives the value, for the one header
/// that needs it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// `…abcd`: the last 4 characters, for `keys list` and the Models & Keys tab.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        let tail: String = chars[chars.len().saturating_sub(4)..].iter().collect();
        format!("…{tail}")
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// What to start when no store keeps keys (Linux), said wherever a key cannot be saved.
pub const NO_STORE_FIX: &str = "start a Secret Service: GNOME Keyring (gnome-keyring-daemon --start \
     --components=secrets, in your desktop session), KWallet with its Secret Service enabled, or KeePassXC with Secret \
     Service integration on; then try again";

#[derive(Debug, Clone, thiserror::Error)]
pub enum KeyError {
    #[error("no keychain here can keep an API key ({0}): {fix}", fix = NO_STORE_FIX)]
    Unavailable(String),
    #[error("keychain error: {0}")]
    Keychain(String),
    #[error("an API key must not be empty")]
    Empty,
}

impl KeyError {
    pub fn code(&self) -> complexitynet_errors::ErrorCode {
        match self {
            KeyError::Unavailable(_) => complexitynet_errors::ErrorCode::KeychainUnavailable,
            KeyError::Keychain(_) => complexitynet_errors::ErrorCode::KeychainUnavailable,
            KeyError::Empty => complexitynet_errors::ErrorCode::InvalidArguments,
        }
    }
}

/// Where keys are kept. The keychain in the app; an in-memory store in unit tests.
pub trait SecretStore: Send + Sync {
    fn get(&self, provider: &str) -> Result<Option<Secret>, KeyError>;
    fn set(&self, provider: &str, secret: &Secret) -> Result<(), KeyError>;
    /// Returns whether a key was there.
    fn delete(&self, provider: &str) -> Result<bool, KeyError>;
    /// Which store is in use (`secret-service`, `keyutils`, `macos-keychain`, …), for `doctor`.
    fn backend(&self) -> &'static str;
    /// A real round trip (a probe entry written, read back and deleted): the store in use when it works, else
    /// why not. `doctor` says ok only on this.
    fn check(&self) -> Result<&'static str, KeyError> {
        Ok(self.backend())
    }
}

/// The probe entry's account (never a provider's name: providers are checked to exist).
const PROBE: &str = "__complexitynet_probe__";

/// Writes, reads back and deletes a probe entry with the default credential builder in force. The entry is this
/// process's own (its pid and a counter in the account): processes probing the same keychain at once (the CLI
/// beside the app, parallel tests) never read or delete each other's probe.
fn round_trip() -> Result<(), keyring::Error> {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let account = format!("{PROBE}{}-{n}", std::process::id());
    let value = format!("probe-{}-{n}", std::process::id());
    let entry = keyring::Entry::new(SERVICE, &account)?;
    entry.set_password(&value)?;
    let back = keyring::Entry::new(SERVICE, &account)?.get_password();
    let _ = entry.delete_credential();
    match back {
        Ok(v) if v == value => Ok(()),
        Ok(_) => Err(keyring::Error::Invalid("probe".into(), "read back another value".into())),
        Err(e) => Err(e),
    }
}

/// The keychain entry's service name; the provider name is the account.
pub const SERVICE: &str = "complexitynet";

/// The OS keychain. Which store answers is decided once, on first use (the probe talks to the Secret Service,
/// so a command that never touches a key never pays for it), and kept for the process.
pub struct Keychain {
    backend: std::sync::OnceLock<&'static str>,
}

fn map(e: keyring::Error) -> KeyError {
    match e {
        keyring::Error::PlatformFailure(e) => KeyError::Unavailable(e.to_string()),
        keyring::Error::NoStorageAccess(e) => KeyError::Unavailable(e.to_string()),
        other => KeyError::Keychain(other.to_string()),
    }
}

impl Keychain {
    /// The platform's keychain; nothing is probed until a key is read or written.
    pub fn open() -> Keychain {
        Keychain { backend: std::sync::OnceLock::new() }
    }

    /// Picks the platform's keychain by a real round trip. On Linux: the Secret Service when one keeps a key (a
    /// desktop session, or gnome-keyring in tests), else the kernel's keyutils if it does (kept in memory until
    /// reboot: fine for a headless session, said so by `doctor`), else none (`unavailable`: every write says what
    /// to start). It sets keyring's process-wide default store, so it runs once.
    fn probe() -> &'static str {
        static CHOSEN: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
        CHOSEN.get_or_init(|| {
            #[cfg(target_os = "linux")]
            {
                keyring::set_default_credential_builder(keyring::secret_service::default_credential_builder());
                match round_trip() {
                    Ok(()) => "secret-service",
                    Err(e) => {
                        tracing::info!(error = %e, "no Secret Service keeps keys; trying the kernel keyutils");
                        keyring::set_default_credential_builder(keyring::keyutils::default_credential_builder());
                        match round_trip() {
                            Ok(()) => "keyutils",
                            Err(e) => {
                                tracing::warn!(error = %e, "no keychain keeps keys here");
                                "unavailable"
                            }
                        }
                    }
                }
            }
            #[cfg(target_os = "macos")]
            {
                "macos-keychain"
            }
            #[cfg(target_os = "windows")]
            {
                "windows-credential-manager"
            }
            #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
            {
                "platform-default"
            }
        })
    }

    fn ready(&self) -> &'static str {
        self.backend.get_or_init(Self::probe)
    }
}

impl SecretStore for Keychain {
    fn get(&self, provider: &str) -> Result<Option<Secret>, KeyError> {
        self.ready();
        match keyring::Entry::new(SERVICE, provider).and_then(|e| e.get_password()) {
            Ok(v) => Ok(Some(Secret(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map(e)),
        }
    }

    fn set(&self, provider: &str, secret: &Secret) -> Result<(), KeyError> {
        if secret.0.trim().is_empty() {
            return Err(KeyError::Empty);
        }
        if self.ready() == "unavailable" {
            return Err(KeyError::Unavailable(
                "neither a Secret Service nor the kernel keyutils kept a test key".into(),
            ));
        }
        keyring::Entry::new(SERVICE, provider).and_then(|e| e.set_password(secret.0.trim())).map_err(map)?;
        // Never "saved" without reading it back: a store that accepts a key and loses it is no store.
        match self.get(provider) {
            Ok(Some(back)) if back.0 == secret.0.trim() => Ok(()),
            Ok(_) => Err(KeyError::Unavailable(format!("{} accepted the key but did not give it back", self.ready()))),
            Err(e) => {
                Err(KeyError::Unavailable(format!("{} accepted the key but reading it back failed: {e}", self.ready())))
            }
        }
    }

    fn delete(&self, provider: &str) -> Result<bool, KeyError> {
        self.ready();
        match keyring::Entry::new(SERVICE, provider).and_then(|e| e.delete_credential()) {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(map(e)),
        }
    }

    fn backend(&self) -> &'static str {
        self.ready()
    }

    fn check(&self) -> Result<&'static str, KeyError> {
        match self.ready() {
            "unavailable" => {
                Err(KeyError::Unavailable("neither a Secret Service nor the kernel keyutils kept a test key".into()))
            }
            backend => round_trip().map(|()| backend).map_err(|e| KeyError::Unavailable(format!("{backend}: {e}"))),
        }
    }
}

/// An in-memory store for unit tests and for `--no-keychain` style tooling; never the app's default.
#[derive(Default)]
pub struct MemoryStore(std::sync::Mutex<std::collections::HashMap<String, String>>);

impl SecretStore for MemoryStore {
    fn get(&self, provider: &str) -> Result<Option<Secret>, KeyError> {
        Ok(self.0.lock().unwrap_or_else(|e| e.into_inner()).get(provider).cloned().map(Secret))
    }
    fn set(&self, provider: &str, secret: &Secret) -> Result<(), KeyError> {
        if secret.0.trim().is_empty() {
            return Err(KeyError::Empty);
        }
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(provider.to_owned(), secret.0.trim().to_owned());
        Ok(())
    }
    fn delete(&self, provider: &str) -> Result<bool, KeyError> {
        Ok(self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(provider).is_some())
    }
    fn backend(&self) -> &'static str {
        "memory"
    }
}

/// A provider as `keys list` shows it.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct KeyListing {
    pub provider: String,
    /// `…abcd`, or None when no key is stored.
    pub key: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let s = Secret::new("sk-test-abcdefgh1234");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.masked(), "…1234");
        assert_eq!(Secret::new("ab").masked(), "…ab");
    }

    #[test]
    fn the_memory_store_sets_gets_and_deletes() {
        let m = MemoryStore::default();
        assert!(m.get("openai").unwrap().is_none());
        m.set("openai", &Secret::new(" k-1 ")).unwrap();
        assert_eq!(m.get("openai").unwrap().unwrap().expose(), "k-1");
        assert!(m.delete("openai").unwrap());
        assert!(!m.delete("openai").unwrap());
        assert!(matches!(m.set("x", &Secret::new("  ")), Err(KeyError::Empty)));
    }
}
