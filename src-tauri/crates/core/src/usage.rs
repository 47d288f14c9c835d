//! `usage`: what was spent and what always-top would have cost, from the one ledger, grouped by day, tier,
//! source (chat, ask, serve, label, checks), client (Claude Code, Codex, …) or conversation.

use complexitynet_engine::ledger::{self, UsageBy, UsageRow};

use crate::{App, Result};

impl App {
    /// The ledger over the last `days` days, grouped `by`.
    pub fn usage(&self, by: UsageBy, days: u32) -> Result<Vec<UsageRow>> {
        self.with_store(|s| Ok(ledger::usage(s, by, days)?))
    }
}
