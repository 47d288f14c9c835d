//! Checks for prompts: the ones a prompt shows (`complexitynet checks`, the chat before it sends), and ones a tier
//! proposes when it shows none (the chat's "Add checks"): example calls with expected values written **from the
//! prompt alone** — the tier never sees an answer — for the user to edit and accept. A model's guess about its own
//! answer is not a check; the prompt's examples and the user's are.

use std::io::BufRead;
use std::path::Path;

use complexitynet_engine::tiers as table;
use complexitynet_engine::ErrorCode;
use complexitynet_providers::{CancellationToken, GenParams, Message, Request};
use complexitynet_verify::checks::{CheckItem, CheckKind, Checks};
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::providers::Priced;
use crate::{App, AppError, Result};

/// One line of a prompts file (`{"id": …, "prompt": "…"}`), as `route --file` and `checks --file` read them.
#[derive(Debug, Clone, Deserialize)]
pub struct PromptLine {
    pub id: serde_json::Value,
    pub prompt: String,
}

/// A prompt's checks, for `checks --file`.
#[derive(Debug, Clone, Serialize)]
pub struct PromptChecks {
    pub id: serde_json::Value,
    #[serde(flatten)]
    pub checks: Checks,
}

/// Reads a JSONL file of prompts. All or nothing: a bad line is an error naming the file and the line, before
/// any prompt is used.
pub fn read_prompts(file: &Path) -> Result<Vec<PromptLine>> {
    let unreadable =
        |e: std::io::Error| AppError::new(ErrorCode::DatasetUnreadable, format!("cannot read {}: {e}", file.display()));
    let reader = std::io::BufReader::new(std::fs::File::open(file).map_err(unreadable)?);
    let mut lines = Vec::new();
    for (i, l) in reader.lines().enumerate() {
        let l = l.map_err(unreadable)?;
        if l.trim().is_empty() {
            continue;
        }
        let line: PromptLine = serde_json::from_str(&l).map_err(|e| {
            AppError::new(
                ErrorCode::DatasetMalformed,
                format!("{}:{}: {e} (each line is {{\"id\": …, \"prompt\": \"…\"}})", file.display(), i + 1),
            )
        })?;
        lines.push(line);
    }
    Ok(lines)
}

/// The instruction a tier gets to propose checks: the task, and a request for example calls with their exact
/// results, never a solution.
fn proposal_prompt(prompt: &str, entry: Option<&str>) -> String {
    let function = entry.map(|e| format!("`{e}`")).unwrap_or_else(|| "the function it asks for".into());
    format!(
        "You write test cases for a programming task before anyone solves it. Read the task below and write 3 to 5 \
         example calls of {function}, each as one Python assert statement with the exact expected result, for \
         example:\nassert {}(ARGUMENTS) == EXPECTED\nUse only what the task states; cover an ordinary case and an \
         edge case. Do not write the solution. Reply with the assert lines only.\n\nTask:\n{prompt}",
        entry.unwrap_or("function_name")
    )
}

impl App {
    /// The checks a prompt shows (empty when it shows none).
    pub fn prompt_checks(&self, prompt: &str) -> Checks {
        Checks::from_prompt(prompt)
    }

    /// The checks of every prompt of a JSONL file, in order.
    pub fn prompt_checks_file(&self, file: &Path) -> Result<Vec<PromptChecks>> {
        Ok(read_prompts(file)?
            .into_iter()
            .map(|l| PromptChecks { checks: Checks::from_prompt(&l.prompt), id: l.id })
            .collect())
    }

    /// Asks `tier` (default: the first tier, the local one) to propose checks for a prompt that shows none: example
    /// calls with expected values from the prompt alone. Only valid asserts that call the prompt's function are
    /// kept; each comes back as a [`CheckKind::Proposed`] check for the user to edit and accept. The call is
    /// recorded like any other.
    pub async fn propose_checks(&self, prompt: &str, tier: Option<&str>) -> Result<Vec<CheckItem>> {
        if prompt.trim().is_empty() {
            return Err(AppError::invalid("the prompt is empty"));
        }
        let tiers = self.with_store(|s| Ok(table::tiers(s)?))?;
        let name = match tier {
            Some(t) => t.to_owned(),
            None => tiers.first().map(|t| t.name.clone()).ok_or_else(|| AppError::invalid("no tiers are set up"))?,
        };
        let (tier, prov) = self.with_store(|s| Ok(table::resolve(s, &name)?))?;
        let provider = self.provider(&tier, &prov)?;
        let entry = Checks::from_prompt(prompt).entry_point;
        let request = Request {
            model: tier.model.clone(),
            messages: vec![Message::user(proposal_prompt(prompt, entry.as_deref()))],
            params: GenParams { temperature: 0.0, max_tokens: 400, ..GenParams::default() },
            stream: false,
            price: tier.price(),
            ..Default::default()
        };
        let span = tracing::info_span!("propose_checks", tier = %tier.name);
        let result = provider.generate(&request, &|_| {}, &CancellationToken::new()).instrument(span).await;
        let ledger = complexitynet_engine::ledger::Entry {
            units: tier.paper_units,
            ..complexitynet_engine::ledger::Entry::of("checks")
        };
        self.record(&tier, &prov, &result, ledger);
        let reply = result?.text;
        Ok(proposed_from_reply(&reply, entry.as_deref()))
    }
}

/// The asserts of a tier's reply that are checks of `entry` (all of its asserts when the prompt names no function).
fn proposed_from_reply(reply: &str, entry: Option<&str>) -> Vec<CheckItem> {
    let found = Checks::from_prompt(reply);
    found
        .items
        .into_iter()
        .filter(|i| matches!(i.kind, CheckKind::Assert | CheckKind::Doctest | CheckKind::Example))
        .filter(|i| {
            entry.is_none_or(|e| {
                complexitynet_verify::derive_entry_point(std::slice::from_ref(&i.code), None).is_ok_and(|p| p.name == e)
            })
        })
        .map(|i| CheckItem { kind: CheckKind::Proposed, source: i.source, code: i.code })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proposal_keeps_the_asserts_of_the_prompts_function_only() {
        let reply = "Here you go:\n```python\nassert add(1, 2) == 3\nassert add(-1, 1) == 0\nassert other(1) == 2\nassert add(1,\n```";
        let got = proposed_from_reply(reply, Some("add"));
        let codes: Vec<&str> = got.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, vec!["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]);
        assert!(got.iter().all(|c| c.kind == CheckKind::Proposed));
    }

    #[test]
    fn the_proposal_prompt_asks_for_examples_not_a_solution() {
        let p = proposal_prompt("Write add(a, b).", Some("add"));
        assert!(p.contains("Do not write the solution") && p.contains("assert add(ARGUMENTS) == EXPECTED"), "{p}");
        assert!(p.ends_with("Task:\nWrite add(a, b)."));
    }
}
