//! The hand-written MiniLM against reference values, and the training paths, on the real encoder files.

use complexitynet_classifier::bert::{cosine, Encoder};
use complexitynet_classifier::neural::{self, FinetuneParams, HeadParams};
use complexitynet_classifier::tfidf::balanced_weights;
use complexitynet_providers::CancellationToken;
use complexitynet_verify::testing::test_models;

fn dir() -> std::path::PathBuf {
    let d = test_models().join("all-MiniLM-L6-v2");
    assert!(d.join("model.safetensors").is_file(), "MiniLM is not in {} (scripts/fetch-models.sh)", d.display());
    d
}

#[test]
fn embeddings_match_the_reference_implementation() {
    let enc = Encoder::load(&dir()).unwrap();
    assert_eq!(enc.sha256, complexitynet_classifier::bert::WEIGHTS_SHA256);
    let texts = ["The cat sat on the mat.", "A kitten is resting on a rug.", "Stock markets fell sharply today."];
    let e = enc.embed(&texts).unwrap();
    assert_eq!(e[0].len(), 384);
    // Reference figures: candle-transformers' BertModel on the same files, mean pooling, L2 norm
    // (shared/notes/build-recipes.md §4): 0.608 and 0.042.
    let (close, far) = (cosine(&e[0], &e[1]), cosine(&e[0], &e[2]));
    assert!((close - 0.608).abs() < 0.002, "cos(cat, kitten) = {close}");
    assert!((far - 0.042).abs() < 0.002, "cos(cat, stocks) = {far}");
    for v in &e {
        assert!((v.iter().map(|x| x * x).sum::<f32>().sqrt() - 1.0).abs() < 1e-4, "unit length");
    }
    // Padding must not change an embedding: one at a time equals the padded batch.
    for (i, t) in texts.iter().enumerate() {
        let one = enc.embed(&[t]).unwrap().remove(0);
        let diff = one.iter().zip(&e[i]).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(diff < 1e-4, "text {i}: batch and single differ by {diff}");
    }
}

#[test]
fn a_missing_encoder_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = Encoder::load(tmp.path()).err().expect("no files, no encoder");
    let msg = err.to_string();
    assert_eq!(err.code(), complexitynet_errors::ErrorCode::EncoderMissing);
    assert!(msg.contains("config.json is missing") && msg.contains("fetch-encoder"), "{msg}");
}

#[test]
fn fine_tuning_moves_the_encoder_and_fits_a_small_task() {
    let d = dir();
    let texts = [
        "Write a function to add two numbers.",
        "Write a function to reverse a string.",
        "Write a function to return the length of a list.",
        "Write a function to compute the edit distance of two strings with dynamic programming.",
        "Write a function to find the longest increasing subsequence using dynamic programming.",
        "Write a function to count the ways to partition a set, using dynamic programming.",
    ];
    let classes = [0, 0, 0, 1, 1, 1];
    let w = balanced_weights(&classes, 2);
    let frozen = Encoder::load(&d).unwrap();
    let x = frozen.embed(&texts).unwrap();
    let start =
        neural::train_head(&x, &classes, 2, &w, HeadParams { epochs: 20, ..Default::default() }, None, |_| {}).unwrap();
    let (enc, vars) = Encoder::load_trainable(&d, true).unwrap();
    let before = vars[0].as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let mut losses = Vec::new();
    let p = FinetuneParams { epochs: 4, batch: 3, encoder_lr: 1e-4, head_lr: 5e-3, seed: 1, token_table: true };
    let texts_ref: Vec<&str> = texts.to_vec();
    let head = neural::finetune(
        &enc,
        vars.clone(),
        &start,
        &texts_ref,
        &classes,
        &w,
        p,
        None,
        &CancellationToken::new(),
        |e| losses.push(e.loss),
    )
    .unwrap();
    let after = vars[0].as_tensor().flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let moved = before.iter().zip(&after).filter(|(a, b)| a != b).count();
    assert!(moved > 0, "the encoder's weights were updated");
    assert!(losses.last().unwrap() < losses.first().unwrap(), "loss falls: {losses:?}");
    let e = enc.frozen().unwrap().embed(&texts).unwrap();
    let probs = neural::predict_rows(&head, &e).unwrap();
    let right = probs.iter().zip(&classes).filter(|(p, &c)| complexitynet_classifier::metrics::argmax(p) == c).count();
    assert_eq!(right, 6, "it fits its training set: {probs:?}");
}
