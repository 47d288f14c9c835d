//! Recorded answers and tests files: the inputs `verify --answers` and `verify --tests` read, all or nothing, a bad
//! line named by file and line.

use serde::{Deserialize, Serialize};

/// A recorded model answer (`task_id, model, trial, output`), as in `../shared/data/recorded/`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub task_id: String,
    pub model: String,
    pub trial: u32,
    /// The raw answer text; `null` in the file (a model that returned nothing) reads as empty.
    pub output: String,
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("{}:{line}: {problem}", file.display())]
    AnswersMalformed { file: std::path::PathBuf, line: usize, problem: String },
    #[error("cannot read {}: {source}", file.display())]
    Unreadable {
        file: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: no assert statements (one `assert …` per line expected)", file.display())]
    NoTests { file: std::path::PathBuf },
}

impl VerifyError {
    pub fn code(&self) -> complexitynet_errors::ErrorCode {
        match self {
            VerifyError::AnswersMalformed { .. } | VerifyError::NoTests { .. } => {
                complexitynet_errors::ErrorCode::DatasetMalformed
            }
            VerifyError::Unreadable { .. } => complexitynet_errors::ErrorCode::DatasetUnreadable,
        }
    }
}

/// Reads a JSONL file of recorded answers. All or nothing: a bad line is an error naming file and line.
pub fn read_answers(file: &std::path::Path) -> Result<Vec<Answer>, VerifyError> {
    let text = std::fs::read_to_string(file).map_err(|source| VerifyError::Unreadable { file: file.into(), source })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |problem: String| VerifyError::AnswersMalformed { file: file.into(), line: i + 1, problem };
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| bad(format!("invalid JSON: {e}")))?;
        let task_id = match &v["task_id"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => return Err(bad("missing or invalid field \"task_id\"".into())),
        };
        let model = v["model"].as_str().ok_or_else(|| bad("missing field \"model\"".into()))?.to_owned();
        let trial = v["trial"].as_u64().unwrap_or(0) as u32;
        let output = match &v["output"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            _ => return Err(bad("field \"output\" must be a string or null".into())),
        };
        out.push(Answer { task_id, model, trial, output });
    }
    Ok(out)
}

/// Reads a tests file: one `assert` statement per line (blank lines and `#` comments skipped).
pub fn read_tests(file: &std::path::Path) -> Result<Vec<String>, VerifyError> {
    let text = std::fs::read_to_string(file).map_err(|source| VerifyError::Unreadable { file: file.into(), source })?;
    let mut tests = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        if !t.starts_with("assert") {
            return Err(VerifyError::AnswersMalformed {
                file: file.into(),
                line: i + 1,
                problem: format!("not an assert statement: {t:?}"),
            });
        }
        tests.push(t.to_owned());
    }
    if tests.is_empty() {
        return Err(VerifyError::NoTests { file: file.into() });
    }
    Ok(tests)
}
