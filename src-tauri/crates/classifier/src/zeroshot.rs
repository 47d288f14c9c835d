//! The paper's non-fine-tuned baseline: ask an LLM tier to rate a task's level, with the rule's level meanings
//! spelled out. The answer's first level number is the prediction; an answer without one counts as the middle
//! level (and is counted, so a tier that cannot follow the format shows up in the report, not as luck).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use complexitynet_providers::{CancellationToken, GenParams, Message, Price, Provider, Request};
use complexitynet_router::label::Rule;

use crate::error::Result;

pub struct ZeroShot {
    pub tier: String,
    pub model: String,
    pub provider: Arc<dyn Provider>,
    pub levels: Vec<u32>,
    pub rule: Rule,
    /// Answers that named no level.
    pub unparsed: AtomicUsize,
}

fn meaning(rule: &Rule, level: u32, k: usize) -> String {
    match rule {
        Rule::Single3 => match level {
            0 => "the small local model (Code Llama 7B class) solves it".into(),
            1 => "a mid-size model (GPT-3.5 class) is needed".into(),
            _ => "only the strongest model (GPT-4 class) solves it".into(),
        },
        Rule::Paper5 { .. } => match level {
            1 => "trivial: a small local model solves it reliably".into(),
            2 => "easy: a mid-size model solves it reliably".into(),
            3 => "moderate: only the strongest model solves it reliably".into(),
            4 => "hard: even strong models succeed only sometimes".into(),
            _ => "very hard: models rarely solve it".into(),
        },
        Rule::Threshold { .. } if (level as usize) <= k => {
            format!("tier {level} of {k} is the cheapest that solves it")
        }
        Rule::Threshold { .. } => "no tier solves it reliably".into(),
    }
}

/// The rating prompt for a task.
pub fn prompt(rule: &Rule, levels: &[u32], task: &str) -> Vec<Message> {
    let k = levels.len().saturating_sub(1);
    let scale: Vec<String> = levels.iter().map(|&l| format!("{l}: {}", meaning(rule, l, k))).collect();
    vec![
        Message::system(
            "You rate the difficulty of Python programming tasks for routing them to language models. \
             Answer with the level number only.",
        ),
        Message::user(format!(
            "Levels:\n{}\n\nTask:\n{}\n\nLevel ({}-{}):",
            scale.join("\n"),
            task.trim(),
            levels.first().unwrap_or(&0),
            levels.last().unwrap_or(&0)
        )),
    ]
}

/// The first level number in an answer.
pub fn parse_level(answer: &str, levels: &[u32]) -> Option<u32> {
    answer
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse::<u32>().ok())
        .find(|l| levels.contains(l))
}

impl ZeroShot {
    pub async fn predict_one(&self, text: &str, cancel: &CancellationToken) -> Result<Vec<f32>> {
        let req = Request {
            model: self.model.clone(),
            messages: prompt(&self.rule, &self.levels, text),
            params: GenParams { temperature: 0.0, max_tokens: 4, ..Default::default() },
            stream: false,
            price: Price::default(),
            ..Default::default()
        };
        let c = self.provider.generate(&req, &|_| {}, cancel).await?;
        let level = parse_level(&c.text, &self.levels).unwrap_or_else(|| {
            self.unparsed.fetch_add(1, Ordering::Relaxed);
            self.levels[self.levels.len() / 2]
        });
        // A rating is a single draw, not a distribution: the named level gets the mass.
        Ok(self.levels.iter().map(|&l| if l == level { 1.0 } else { 0.0 }).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_valid_level_is_taken() {
        let l = [1, 2, 3, 4, 5];
        assert_eq!(parse_level("3", &l), Some(3));
        assert_eq!(parse_level("Level: 4.", &l), Some(4));
        assert_eq!(parse_level("I'd say 7... no, 2", &l), Some(2));
        assert_eq!(parse_level("hard", &l), None);
        let p = prompt(&Rule::Single3, &[0, 1, 2], "Write a function to add two numbers.");
        assert!(p[1].content.contains("0: the small local model") && p[1].content.ends_with("Level (0-2):"));
    }
}
