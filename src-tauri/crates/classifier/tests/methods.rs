//! Every method through the one training interface: the cloud fine-tune against the wire-format server, the
//! zero-shot rater against an OpenAI-compatible tier, and the local methods on MBPP prompts.

use std::sync::{Arc, Mutex};

use complexitynet_classifier::openai::{is_legacy, training_jsonl, FineTuneClient, JobUpdate};
use complexitynet_classifier::testing::{FineTuneServer, TEST_KEY};
use complexitynet_classifier::train::{self, Event, OpenAiOptions, Options};
use complexitynet_classifier::zeroshot::ZeroShot;
use complexitynet_classifier::{Example, LabeledSet, Method};
use complexitynet_errors::ErrorCode;
use complexitynet_providers::http::CloudConfig;
use complexitynet_providers::keys::Secret;
use complexitynet_providers::openai::OpenAiCompatible;
use complexitynet_providers::testing::{openai_json, ChatServer};
use complexitynet_providers::CancellationToken;
use complexitynet_router::label::Rule;
use complexitynet_verify::testing::shared_data;

/// MBPP prompts with arbitrary levels (from the prompt length), enough to exercise the plumbing.
fn mbpp_set(n: usize) -> LabeledSet {
    let text = std::fs::read_to_string(shared_data().join("mbpp.jsonl")).unwrap();
    let examples = text
        .lines()
        .take(n)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let prompt = v["text"].as_str().unwrap().to_owned();
            let level = ((prompt.len() / 10) % 3) as u32;
            Example {
                task_id: v["task_id"].to_string(),
                prompt,
                level,
                counts: vec![],
                trials: vec![],
                asserts: vec![],
            }
        })
        .collect();
    LabeledSet { source: "mbpp-test".into(), rule: Rule::Single3, levels: vec![0, 1, 2], examples, tiers: vec![] }
}

