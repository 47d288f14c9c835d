//! What a prompt tells before any model answers it: its description, its tests when it carries them, the entry
//! point's name, and some sizes. Only what is there at routing time — a user's prompt in the chat, a request to
//! the server, a dataset task's prompt with its asserts — never the reference solution or an answer.
//!
//! Each part becomes a block of features: TF-IDF over the description's words and word pairs, TF-IDF over
//! character n-grams of the asserts (they show the types involved: floats, nested lists, strings), the entry
//! point's name split into words, and a few standardised counts. Blocks are normalised separately, so a prompt
//! without asserts keeps a well-scaled description block.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use complexitynet_verify::derive_entry_point;

/// A prompt split into the parts the features read.
#[derive(Debug, Clone, PartialEq)]
pub struct PromptParts {
    pub description: String,
    pub asserts: Vec<String>,
    pub entry: String,
}

impl PromptParts {
    /// Splits a prompt: `assert` lines (and `>>>` doctest lines) are its tests, the rest its description; the
    /// entry point is the function the tests call, else the first `def NAME(` in the prompt.
    pub fn of(prompt: &str) -> PromptParts {
        let (mut desc, mut asserts) = (Vec::new(), Vec::new());
        for line in prompt.lines() {
            let t = line.trim();
            if t.starts_with("assert ") || t.starts_with(">>> ") {
                asserts.push(t.to_owned());
            } else {
                desc.push(line);
            }
        }
        let entry = derive_entry_point(&asserts, None)
            .map(|e| e.name)
            .ok()
            .or_else(|| prompt.split("def ").nth(1).and_then(|r| r.split('(').next()).map(|n| n.trim().to_owned()))
            .filter(|n| n.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .unwrap_or_default();
        PromptParts { description: desc.join("\n").trim().to_owned(), asserts, entry }
    }
}

/// Words (letters, digits, underscore), lowercased, and adjacent-word pairs.
fn words(text: &str) -> Vec<String> {
    let w: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut out = w.clone();
    out.extend(w.windows(2).map(|p| format!("{} {}", p[0], p[1])));
    out
}

/// Character n-grams (2–4) inside each whitespace-separated token padded with spaces (scikit-learn's
/// `char_wb`).
fn char_grams(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for tok in text.split_whitespace() {
        let padded: Vec<char> =
            std::iter::once(' ').chain(tok.to_lowercase().chars()).chain(std::iter::once(' ')).collect();
        for n in 2..=4 {
            if padded.len() < n {
                break;
            }
            for w in padded.windows(n) {
                out.push(w.iter().collect());
            }
        }
    }
    out
}

fn name_words(entry: &str) -> Vec<String> {
    entry.split('_').filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

/// A TF-IDF vocabulary for one block.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Vocab {
    pub index: HashMap<String, u32>,
    pub idf: Vec<f32>,
}

impl Vocab {
    fn fit(docs: &[Vec<String>], min_df: usize) -> Vocab {
        let mut df: HashMap<&str, usize> = HashMap::new();
        for d in docs {
            let mut seen: Vec<&str> = d.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for s in seen {
                *df.entry(s).or_default() += 1;
            }
        }
        let mut kept: Vec<(&str, usize)> = df.into_iter().filter(|(_, d)| *d >= min_df).collect();
        kept.sort(); // a stable order: the same data gives the same model file
        let n = docs.len() as f32;
        let idf = kept.iter().map(|(_, d)| ((1.0 + n) / (1.0 + *d as f32)).ln() + 1.0).collect();
        let index = kept.into_iter().enumerate().map(|(i, (t, _))| (t.to_owned(), i as u32)).collect();
        Vocab { index, idf }
    }

    /// The L2-normalised, sublinear TF-IDF vector of a document, its indices offset by `at`.
    fn vector(&self, doc: &[String], at: u32, out: &mut Vec<(u32, f32)>) {
        let mut tf: HashMap<u32, f32> = HashMap::new();
        for t in doc {
            if let Some(&i) = self.index.get(t) {
                *tf.entry(i).or_default() += 1.0;
            }
        }
        let mut v: Vec<(u32, f32)> = tf.into_iter().map(|(i, c)| (i, (1.0 + c.ln()) * self.idf[i as usize])).collect();
        v.sort_unstable_by_key(|&(i, _)| i);
        let norm = v.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        for (i, x) in v {
            out.push((at + i, if norm > 0.0 { x / norm } else { 0.0 }));
        }
    }

    fn len(&self) -> u32 {
        self.idf.len() as u32
    }
}

/// Counts a prompt shows: sizes of the description and the tests, how many tests, what kinds of values they
/// hold (floats, strings, nested lists, dicts, booleans, None), the first test's arguments and expected value.
fn counts(p: &PromptParts) -> Vec<f32> {
    let a = p.asserts.join("\n");
    let n = p.asserts.len().max(1) as f32;
    let first = p.asserts.first().map(String::as_str).unwrap_or("");
    let (lhs, rhs) = first.split_once("==").unwrap_or((first, ""));
    let depth = p.asserts.iter().map(|s| s.chars().filter(|c| matches!(c, '[' | '(' | '{')).count()).max().unwrap_or(0);
    let floats =
        a.as_bytes().windows(3).filter(|w| w[0].is_ascii_digit() && w[1] == b'.' && w[2].is_ascii_digit()).count();
    let count = |s: &str| a.matches(s).count() as f32;
    vec![
        (1.0 + p.description.chars().count() as f32).ln(),
        (1.0 + a.chars().count() as f32).ln(),
        p.asserts.len() as f32,
        (1.0 + rhs.chars().count() as f32).ln(),
        depth as f32 / 10.0,
        if first.is_empty() { 0.0 } else { lhs.matches(',').count() as f32 + 1.0 },
        count(".") / n,
        (count("\"") + count("'")) / n,
        count("True") + count("False"),
        count("[") / n,
        count("{") / n,
        floats as f32 / n,
        p.description.split_whitespace().count() as f32,
        (a.contains("None")) as u8 as f32,
    ]
}

/// Which blocks a feature set uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Blocks {
    /// The description's words only.
    Description,
    /// Everything: description words, assert character n-grams, the entry point's name, counts.
    All,
}

