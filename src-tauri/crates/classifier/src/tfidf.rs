//! The classical baseline: TF-IDF over word unigrams and bigrams, and a multinomial logistic regression with
//! class weights and L2 regularisation. The learned methods must beat this to earn their keep.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Words (letters, digits, underscore), lowercased; plus adjacent-word bigrams.
fn terms(text: &str) -> Vec<String> {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut out = words.clone();
    out.extend(words.windows(2).map(|w| format!("{} {}", w[0], w[1])));
    out
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Tfidf {
    pub vocab: HashMap<String, u32>,
    pub idf: Vec<f32>,
    /// [level][term]
    pub weights: Vec<Vec<f32>>,
    pub bias: Vec<f32>,
}

/// Sparse L2-normalised TF-IDF vector: (term index, value).
type Sparse = Vec<(u32, f32)>;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct TfidfParams {
    /// Terms in fewer documents than this are ignored (they cannot generalise).
    pub min_df: usize,
    /// L2 strength on the mean loss.
    pub l2: f32,
    pub iterations: usize,
    pub learning_rate: f32,
}

impl Default for TfidfParams {
    fn default() -> Self {
        TfidfParams { min_df: 2, l2: 1e-3, iterations: 300, learning_rate: 0.1 }
    }
}

impl Tfidf {
    fn vectorize(&self, text: &str) -> Sparse {
        let mut tf: HashMap<u32, f32> = HashMap::new();
        for t in terms(text) {
            if let Some(&i) = self.vocab.get(&t) {
                *tf.entry(i).or_default() += 1.0;
            }
        }
        let mut v: Sparse = tf.into_iter().map(|(i, c)| (i, (1.0 + c.ln()) * self.idf[i as usize])).collect();
        v.sort_unstable_by_key(|&(i, _)| i);
        let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|(_, x)| *x /= norm);
        }
        v
    }

    fn logits(&self, x: &Sparse) -> Vec<f32> {
        self.bias
            .iter()
            .zip(&self.weights)
            .map(|(b, w)| b + x.iter().map(|&(i, v)| w[i as usize] * v).sum::<f32>())
            .collect()
    }

    // Adam updates several parallel arrays element by element; indices read clearer than zipped iterators.
    #[allow(clippy::needless_range_loop)]
    /// Fits on texts with class indices (0..k) and per-class weights; `progress(iteration, loss, accuracy)`.
    pub fn fit(
        texts: &[&str],
        classes: &[usize],
        k: usize,
        class_weights: &[f32],
        p: TfidfParams,
        mut progress: impl FnMut(usize, f32, f32),
    ) -> Tfidf {
        let mut df: HashMap<String, usize> = HashMap::new();
        for t in texts {
            let mut seen: Vec<String> = terms(t);
            seen.sort();
            seen.dedup();
            for s in seen {
                *df.entry(s).or_default() += 1;
            }
        }
        let mut kept: Vec<(String, usize)> = df.into_iter().filter(|(_, d)| *d >= p.min_df).collect();
        kept.sort(); // a stable vocabulary order: same data, same model file
        let n = texts.len() as f32;
        let idf: Vec<f32> = kept.iter().map(|(_, d)| ((1.0 + n) / (1.0 + *d as f32)).ln() + 1.0).collect();
        let vocab: HashMap<String, u32> = kept.into_iter().enumerate().map(|(i, (t, _))| (t, i as u32)).collect();
        let d = idf.len();
        let mut model = Tfidf { vocab, idf, weights: vec![vec![0.0; d]; k], bias: vec![0.0; k] };
        let xs: Vec<Sparse> = texts.iter().map(|t| model.vectorize(t)).collect();
        let wsum: f32 = classes.iter().map(|&c| class_weights[c]).sum::<f32>().max(1e-9);
        // Adam on the full batch: a few hundred steps converge on a few thousand features.
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        let mut m = vec![vec![0.0f32; d + 1]; k];
        let mut v = vec![vec![0.0f32; d + 1]; k];
        for it in 1..=p.iterations {
            let mut grad = vec![vec![0.0f32; d + 1]; k];
            let (mut loss, mut correct) = (0.0f32, 0usize);
            for (x, &c) in xs.iter().zip(classes) {
                let probs = softmax(&model.logits(x));
                let w = class_weights[c] / wsum;
                loss -= w * probs[c].max(1e-12).ln();
                correct += (crate::metrics::argmax(&probs) == c) as usize;
                for j in 0..k {
                    let g = w * (probs[j] - (j == c) as u8 as f32);
                    for &(i, val) in x {
                        grad[j][i as usize] += g * val;
                    }
                    grad[j][d] += g;
                }
            }
            for j in 0..k {
                for i in 0..d {
                    grad[j][i] += p.l2 * model.weights[j][i];
                    loss += 0.5 * p.l2 * model.weights[j][i] * model.weights[j][i];
                }
                for i in 0..=d {
                    m[j][i] = b1 * m[j][i] + (1.0 - b1) * grad[j][i];
                    v[j][i] = b2 * v[j][i] + (1.0 - b2) * grad[j][i] * grad[j][i];
                    let mh = m[j][i] / (1.0 - b1.powi(it as i32));
                    let vh = v[j][i] / (1.0 - b2.powi(it as i32));
                    let step = p.learning_rate * mh / (vh.sqrt() + eps);
                    if i < d {
                        model.weights[j][i] -= step;
                    } else {
                        model.bias[j] -= step;
                    }
                }
            }
            progress(it, loss, correct as f32 / xs.len().max(1) as f32);
        }
        model
    }

    pub fn predict(&self, text: &str) -> Vec<f32> {
        softmax(&self.logits(&self.vectorize(text)))
    }
}

pub fn softmax(z: &[f32]) -> Vec<f32> {
    let m = z.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = z.iter().map(|v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.into_iter().map(|v| v / s).collect()
}

/// Balanced class weights (n / (k · count)), as scikit-learn's `class_weight="balanced"`; a class with no
/// examples gets weight 0.
pub fn balanced_weights(classes: &[usize], k: usize) -> Vec<f32> {
    let mut counts = vec![0usize; k];
    for &c in classes {
        counts[c] += 1;
    }
    let present = counts.iter().filter(|&&c| c > 0).count().max(1);
    counts.iter().map(|&c| if c == 0 { 0.0 } else { classes.len() as f32 / (present as f32 * c as f32) }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_learns_a_separable_vocabulary_and_generalises_to_unseen_text() {
        let texts = [
            "reverse a string",
            "add two numbers",
            "reverse the words of a string",
            "add the numbers of a list",
            "find the longest palindromic subsequence with dynamic programming",
            "dynamic programming to count the ways to partition a set",
            "find the longest common subsequence with dynamic programming",
            "count partitions of an integer with dynamic programming",
        ];
        let classes = [0, 0, 0, 0, 1, 1, 1, 1];
        let w = balanced_weights(&classes, 2);
        let m = Tfidf::fit(&texts, &classes, 2, &w, TfidfParams { min_df: 1, ..Default::default() }, |_, _, _| {});
        let p = m.predict("use dynamic programming for the knapsack problem");
        assert!(p[1] > 0.8, "{p:?}");
        let p = m.predict("reverse a list of numbers");
        assert!(p[0] > 0.8, "{p:?}");
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn balanced_weights_equalise_the_classes() {
        let w = balanced_weights(&[0, 0, 0, 1], 3);
        assert_eq!(w, vec![4.0 / 6.0, 2.0, 0.0]);
    }
}
