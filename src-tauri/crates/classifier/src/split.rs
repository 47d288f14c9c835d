//! Seeded splits: the paper's 80/20 split and stratified k-fold cross-validation. Both are stratified by level
//! and depend only on (examples' task ids and levels, seed), so every method evaluated with the same seed sees
//! exactly the same folds.

/// SplitMix64: tiny, seedable, and stable across platforms and versions (a dependency's RNG could change its
/// stream in a minor release and silently change every published fold).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x5DEE_CE66_D1CE_4E5B)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, self.below(i + 1));
        }
    }
}

/// Indices of each class, shuffled with the seed; classes in ascending order of level.
fn by_class(levels: &[u32], seed: u64) -> Vec<Vec<usize>> {
    let mut classes: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
    for (i, &l) in levels.iter().enumerate() {
        classes.entry(l).or_default().push(i);
    }
    let mut rng = Rng::new(seed);
    classes
        .into_values()
        .map(|mut idx| {
            rng.shuffle(&mut idx);
            idx
        })
        .collect()
}

/// Stratified k folds: fold `f` is the held-out test set of round `f`. Each class is dealt round-robin, so
/// fold sizes differ by at most one per class.
pub fn k_folds(levels: &[u32], k: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut folds = vec![Vec::new(); k];
    let mut next = 0;
    for class in by_class(levels, seed) {
        for i in class {
            folds[next % k].push(i);
            next += 1;
        }
    }
    for f in &mut folds {
        f.sort_unstable();
    }
    folds
}

/// The paper's split: `test_fraction` of each class (rounded, at least one when the class has two or more) is
/// held out. Returns (train, test).
pub fn holdout(levels: &[u32], test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for class in by_class(levels, seed) {
        let mut n_test = (class.len() as f64 * test_fraction).round() as usize;
        if n_test == 0 && class.len() >= 2 {
            n_test = 1;
        }
        test.extend_from_slice(&class[..n_test]);
        train.extend_from_slice(&class[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_partition_the_set_stratified_and_reproducibly() {
        let levels: Vec<u32> = (0..103)
            .map(|i| {
                if i % 10 < 6 {
                    0
                } else if i % 10 < 9 {
                    1
                } else {
                    2
                }
            })
            .collect();
        let folds = k_folds(&levels, 5, 7);
        let mut all: Vec<usize> = folds.concat();
        all.sort_unstable();
        assert_eq!(all, (0..103).collect::<Vec<_>>(), "every example is in exactly one fold");
        for f in &folds {
            let count = |l| f.iter().filter(|&&i| levels[i] == l).count() as i64;
            // 62 / 31 / 10 per class over 5 folds: 12-13, 6-7, 2 each.
            assert!((count(0) - 62 / 5).abs() <= 1 && (count(1) - 31 / 5).abs() <= 1 && count(2) == 2, "{f:?}");
        }
        assert_eq!(folds, k_folds(&levels, 5, 7), "same seed, same folds");
        assert_ne!(folds, k_folds(&levels, 5, 8), "another seed, other folds");
    }

    #[test]
    fn the_holdout_keeps_a_fifth_of_each_level() {
        let levels: Vec<u32> = (0..50).map(|i| (i % 5 == 0) as u32).collect(); // 40 zeros, 10 ones
        let (train, test) = holdout(&levels, 0.2, 0);
        assert_eq!((train.len(), test.len()), (40, 10));
        assert_eq!(test.iter().filter(|&&i| levels[i] == 1).count(), 2);
        assert!(train.iter().all(|i| !test.contains(i)));
    }
}
