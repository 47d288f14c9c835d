//! The ledger: every model call, paid or failed, from every source (ask, chat, serve, label runs, checks) — the
//! one writer of the `calls` table. The totals and exports, the server's daily cap and the budget's controller
//! all read it, so they can never disagree about what was spent.

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};

use complexitynet_router::Spend;

use crate::store::{Store, StoreError};
use crate::tiers::CostMode;

/// One generation as recorded: every call, successful or not, with its tokens and cost.
#[derive(Debug, Clone, Serialize)]
pub struct CallRecord<'a> {
    pub tier: &'a str,
    pub provider: &'a str,
    pub model: &'a str,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub cost_usd: f64,
    pub latency_ms: f64,
    pub finish_reason: &'a str,
    pub error_kind: Option<&'a str>,
    pub usage_estimated: bool,
    /// Of the prompt tokens, those read from the provider's prompt cache.
    pub cached_tokens: u32,
    #[serde(skip)]
    pub entry: Entry<'a>,
}

/// Where a call came from and what it counts for, in the ledger.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry<'a> {
    /// `chat`, `ask`, `serve`, `label`, `checks`.
    pub source: &'a str,
    /// The dial chose its tier (the budget's own traffic).
    pub routed: bool,
    /// The paper's unit cost of the tier (its cost in the other cost mode).
    pub units: f64,
    /// What the top tier would have charged for this answer, in dollars and units: set on the call that
    /// answered a prompt (one per prompt, so always-top's cost counts each prompt once).
    pub top: Option<(f64, f64)>,
    /// For a request of an agent through the server: which front door, which client, which conversation and
    /// turn.
    pub agent: Option<AgentCall<'a>>,
    /// For any other request through the server: the client as it names itself (aider, Continue, `OpenAI`), so
    /// `usage --by client` shows every program that spent, not only the agents.
    pub client: Option<&'a str>,
}

/// Where an agent's call belongs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgentCall<'a> {
    /// `openai`, `anthropic` or `responses`.
    pub front_door: &'a str,
    /// The client as it names itself (`claude-cli`, `codex_exec`, `OpenAI/Python`).
    pub client: &'a str,
    /// A short id of the conversation (the same for every request of one session).
    pub conversation: &'a str,
    /// The turn: how many human messages the conversation has had.
    pub turn: u32,
}

impl Entry<'_> {
    pub fn of(source: &str) -> Entry<'_> {
        Entry { source, routed: false, units: 0.0, top: None, agent: None, client: None }
    }
}

/// Sets what the top tier would have charged on the call that answered a prompt (a verified cascade knows which
/// call that is only once it has climbed).
pub fn set_top_cost(store: &Store, call: i64, usd: f64, units: f64) -> Result<(), StoreError> {
    store.conn().execute("UPDATE calls SET top_usd = ?1, top_units = ?2 WHERE id = ?3", params![usd, units, call])?;
    Ok(())
}

/// An agent's turn that climbed away from `tier`: its calls on that tier answered nothing the user kept, so they
/// claim no always-top cost (the turn's savings count them as spent, not as saved).
pub fn unclaim_turn(store: &Store, conversation: &str, turn: u32, tier: &str) -> Result<usize, StoreError> {
    Ok(store.conn().execute(
        "UPDATE calls SET top_usd = 0, top_units = 0 WHERE conversation = ?1 AND turn = ?2 AND tier = ?3",
        params![conversation, turn, tier],
    )?)
}

/// The dial's routed traffic over the last `days` days: what it cost and what always-top would have cost, in the
/// cost mode in use.
pub fn routed_spend(store: &Store, days: u32, mode: CostMode) -> Result<Spend, StoreError> {
    let (cost, top) = match mode {
        CostMode::Usd => ("cost_usd", "top_usd"),
        CostMode::PaperUnits => ("cost_units", "top_units"),
    };
    Ok(store.conn().query_row(
        &format!(
            "SELECT coalesce(sum({cost}), 0), coalesce(sum({top}), 0), coalesce(sum({top} > 0), 0) FROM calls
             WHERE routed = 1 AND at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)"
        ),
        [format!("-{days} days")],
        |r| Ok(Spend { spent: r.get(0)?, top: r.get(1)?, prompts: r.get::<_, i64>(2)? as u64 }),
    )?)
}

/// Everything spent today (UTC), every source, in the cost mode in use.
pub fn spent_today(store: &Store, mode: CostMode) -> Result<f64, StoreError> {
    let col = match mode {
        CostMode::Usd => "cost_usd",
        CostMode::PaperUnits => "cost_units",
    };
    Ok(store.conn().query_row(
        &format!("SELECT coalesce(sum({col}), 0) FROM calls WHERE substr(at, 1, 10) = strftime('%Y-%m-%d', 'now')"),
        [],
        |r| r.get(0),
    )?)
}

/// Dollars spent in the period of `fmt` (`%Y-%m-%d` today, `%Y-%m` this month), every source.
pub fn spent_in(store: &Store, fmt: &str) -> Result<f64, StoreError> {
    Ok(store.conn().query_row(
        &format!("SELECT coalesce(sum(cost_usd), 0) FROM calls WHERE strftime('{fmt}', at) = strftime('{fmt}', 'now')"),
        [],
        |r| r.get(0),
    )?)
}

