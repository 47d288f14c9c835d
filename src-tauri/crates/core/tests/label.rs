//! Label runs through the core: each stored trial says which reading of its answer ran.

use std::sync::Arc;

use complexitynet_core::label::LabelRequest;
use complexitynet_core::App;
use complexitynet_engine::paths::DataDir;
use complexitynet_providers::keys::MemoryStore;
use complexitynet_verify::testing::shared_data;

#[test]
fn every_stored_trial_records_what_of_its_answer_ran() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(DataDir::at(dir.path()), Arc::new(MemoryStore::default()));
    app.import_dataset(&shared_data().join("mbpp.jsonl"), None, Some("mbpp"), false).unwrap();
    let req = LabelRequest {
        name: Some("few".into()),
        dataset: "mbpp".into(),
        tiers: ["codellama-7b-python", "gpt-3.5-turbo-1106", "gpt-4-1106-preview"]
            .map(|m| format!("replay:{m}"))
            .to_vec(),
        trials: 1,
        rule: "single3".into(),
        limit: Some(4),
        replay: Some(shared_data().join("recorded/complexitynet-mbpp-outputs.jsonl")),
        ..LabelRequest::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let out = rt.block_on(app.label_run(&req, Arc::new(|_| {}))).unwrap();
    assert_eq!(out.summary.trials_stored, 12);
    let trials = app.label_trials("few", "2").unwrap();
    assert_eq!(trials.len(), 3);
    for t in &trials {
        let e = t.extraction.as_ref().expect("the extraction is stored with the trial");
        assert!(!e.candidate.is_empty(), "{t:?}");
        assert!(e.kept.iter().any(|k| k.starts_with("def similar_elements")), "{e:?}");
    }
}

#[test]
fn the_evaluate_tabs_first_step_labels_mbpp_from_the_papers_recorded_answers() {
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(DataDir::at(dir.path()), Arc::new(MemoryStore::default()));
    app.import_dataset(&shared_data().join("mbpp.jsonl"), None, Some("mbpp"), false).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    // A path that is not a file is named in the error, and nothing is labeled.
    let missing = dir.path().join("nowhere.jsonl");
    let err = rt.block_on(app.label_paper_replay(&missing, Some(3), Arc::new(|_| {}))).unwrap_err();
    assert!(err.to_string().contains("nowhere.jsonl"), "{err}");
    assert!(app.label_runs().unwrap().is_empty());
    let recorded = shared_data().join("recorded/complexitynet-mbpp-outputs.jsonl");
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    let out = rt
        .block_on(app.label_paper_replay(
            &recorded,
            Some(3),
            Arc::new(move |_| {
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }),
        ))
        .unwrap();
    assert_eq!(out.summary.name, "paper-replay");
    assert_eq!(out.summary.trials_stored, 9, "3 tasks x the paper's 3 models");
    assert!(seen.load(std::sync::atomic::Ordering::Relaxed) >= 9, "progress reaches the window");
    let runs = app.label_runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].name, "paper-replay");
}
