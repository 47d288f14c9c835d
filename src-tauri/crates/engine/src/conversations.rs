//! Chat conversations in SQLite: messages with how each answer was routed (level, tier, the decision and the
//! verified cascade, typed), its tokens, cost and the amount saved against the top tier; feedback; running totals;
//! Markdown/JSON export; each answer's outcome for the personal labels.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};
use complexitynet_router::Decision;
use complexitynet_verify::judge::{Verification, VerifiedStep};

/// How an answer came about: where the router sent the prompt, and for a prompt with checks, the verified
/// cascade (the checks and each tier's verdict).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct ChatRoute {
    pub decision: Decision,
    pub verification: Option<Verification>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, ts_rs::TS)]
pub struct Conversation {
    pub id: i64,
    pub title: String,
    pub created_at: String,
    pub messages: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default, ts_rs::TS)]
pub struct ChatMessage {
    pub id: i64,
    pub conversation_id: i64,
    /// `user` or `assistant`.
    pub role: String,
    pub content: String,
    pub tier: Option<String>,
    pub model: Option<String>,
    pub level: Option<u32>,
    /// How the answer came about (None for a user message, or an answer stored without a readable route).
    pub route: Option<ChatRoute>,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub cost_usd: f64,
    pub saved_usd: f64,
    /// `up`, `down`, `worked` or `failed`.
    pub feedback: Option<String>,
    /// The prompt carried tests and this answer passed them (true) or no tier's answer did (false); None: no tests.
    pub verified: Option<bool>,
    pub created_at: String,
}

impl ChatMessage {
    /// An answer that cannot be kept: it failed its tests, or you marked it as failing. It claims no savings.
    pub fn failing(&self) -> bool {
        self.verified == Some(false) || matches!(self.feedback.as_deref(), Some("failed" | "down"))
    }