/// A fitted feature map: prompt parts → a sparse vector.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Featurizer {
    pub blocks: Blocks,
    pub description: Vocab,
    pub asserts: Option<Vocab>,
    pub name: Option<Vocab>,
    /// Mean and standard deviation of each count, from the training prompts.
    pub count_mean: Vec<f32>,
    pub count_std: Vec<f32>,
}

impl Featurizer {
    pub fn fit(prompts: &[PromptParts], blocks: Blocks) -> Featurizer {
        let description = Vocab::fit(&prompts.iter().map(|p| words(&p.description)).collect::<Vec<_>>(), 2);
        if blocks == Blocks::Description {
            return Featurizer {
                blocks,
                description,
                asserts: None,
                name: None,
                count_mean: vec![],
                count_std: vec![],
            };
        }
        let asserts = Vocab::fit(&prompts.iter().map(|p| char_grams(&p.asserts.join("\n"))).collect::<Vec<_>>(), 3);
        let name = Vocab::fit(&prompts.iter().map(|p| name_words(&p.entry)).collect::<Vec<_>>(), 1);
        let rows: Vec<Vec<f32>> = prompts.iter().map(counts).collect();
        let k = rows.first().map(Vec::len).unwrap_or(0);
        let n = rows.len().max(1) as f32;
        let mean: Vec<f32> = (0..k).map(|j| rows.iter().map(|r| r[j]).sum::<f32>() / n).collect();
        let std: Vec<f32> =
            (0..k).map(|j| (rows.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f32>() / n).sqrt().max(1e-6)).collect();
        Featurizer { blocks, description, asserts: Some(asserts), name: Some(name), count_mean: mean, count_std: std }
    }

    /// The number of features.
    pub fn dim(&self) -> usize {
        (self.description.len()
            + self.asserts.as_ref().map_or(0, Vocab::len)
            + self.name.as_ref().map_or(0, Vocab::len)
            + self.count_mean.len() as u32) as usize
    }

    pub fn vector(&self, p: &PromptParts) -> Vec<(u32, f32)> {
        let mut v = Vec::new();
        self.description.vector(&words(&p.description), 0, &mut v);
        let mut at = self.description.len();
        if let Some(a) = &self.asserts {
            a.vector(&char_grams(&p.asserts.join("\n")), at, &mut v);
            at += a.len();
        }
        if let Some(n) = &self.name {
            n.vector(&name_words(&p.entry), at, &mut v);
            at += n.len();
        }
        if !self.count_mean.is_empty() {
            for (j, x) in counts(p).into_iter().enumerate() {
                v.push((at + j as u32, (x - self.count_mean[j]) / self.count_std[j]));
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_splits_into_description_tests_and_entry_point() {
        let p = PromptParts::of(
            "Write a function to add two numbers.\nassert add_two(1, 2) == 3\n  assert add_two(0, 0) == 0",
        );
        assert_eq!(p.description, "Write a function to add two numbers.");
        assert_eq!(p.asserts.len(), 2);
        assert_eq!(p.entry, "add_two");
        let p = PromptParts::of("Complete this:\ndef reverse_words(s):\n    pass");
        assert_eq!((p.entry.as_str(), p.asserts.len()), ("reverse_words", 0));
        assert_eq!(PromptParts::of("Explain closures.").entry, "");
    }

    #[test]
    fn features_are_blocks_normalised_apart() {
        let prompts: Vec<PromptParts> = [
            "Add two numbers.\nassert add(1, 2) == 3",
            "Add two floats.\nassert add(1.5, 2.5) == 4.0",
            "Reverse a string.\nassert rev('ab') == 'ba'",
            "Reverse a list.\nassert rev([1, 2]) == [2, 1]",
        ]
        .iter()
        .map(|p| PromptParts::of(p))
        .collect();
        let f = Featurizer::fit(&prompts, Blocks::All);
        let v = f.vector(&prompts[0]);
        let d = f.description.len();
        let block: f32 = v.iter().filter(|(i, _)| *i < d).map(|(_, x)| x * x).sum();
        assert!((block - 1.0).abs() < 1e-5, "the description block has unit length: {block}");
        assert!(v.iter().all(|(i, _)| (*i as usize) < f.dim()));
        // Without asserts only the description and the counts speak.
        let bare = f.vector(&PromptParts::of("Add two numbers."));
        assert!(bare.iter().any(|(i, _)| *i < d));
        let words_only = Featurizer::fit(&prompts, Blocks::Description);
        assert_eq!(words_only.dim(), d as usize);
    }
}
