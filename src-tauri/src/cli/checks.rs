//! `complexitynet checks`: the checks a prompt shows (its examples read as asserts), one prompt or a JSONL file of
//! them; exit 0 also when a prompt shows none.

use clap::Args;
use complexitynet_core::types::Checks;
use complexitynet_core::AppError;
use std::path::PathBuf;

use super::Ctx;

#[derive(Debug, Args)]
pub struct ChecksArgs {
    /// The prompt (or use --file)
    #[arg(required_unless_present = "file")]
    pub prompt: Option<String>,
    /// A JSONL file of prompts (`{"id": …, "prompt": …}` per line): one result per line out, in order
    #[arg(long, value_name = "FILE.jsonl", conflicts_with = "prompt")]
    pub file: Option<PathBuf>,
}

fn describe(c: &Checks) -> String {
    let mut s =
        format!("entry point: {}\n", c.entry_point.as_deref().unwrap_or("(none: a program judged by its output)"));
    if c.is_empty() {
        s.push_str("no checks: the prompt shows no examples to run an answer against\n");
    } else {
        s.push_str(&format!("{}:\n", c.describe()));
        for i in &c.items {
            s.push_str(&format!("  [{}] {}\n", i.kind.label(), i.code.replace('\n', "\n      ")));
            if i.source != i.code {
                s.push_str(&format!("      from: {}\n", i.source.replace('\n', "\n            ")));
            }
        }
    }
    s
}

pub fn run(args: ChecksArgs, ctx: &Ctx) -> Result<(), AppError> {
    let Some(file) = &args.file else {
        let c = ctx.app.prompt_checks(args.prompt.as_deref().unwrap_or_default());
        ctx.emit(&c, || describe(&c));
        return Ok(());
    };
    for p in ctx.app.prompt_checks_file(file)? {
        if ctx.json {
            super::out(&format!("{}\n", serde_json::to_string(&p).map_err(|e| AppError::internal(e.to_string()))?));
        } else {
            super::out(&format!("[{}] {}\n", p.id, describe(&p.checks)));
        }
    }
    Ok(())
}