/// The mean completion length of recent answers (for the cost of a prompt not yet answered), or 300 tokens.
pub fn typical_completion_tokens(store: &Store) -> Result<f64, StoreError> {
    let v: Option<f64> = store.conn().query_row(
        "SELECT avg(completion_tokens) FROM (SELECT completion_tokens FROM calls WHERE completion_tokens > 0
         ORDER BY id DESC LIMIT 200)",
        [],
        |r| r.get(0),
    )?;
    Ok(v.unwrap_or(300.0))
}

/// One row of the calls log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRow {
    pub id: i64,
    pub at: String,
    pub tier: String,
    pub provider: String,
    pub model: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub cost_usd: f64,
    pub finish_reason: String,
    pub error_kind: Option<String>,
    /// Where the call came from: `chat`, `ask`, `serve`, `label`, `checks`.
    pub source: String,
}

/// The calls log, oldest first.
pub fn calls(store: &Store) -> Result<Vec<CallRow>, StoreError> {
    let mut stmt = store.conn().prepare(
        "SELECT id, at, tier, provider, model, prompt_tokens, completion_tokens, cost_usd, finish_reason, error_kind,
                source
         FROM calls ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(CallRow {
            id: r.get(0)?,
            at: r.get(1)?,
            tier: r.get(2)?,
            provider: r.get(3)?,
            model: r.get(4)?,
            prompt_tokens: r.get(5)?,
            completion_tokens: r.get(6)?,
            cost_usd: r.get(7)?,
            finish_reason: r.get(8)?,
            error_kind: r.get(9)?,
            source: r.get(10)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records one call; returns its row id.
pub fn record_call(store: &Store, c: &CallRecord) -> Result<i64, StoreError> {
    record_on(store.conn(), c)
}

/// [`record_call`] on a connection or a transaction in progress (a label run records a trial and its call in
/// one commit, so a resumed run never counts a call twice).
pub fn record_on(conn: &Connection, c: &CallRecord) -> Result<i64, StoreError> {
    let (top_usd, top_units) = c.entry.top.unwrap_or((0.0, 0.0));
    conn.execute(
        "INSERT INTO calls(tier, provider, model, prompt_tokens, completion_tokens, cost_usd, latency_ms,
                           finish_reason, error_kind, usage_estimated, source, routed, cost_units, top_usd, top_units,
                           cached_tokens, front_door, client, conversation, turn)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
        params![
            c.tier,
            c.provider,
            c.model,
            c.prompt_tokens,
            c.completion_tokens,
            c.cost_usd,
            c.latency_ms,
            c.finish_reason,
            c.error_kind,
            c.usage_estimated,
            c.entry.source,
            c.entry.routed,
            c.entry.units,
            top_usd,
            top_units,
            c.cached_tokens,
            c.entry.agent.map(|a| a.front_door),
            c.entry.agent.map(|a| a.client).or(c.entry.client),
            c.entry.agent.map(|a| a.conversation),
            c.entry.agent.map(|a| a.turn)
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// How `usage` groups the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum UsageBy {
    Day,
    Tier,
    Source,
    Client,
    Conversation,
}

impl UsageBy {
    fn column(self) -> &'static str {
        match self {
            UsageBy::Day => "substr(at, 1, 10)",
            UsageBy::Tier => "tier",
            UsageBy::Source => "source",
            UsageBy::Client => "coalesce(client, '-')",
            UsageBy::Conversation => "coalesce(conversation, '-')",
        }
    }
}

impl std::str::FromStr for UsageBy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "day" => Ok(UsageBy::Day),
            "tier" => Ok(UsageBy::Tier),
            "source" => Ok(UsageBy::Source),
            "client" => Ok(UsageBy::Client),
            "conversation" => Ok(UsageBy::Conversation),
            other => Err(format!("cannot group by {other:?} (day, tier, source, client or conversation)")),
        }
    }
}

/// One group of the ledger: calls, tokens, what they cost and what always-top would have cost for the prompts
/// they answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct UsageRow {
    pub key: String,
    pub calls: u64,
    /// Calls that failed (no answer, no cost).
    pub failed: u64,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
    pub cost_usd: f64,
    /// What the top tier would have charged for the same answers.
    pub top_usd: f64,
}

/// The ledger over the last `days` days, grouped; the most expensive group first (days: the latest first).
pub fn usage(store: &Store, by: UsageBy, days: u32) -> Result<Vec<UsageRow>, StoreError> {
    let key = by.column();
    let order = if by == UsageBy::Day { "key DESC" } else { "cost DESC, key" };
    let mut stmt = store.conn().prepare(&format!(
        "SELECT {key} AS key, count(*), coalesce(sum(error_kind IS NOT NULL), 0), coalesce(sum(prompt_tokens), 0),
                coalesce(sum(completion_tokens), 0), coalesce(sum(cached_tokens), 0), coalesce(sum(cost_usd), 0) AS cost,
                coalesce(sum(top_usd), 0)
         FROM calls WHERE at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1)
         GROUP BY key ORDER BY {order}"
    ))?;
    let rows = stmt.query_map([format!("-{days} days")], |r| {
        Ok(UsageRow {
            key: r.get(0)?,
            calls: r.get::<_, i64>(1)? as u64,
            failed: r.get::<_, i64>(2)? as u64,
            prompt_tokens: r.get::<_, i64>(3)? as u64,
            completion_tokens: r.get::<_, i64>(4)? as u64,
            cached_tokens: r.get::<_, i64>(5)? as u64,
            cost_usd: r.get(6)?,
            top_usd: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