    /// The savings this answer claims against always-top: none for a failing one.
    pub fn claimed_savings(&self) -> f64 {
        if self.failing() {
            0.0
        } else {
            self.saved_usd
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("no conversation {0}")]
    Unknown(i64),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for ChatError {
    fn from(e: rusqlite::Error) -> Self {
        ChatError::Store(StoreError::Sql(e))
    }
}

impl ChatError {
    pub fn code(&self) -> crate::ErrorCode {
        match self {
            ChatError::Unknown(_) | ChatError::Invalid(_) => crate::ErrorCode::InvalidArguments,
            ChatError::Store(e) => e.code(),
        }
    }
}

pub fn create(store: &Store, title: &str) -> Result<i64, ChatError> {
    let title: String = title.trim().chars().take(80).collect();
    store.conn().execute(
        "INSERT INTO conversations(title) VALUES (?1)",
        [if title.is_empty() { "New chat" } else { &title }],
    )?;
    Ok(store.conn().last_insert_rowid())
}

pub fn list(store: &Store) -> Result<Vec<Conversation>, ChatError> {
    let mut stmt = store.conn().prepare(
        "SELECT c.id, c.title, c.created_at, (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id)
         FROM conversations c ORDER BY c.id DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Conversation {
            id: r.get(0)?,
            title: r.get(1)?,
            created_at: r.get(2)?,
            messages: r.get::<_, i64>(3)? as usize,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn delete(store: &Store, id: i64) -> Result<(), ChatError> {
    if store.conn().execute("DELETE FROM conversations WHERE id = ?1", [id])? == 0 {
        return Err(ChatError::Unknown(id));
    }
    Ok(())
}

fn exists(store: &Store, id: i64) -> Result<(), ChatError> {
    store
        .conn()
        .query_row("SELECT 1 FROM conversations WHERE id = ?1", [id], |_| Ok(()))
        .optional()?
        .ok_or(ChatError::Unknown(id))
}

/// Appends a message; returns it with its id and time.
pub fn add(store: &Store, m: &ChatMessage) -> Result<ChatMessage, ChatError> {
    exists(store, m.conversation_id)?;
    store.conn().execute(
        "INSERT INTO messages(conversation_id, role, content, tier, model, level, route, prompt_tokens,
                              completion_tokens, cost_usd, saved_usd, verified)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            m.conversation_id,
            m.role,
            m.content,
            m.tier,
            m.model,
            m.level,
            m.route.as_ref().and_then(|r| serde_json::to_string(r).ok()),
            m.prompt_tokens,
            m.completion_tokens,
            m.cost_usd,
            m.saved_usd,
            m.verified
        ],
    )?;
    let id = store.conn().last_insert_rowid();
    Ok(select(store, "id = ?1", id)?.remove(0))
}

pub fn messages(store: &Store, conversation: i64) -> Result<Vec<ChatMessage>, ChatError> {
    exists(store, conversation)?;
    select(store, "conversation_id = ?1", conversation)
}

/// Messages matching `filter` (one `?1` parameter), oldest first.
fn select(store: &Store, filter: &str, param: i64) -> Result<Vec<ChatMessage>, ChatError> {
    let mut stmt = store.conn().prepare(&format!(
        "SELECT id, conversation_id, role, content, tier, model, level, route, prompt_tokens, completion_tokens,
                cost_usd, saved_usd, feedback, created_at, verified
         FROM messages WHERE {filter} ORDER BY id"
    ))?;
    let rows = stmt.query_map([param], |r| {
        Ok(ChatMessage {
            id: r.get(0)?,
            conversation_id: r.get(1)?,
            role: r.get(2)?,
            content: r.get(3)?,
            tier: r.get(4)?,
            model: r.get(5)?,
            level: r.get(6)?,
            route: r.get::<_, Option<String>>(7)?.and_then(|s| serde_json::from_str(&s).ok()),
            prompt_tokens: r.get(8)?,
            completion_tokens: r.get(9)?,
            cost_usd: r.get(10)?,
            saved_usd: r.get(11)?,
            feedback: r.get(12)?,
            created_at: r.get(13)?,
            verified: r.get(14)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The routing decisions of the most recent routed answers (newest first), for calibrating the cost dial on the
/// user's own prompts. Answers without a readable decision are skipped.
pub fn recent_routes(store: &Store, limit: usize) -> Result<Vec<Decision>, ChatError> {
    let mut stmt = store.conn().prepare(
        "SELECT route FROM messages WHERE role = 'assistant' AND route IS NOT NULL ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| r.get::<_, String>(0))?;
    Ok(rows
        .filter_map(|r| r.ok())
        .filter_map(|j| serde_json::from_str::<ChatRoute>(&j).ok())
        .map(|r| r.decision)
        .collect())
}

/// What one chat answer says about the tiers, for the personal labels: the prompt it answered, the tier that
/// gave it, the user's word on it, and each verified step (every tier the cascade tried, passed or failed).
#[derive(Debug, Clone, PartialEq)]
pub struct ChatOutcome {
    pub id: i64,
    pub prompt: String,
    pub tier: Option<String>,
    /// The model that gave the answer.
    pub model: Option<String>,
    pub feedback: Option<String>,
    pub steps: Vec<VerifiedStep>,
}

/// Every answer that was verified or marked, oldest first, with the prompt it answered.
pub fn outcomes(store: &Store) -> Result<Vec<ChatOutcome>, ChatError> {
    let mut stmt = store.conn().prepare(
        "SELECT a.id, a.tier, a.feedback, a.route,
                (SELECT u.content FROM messages u WHERE u.conversation_id = a.conversation_id AND u.id < a.id
                   AND u.role = 'user' ORDER BY u.id DESC LIMIT 1), a.model
         FROM messages a WHERE a.role = 'assistant' AND (a.feedback IS NOT NULL OR a.verified IS NOT NULL)
         ORDER BY a.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, tier, feedback, route, prompt, model) = row?;
        let Some(prompt) = prompt else { continue };
        let steps = route
            .and_then(|r| serde_json::from_str::<ChatRoute>(&r).ok())
            .and_then(|r| r.verification)
            .map(|v| v.steps)
            .unwrap_or_default();
        out.push(ChatOutcome { id, prompt, tier, model, feedback, steps });
    }
    Ok(out)
}

pub fn set_feedback(store: &Store, message: i64, feedback: Option<&str>) -> Result<(), ChatError> {
    if let Some(f) = feedback {
        if !["up", "down", "worked", "failed"].contains(&f) {
            return Err(ChatError::Invalid(format!("feedback {f:?} is not up, down, worked or failed")));
        }
    }
    let n = store.conn().execute(
        "UPDATE messages SET feedback = ?1 WHERE id = ?2 AND role = 'assistant'",
        params![feedback, message],
    )?;
    if n == 0 {
        return Err(ChatError::Invalid(format!("no answer {message}")));
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, Default, PartialEq, ts_rs::TS)]
pub struct Totals {
    pub answers: u64,
    /// Every attempt's cost, kept or not.
    pub cost_usd: f64,
    /// Savings against always-top, of the answers that can be kept only.
    pub saved_usd: f64,
    /// Answers that failed their tests or that you marked as failing (they claim no savings).
    pub failing: u64,
}

/// The SQL twin of [`ChatMessage::failing`], for the totals.
const FAILING: &str = "(verified = 0 OR coalesce(feedback, '') IN ('failed', 'down'))";

/// Spend and savings of today's and this month's answers (UTC): the answers, their savings and the failing ones
/// from the chat; what was spent from the one ledger (every call, every source: the chat, `ask`, the server,
/// label runs).
pub fn totals(store: &Store) -> Result<(Totals, Totals), ChatError> {
    let q = |fmt: &str| -> Result<Totals, ChatError> {
        Ok(store.conn().query_row(
            &format!(
                "SELECT count(*), coalesce(sum(cost_usd), 0),
                        coalesce(sum(CASE WHEN {FAILING} THEN 0 ELSE saved_usd END), 0),
                        coalesce(sum(CASE WHEN {FAILING} THEN 1 ELSE 0 END), 0)
                 FROM messages
                 WHERE role = 'assistant' AND strftime('{fmt}', created_at) = strftime('{fmt}', 'now')"
            ),
            [],
            |r| {
                Ok(Totals {
                    answers: r.get::<_, i64>(0)? as u64,
                    cost_usd: r.get(1)?,
                    saved_usd: r.get(2)?,
                    failing: r.get::<_, i64>(3)? as u64,
                })
            },
        )?)
    };
    let ledger = |fmt: &str| crate::ledger::spent_in(store, fmt).map_err(|e| ChatError::Invalid(e.to_string()));
    let (mut today, mut month) = (q("%Y-%m-%d")?, q("%Y-%m")?);
    today.cost_usd = ledger("%Y-%m-%d")?;
    month.cost_usd = ledger("%Y-%m")?;
    Ok((today, month))
}

/// A conversation as Markdown: each answer with its tier, level and cost.
pub fn markdown(store: &Store, conversation: i64) -> Result<String, ChatError> {
    let title: String =
        store.conn().query_row("SELECT title FROM conversations WHERE id = ?1", [conversation], |r| r.get(0))?;
    let mut s = format!("# {title}\n\n");
    for m in messages(store, conversation)? {
        if m.role == "user" {
            s.push_str(&format!("**You:** {}\n\n", m.content));
        } else {
            let verified = match m.verified {
                Some(true) => " · passed its tests",
                Some(false) => " · **FAILED its tests**",
                None => "",
            };
            let saved = if m.failing() {
                "no savings claimed (failing answer)".to_owned()
            } else {
                format!("saved {} against the top tier", crate::money::usd(m.saved_usd))
            };
            s.push_str(&format!(
                "**{} ({})**{}{verified}:\n\n{}\n\n_{} + {} tokens · {} · {saved}_\n\n",
                m.tier.as_deref().unwrap_or("?"),
                m.model.as_deref().unwrap_or("?"),
                m.level.map(|l| format!(", level {l}")).unwrap_or_default(),
                m.content,
                m.prompt_tokens,
                m.completion_tokens,
                crate::money::usd(m.cost_usd),
            ));
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(reason: &str) -> Decision {
        serde_json::from_value(serde_json::json!({
            "level": 0, "tier": "local", "model": "m", "probabilities": [1.0], "levels": [0], "reason": reason,
            "classifier": "c", "expected": [], "chosen": "local", "flagged": false, "available": true, "tiers": []
        }))
        .unwrap()
    }

    #[test]
    fn routes_stored_the_old_way_are_read_typed_after_the_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.sqlite3");
        let store = crate::open(&path).unwrap();
        let c = create(&store, "old").unwrap();
        add(
            &store,
            &ChatMessage {
                conversation_id: c,
                role: "user".into(),
                content: "add\nassert add(1, 2) == 3".into(),
                ..Default::default()
            },
        )
        .unwrap();
        // What v9 stored: the decision with the cascade's steps spliced in.
        let mut old = serde_json::to_value(decision("verified")).unwrap();
        old["cascade"] =
            serde_json::json!([{"tier": "local", "model": "m", "verdict": "passed", "passed": true, "cost_usd": 0.0}]);
        store
            .conn()
            .execute(
                "INSERT INTO messages(conversation_id, role, content, route, verified) VALUES (?1, 'assistant', 'x', ?2, 1)",
                params![c, old.to_string()],
            )
            .unwrap();
        // The v10 migration, run over that row as it ran over the databases it upgraded.
        store.conn().execute_batch(crate::store::migration_sql(10)).unwrap();
        let m = messages(&store, c).unwrap().remove(1);
        let route = m.route.expect("the old route reads as a typed one");
        assert_eq!(route.decision.reason, "verified");
        let v = route.verification.expect("its cascade became the verification");
        assert!(v.passed);
        assert_eq!(v.steps[0].tier, "local");
        assert_eq!(outcomes(&store).unwrap()[0].steps.len(), 1);
    }

    #[test]
    fn a_conversation_stores_routed_answers_feedback_and_totals() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::open(&dir.path().join("db.sqlite3")).unwrap();
        let c = create(&store, "Reverse a string").unwrap();
        add(
            &store,
            &ChatMessage { conversation_id: c, role: "user".into(), content: "reverse".into(), ..Default::default() },
        )
        .unwrap();
        let a = add(
            &store,
            &ChatMessage {
                conversation_id: c,
                role: "assistant".into(),
                content: "```python\ns[::-1]\n```".into(),
                tier: Some("local".into()),
                model: Some("smollm2".into()),
                level: Some(0),
                route: Some(ChatRoute { decision: decision("level 0 → L1"), verification: None }),
                prompt_tokens: 10,
                completion_tokens: 5,
                cost_usd: 0.000003,
                saved_usd: 0.000447,
                ..Default::default()
            },
        )
        .unwrap();
        set_feedback(&store, a.id, Some("worked")).unwrap();
        assert!(set_feedback(&store, a.id, Some("meh")).is_err());
        let ms = messages(&store, c).unwrap();
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[1].feedback.as_deref(), Some("worked"));
        assert_eq!(ms[1].route.as_ref().unwrap().decision.reason, "level 0 → L1");
        let (today, month) = totals(&store).unwrap();
        assert_eq!(today.answers, 1);
        assert!((month.saved_usd - 0.000447).abs() < 1e-12);
        let md = markdown(&store, c).unwrap();
        assert!(md.starts_with("# Reverse a string") && md.contains("**local (smollm2)**, level 0"), "{md}");
        assert_eq!(list(&store).unwrap()[0].messages, 2);

        // The ledger: an answer that failed its tests counts its cost but claims no savings, in the totals and the
        // export; one you mark as failing later loses its claim too.
        let failing = add(
            &store,
            &ChatMessage {
                conversation_id: c,
                role: "assistant".into(),
                content: "def add(a, b): return a - b".into(),
                tier: Some("top".into()),
                cost_usd: 0.01,
                saved_usd: 0.002,
                verified: Some(false),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(failing.verified, Some(false));
        assert_eq!(failing.claimed_savings(), 0.0);
        // What was spent comes from the ledger: the calls behind the two answers (a failing one cost as much).
        for cost_usd in [0.000003, 0.01] {
            let call = crate::ledger::CallRecord {
                tier: "t",
                provider: "p",
                model: "m",
                prompt_tokens: 1,
                completion_tokens: 1,
                cost_usd,
                latency_ms: 1.0,
                finish_reason: "stop",
                error_kind: None,
                usage_estimated: false,
                cached_tokens: 0,
                entry: crate::ledger::Entry::of("chat"),
            };
            crate::ledger::record_call(&store, &call).unwrap();
        }
        let (today, _) = totals(&store).unwrap();
        assert_eq!((today.answers, today.failing), (2, 1));
        assert!((today.cost_usd - 0.010003).abs() < 1e-12, "every attempt's cost counts");
        assert!((today.saved_usd - 0.000447).abs() < 1e-12, "the failing answer claims nothing");
        let md = markdown(&store, c).unwrap();
        assert!(md.contains("**FAILED its tests**") && md.contains("no savings claimed"), "{md}");
        set_feedback(&store, a.id, Some("failed")).unwrap();
        let (today, _) = totals(&store).unwrap();
        assert_eq!((today.failing, today.saved_usd), (2, 0.0));
        delete(&store, c).unwrap();
        assert!(matches!(messages(&store, c), Err(ChatError::Unknown(_))));
    }
}