fn client(server: &FineTuneServer, key: &str) -> Arc<FineTuneClient> {
    let mut c = FineTuneClient::new(&server.url(), Some(Secret::new(key)));
    c.poll = std::time::Duration::from_millis(5);
    Arc::new(c)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn openai_opts(server: &FineTuneServer, base: &str, folds: usize) -> Options {
    let mut o = Options::new(Method::OpenAi, "/nonexistent".into());
    o.folds = folds;
    o.openai = Some(OpenAiOptions { client: client(server, TEST_KEY), base_model: base.into() });
    o
}

#[test]
fn the_cloud_fine_tune_uploads_runs_follows_and_classifies_over_the_wire() {
    let server = FineTuneServer::start();
    server.rate_limit_next_upload(); // the first upload gets a 429 with Retry-After: 0 and is retried
    let set = mbpp_set(60);
    let events = Mutex::new(Vec::new());
    let progress = |e: Event| events.lock().unwrap().push(e);
    let out = rt()
        .block_on(train::run(
            &set,
            &openai_opts(&server, "gpt-4o-mini-2024-07-18", 2),
            &progress,
            &CancellationToken::new(),
        ))
        .unwrap();
    // split + 2 folds + final = 4 jobs, each a real upload/create/poll cycle.
    assert_eq!(out.report.jobs.len(), 4, "{:?}", out.report.jobs);
    assert!(out.report.jobs.iter().all(|j| j.status == "succeeded"));
    let model = out.fine_tuned_model.clone().unwrap();
    assert!(model.starts_with("ft:gpt-4o-mini-2024-07-18:personal:cnet-single3-"), "{model}");
    let reqs = server.requests();
    let uploads: Vec<_> = reqs.iter().filter(|r| r.head.starts_with("POST /v1/files")).collect();
    assert_eq!(uploads.len(), 5, "4 uploads + 1 retried after the 429");
    assert!(uploads[0].head.to_lowercase().contains("multipart/form-data; boundary="));
    assert!(uploads[1].body.contains("name=\"purpose\"") && uploads[1].body.contains("fine-tune"));
    let create = reqs.iter().find(|r| r.head.starts_with("POST /v1/fine_tuning/jobs ")).unwrap().json();
    assert_eq!(create["model"], "gpt-4o-mini-2024-07-18");
    assert!(create["training_file"].as_str().unwrap().starts_with("file-"));
    let ev = events.lock().unwrap();
    let statuses: Vec<String> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Job { update: JobUpdate::Status { status, .. }, .. } => Some(status.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(&statuses[..3], ["validating_files", "running", "succeeded"]);
    assert!(ev.iter().any(|e| matches!(e, Event::Job { update: JobUpdate::Event { event, .. }, .. }
        if event.message.starts_with("New fine-tuned model created"))));
    // Classification asked for one token with logprobs; the final model memorised its training file, so it
    // predicts every training prompt right (and a held-out prompt gets its majority level).
    let chat = reqs.iter().find(|r| r.head.starts_with("POST /v1/chat/completions")).unwrap().json();
    assert_eq!(
        (chat["max_tokens"].as_u64(), chat["logprobs"].as_bool(), chat["top_logprobs"].as_u64()),
        (Some(1), Some(true), Some(5))
    );
    let prompts: Vec<&str> = set.examples.iter().map(|e| e.prompt.as_str()).collect();
    let probs = rt().block_on(out.model.predict(&set.levels, &prompts[..10], &CancellationToken::new())).unwrap();
    for (p, e) in probs.iter().zip(&set.examples) {
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        assert_eq!(set.levels[complexitynet_classifier::metrics::argmax(p)], e.level, "{p:?}");
    }
    assert_eq!(out.report.split.n, 12);
}

#[test]
fn the_legacy_davinci_format_is_prompt_completion_and_uses_the_completions_endpoint() {
    assert!(is_legacy("davinci-002") && is_legacy("ft:babbage-002:x::y") && !is_legacy("gpt-4o-mini"));
    let set = mbpp_set(30);
    let refs: Vec<&Example> = set.examples.iter().collect();
    let line: serde_json::Value =
        serde_json::from_str(training_jsonl(&refs, "davinci-002").lines().next().unwrap()).unwrap();
    assert!(
        line["prompt"].as_str().unwrap().ends_with("\n\nLevel:")
            && line["completion"].as_str().unwrap().starts_with(' ')
    );
    let server = FineTuneServer::start();
    let out = rt()
        .block_on(train::run(&set, &openai_opts(&server, "davinci-002", 0), &|_| {}, &CancellationToken::new()))
        .unwrap();
    assert!(out.fine_tuned_model.unwrap().starts_with("ft:davinci-002:"));
    let reqs = server.requests();
    let c = reqs.iter().find(|r| r.head.starts_with("POST /v1/completions")).expect("the completions endpoint").json();
    assert_eq!(c["logprobs"].as_u64(), Some(5));
}

#[test]
fn a_failed_job_a_bad_key_and_a_cancel_are_reported() {
    let server = FineTuneServer::start();
    server.fail_jobs();
    let set = mbpp_set(30);
    let err = rt()
        .block_on(train::run(&set, &openai_opts(&server, "gpt-4o-mini", 0), &|_| {}, &CancellationToken::new()))
        .err()
        .unwrap();
    assert_eq!(err.code(), ErrorCode::FineTuneFailed);
    assert!(err.to_string().contains("failed: Training file has too few examples per class"), "{err}");

    let server = FineTuneServer::start();
    let mut o = openai_opts(&server, "gpt-4o-mini", 0);
    o.openai.as_mut().unwrap().client = client(&server, "sk-wrong");
    let err = rt().block_on(train::run(&set, &o, &|_| {}, &CancellationToken::new())).err().unwrap();
    assert_eq!(err.code(), ErrorCode::ProviderAuth, "{err}");
    assert!(!err.to_string().contains("sk-wrong"), "the key never shows in an error");

    // Cancelling while the job runs cancels it on the provider's side too.
    let server = FineTuneServer::start();
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let progress = move |e: Event| {
        if matches!(e, Event::Job { update: JobUpdate::Status { ref status, .. }, .. } if status == "validating_files")
        {
            c2.cancel();
        }
    };
    let err =
        rt().block_on(train::run(&set, &openai_opts(&server, "gpt-4o-mini", 0), &progress, &cancel)).err().unwrap();
    assert_eq!(err.code(), ErrorCode::Cancelled);
    assert_eq!(server.job_status("ftjob-1").as_deref(), Some("cancelled"));
}

#[test]
fn a_bad_training_file_is_refused_with_the_servers_reason() {
    let server = FineTuneServer::start();
    let c = client(&server, TEST_KEY);
    let err =
        rt().block_on(c.upload("{\"messages\": []}\nnot json\n", "x.jsonl", &CancellationToken::new())).err().unwrap();
    assert!(err.to_string().contains("line 1: missing user/assistant"), "{err}");
}

#[test]
fn zero_shot_rates_through_a_tier_and_counts_unusable_answers() {
    // Ten tasks, two rounds of rating would be twenty calls; the rater asks each task once.
    let set = mbpp_set(10);
    let mut set = set;
    for (i, e) in set.examples.iter_mut().enumerate() {
        e.level = (i % 3) as u32 % 3;
    }
    let answers = ["0", "Level: 1", "2", "hard", "0", "1", "2", "0", "1", "2"];
    let server = ChatServer::start(answers.iter().map(|a| openai_json(a, 50, 1)).collect());
    let provider =
        OpenAiCompatible::new(CloudConfig::new("fake", &format!("{}/v1", server.url()), Some(Secret::new("sk-x"))));
    let z = Arc::new(ZeroShot {
        tier: "fake".into(),
        model: "gpt-test".into(),
        provider: Arc::new(provider),
        levels: vec![0, 1, 2],
        rule: Rule::Single3,
        unparsed: Default::default(),
    });
    let mut o = Options::new(Method::ZeroShot, "/nonexistent".into());
    o.folds = 0;
    o.zero_shot = Some(z);
    let mut small = set.clone();
    small.examples.truncate(10);
    // With 10 examples and 3 levels, the 80/20 split holds out one per level.
    let out = rt().block_on(train::run(&small, &o, &|_| {}, &CancellationToken::new())).unwrap();
    assert_eq!(server.requests().len(), 10, "each task is rated once");
    assert_eq!(out.report.unparsed, 1, "\"hard\" names no level");
    let first = server.requests()[0].json();
    assert!(first["messages"][1]["content"].as_str().unwrap().contains("Levels:\n0: the small local model"));
    assert_eq!(first["temperature"].as_f64(), Some(0.0));
}
