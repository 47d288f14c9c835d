//! The Chat tab's use cases: send a prompt (through [`App::ask`]: routed, or the verified cascade when it carries
//! tests), conversations, feedback, totals and exports.

use complexitynet_engine::conversations::{self as chat, ChatMessage, ChatRoute, Conversation, Totals};
use complexitynet_providers::{GenParams, Message, Role};
use complexitynet_verify::checks::{CheckItem, Checks};
use serde::{Deserialize, Serialize};

use crate::ask::{AskEvent, AskRequest};
use crate::jobs::JobKind;
use crate::routing::RouteOverrides;
use crate::{App, AppError, Result};

/// The job id of the answer being generated (the Stop button cancels it).
pub const CHAT_JOB: &str = "chat";

/// Today's and this month's spend and savings.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct ChatTotals {
    pub today: Totals,
    pub month: Totals,
}

#[derive(Debug, Clone, Copy, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    Markdown,
    Json,
}

/// What the chat sends: the model's defaults for a conversation.
fn chat_params() -> GenParams {
    GenParams { temperature: 0.2, max_tokens: 512, ..GenParams::default() }
}

impl App {
    pub fn conversations(&self) -> Result<Vec<Conversation>> {
        self.with_store(|s| Ok(chat::list(s)?))
    }

    pub fn conversation(&self, id: i64) -> Result<Vec<ChatMessage>> {
        self.with_store(|s| Ok(chat::messages(s, id)?))
    }

    pub fn delete_conversation(&self, id: i64) -> Result<()> {
        self.with_store(|s| Ok(chat::delete(s, id)?))
    }

    pub fn set_feedback(&self, message: i64, feedback: Option<&str>) -> Result<()> {
        self.with_store(|s| Ok(chat::set_feedback(s, message, feedback)?))
    }

    pub fn chat_totals(&self) -> Result<ChatTotals> {
        self.with_store(|s| {
            let (today, month) = chat::totals(s)?;
            Ok(ChatTotals { today, month })
        })
    }

    /// The conversation as Markdown or JSON text (the window saves it).
    pub fn export_conversation(&self, id: i64, format: ExportFormat) -> Result<String> {
        self.with_store(|s| match format {
            ExportFormat::Markdown => Ok(chat::markdown(s, id)?),
            ExportFormat::Json => {
                let m = chat::messages(s, id)?;
                serde_json::to_string_pretty(&serde_json::json!({"conversation": id, "messages": m}))
                    .map_err(|e| AppError::internal(e.to_string()))
            }
        })
    }

    /// Sends a prompt in a conversation (a new one when None): routed by the active classifier unless `tier`
    /// names one, never above `max_tier` (the chat's "never the top tier"); a prompt with tests (`assert` lines,
    /// doctest examples) goes through the verified cascade. Streams events; resolves with the stored answer,
    /// which records whether it passed its tests. The job [`CHAT_JOB`] stops it (what arrived is kept).
    #[allow(clippy::too_many_arguments)] // what the message box sends, each used once
    pub async fn chat_send(
        &self,
        conversation: Option<i64>,
        prompt: &str,
        tier: Option<String>,
        max_tier: Option<String>,
        checks: Option<Vec<CheckItem>>,
        on_event: &(dyn Fn(AskEvent) + Send + Sync),
    ) -> Result<ChatMessage> {
        if prompt.trim().is_empty() {
            return Err(AppError::invalid("the prompt is empty"));
        }
        let job = self.jobs().start(JobKind::Chat, CHAT_JOB)?;
        let conversation = match conversation {
            Some(c) => c,
            None => self.with_store(|s| Ok(chat::create(s, prompt)?))?,
        };
        // The conversation so far, then the new prompt.
        let history = self.conversation(conversation)?;
        let mut messages: Vec<Message> = history
            .iter()
            .map(|m| Message::new(if m.role == "user" { Role::User } else { Role::Assistant }, m.content.clone()))
            .collect();
        messages.push(Message::user(prompt));
        self.with_store(|s| {
            let user = ChatMessage {
                conversation_id: conversation,
                role: "user".into(),
                content: prompt.into(),
                ..Default::default()
            };
            Ok(chat::add(s, &user)?)
        })?;
        let req = AskRequest {
            messages,
            tier,
            classify_named: true,
            fall_through: true,
            params: chat_params(),
            stream: true,
            route: RouteOverrides { max_tier, ..RouteOverrides::default() },
            // Checks the user edited or accepted replace the prompt's own; an empty list turns verification off.
            checks: checks.as_ref().filter(|c| !c.is_empty()).map(|c| Checks::with_items(prompt, c.clone())),
            verify: checks.as_ref().is_none_or(|c| !c.is_empty()),
            source: "chat",
            agent: None,
            client: None,
        };
        let out = self.ask(&req, on_event, job.token()).await?;
        let route = out.route.clone().map(|decision| ChatRoute { decision, verification: out.verification.clone() });
        let answer = ChatMessage {
            conversation_id: conversation,
            role: "assistant".into(),
            content: out.completion.text.clone(),
            tier: Some(out.tier.name.clone()),
            model: Some(out.completion.model.clone()),
            level: out.route.as_ref().map(|d| d.level),
            route,
            prompt_tokens: out.completion.usage.prompt_tokens,
            completion_tokens: out.completion.usage.completion_tokens,
            cost_usd: out.cost_usd,
            saved_usd: out.saved_usd,
            verified: out.verification.as_ref().map(|v| v.passed),
            ..Default::default()
        };
        self.with_store(|s| Ok(chat::add(s, &answer)?))
    }
}
