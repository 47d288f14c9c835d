//! Binary logistic regression on sparse features with soft targets: the probability that a tier's answer
//! passes. A target is a pass fraction (passes / trials), so five trials with three passes teach 0.6, not a
//! coin flip between 0 and 1. L2 on the weights (not the intercept), scaled like scikit-learn's `C`: the loss
//! is Σ cross-entropy + ‖w‖² / (2C), so a larger set lets the data speak more.

use serde::{Deserialize, Serialize};

pub type Sparse = Vec<(u32, f32)>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Logistic {
    pub weights: Vec<f32>,
    pub bias: f32,
}

fn sigmoid(z: f32) -> f32 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl Logistic {
    pub fn logit(&self, x: &Sparse) -> f32 {
        self.bias + x.iter().map(|&(i, v)| self.weights[i as usize] * v).sum::<f32>()
    }

    pub fn predict(&self, x: &Sparse) -> f32 {
        sigmoid(self.logit(x))
    }

    /// Fits by full-batch gradient descent with Adam (a few hundred steps reach the optimum of this convex
    /// loss to well within what the data can tell apart).
    // Adam updates parallel arrays element by element; indices read clearer than zipped iterators.
    #[allow(clippy::needless_range_loop)]
    pub fn fit(xs: &[Sparse], targets: &[f32], dim: usize, c: f32, iterations: usize) -> Logistic {
        let mut w = vec![0.0f32; dim];
        // Start the intercept at the base rate's log-odds: the model begins as the majority guess.
        // With nothing to learn from, an even guess.
        let base = if targets.is_empty() { 0.5 } else { targets.iter().sum::<f32>() / targets.len() as f32 };
        let base = base.clamp(1e-3, 1.0 - 1e-3);
        let mut b = (base / (1.0 - base)).ln();
        let (b1, b2, eps, lr) = (0.9f32, 0.999f32, 1e-8f32, 0.05f32);
        let (mut m, mut v) = (vec![0.0f32; dim + 1], vec![0.0f32; dim + 1]);
        // The loss is a sum over examples; dividing the step by n keeps the learning rate independent of n.
        let n = xs.len().max(1) as f32;
        for it in 1..=iterations {
            let mut grad = vec![0.0f32; dim + 1];
            for (x, &y) in xs.iter().zip(targets) {
                let p = sigmoid(b + x.iter().map(|&(i, v)| w[i as usize] * v).sum::<f32>());
                let g = p - y;
                for &(i, val) in x {
                    grad[i as usize] += g * val;
                }
                grad[dim] += g;
            }
            for i in 0..dim {
                grad[i] += w[i] / c;
            }
            for i in 0..=dim {
                let g = grad[i] / n;
                m[i] = b1 * m[i] + (1.0 - b1) * g;
                v[i] = b2 * v[i] + (1.0 - b2) * g * g;
                let step =
                    lr * (m[i] / (1.0 - b1.powi(it as i32))) / ((v[i] / (1.0 - b2.powi(it as i32))).sqrt() + eps);
                if i < dim {
                    w[i] -= step;
                } else {
                    b -= step;
                }
            }
        }
        Logistic { weights: w, bias: b }
    }
}

/// Platt scaling: `σ(a · logit + b)` fitted on held-out logits against the observed outcomes, so a predicted
/// 0.7 passes about 70% of the time (the cost dial compares probabilities across tiers).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Platt {
    pub a: f32,
    pub b: f32,
}

impl Default for Platt {
    fn default() -> Self {
        Platt { a: 1.0, b: 0.0 }
    }
}

impl Platt {
    pub fn fit(logits: &[f32], targets: &[f32]) -> Platt {
        let xs: Vec<Sparse> = logits.iter().map(|&z| vec![(0, z)]).collect();
        // Practically unregularised: two parameters, hundreds of examples.
        let m = Logistic::fit(&xs, targets, 1, 1e4, 500);
        Platt { a: m.weights[0], b: m.bias }
    }

    pub fn apply(&self, logit: f32) -> f32 {
        sigmoid(self.a * logit + self.b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_learns_soft_targets_and_platt_recovers_a_scale() {
        // Feature 0 on: passes 80% of the time; off: 20%.
        let xs: Vec<Sparse> = (0..200).map(|i| if i % 2 == 0 { vec![(0, 1.0)] } else { vec![(1, 1.0)] }).collect();
        let ys: Vec<f32> = (0..200).map(|i| if i % 2 == 0 { 0.8 } else { 0.2 }).collect();
        let m = Logistic::fit(&xs, &ys, 2, 100.0, 400);
        assert!((m.predict(&vec![(0, 1.0)]) - 0.8).abs() < 0.03, "{}", m.predict(&vec![(0, 1.0)]));
        assert!((m.predict(&vec![(1, 1.0)]) - 0.2).abs() < 0.03);
        // Over-confident logits (three times too large) come back to scale.
        let logits: Vec<f32> = (0..400).map(|i| if i % 2 == 0 { 3.0 * 1.386 } else { -3.0 * 1.386 }).collect();
        let out: Vec<f32> = (0..400)
            .map(|i| if i % 2 == 0 { (i % 10 != 0) as u8 as f32 } else { (i % 10 == 1) as u8 as f32 })
            .collect();
        let p = Platt::fit(&logits, &out);
        assert!((p.apply(3.0 * 1.386) - 0.8).abs() < 0.05, "{p:?}");
    }
}
