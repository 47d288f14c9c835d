//! What is known of a tier's model, and which figure decides: the user's own verified outcomes with it once
//! there are enough of them, else a calibration run on it, else its published pass rate (entered, from the
//! catalog, or from a tier preset); else nothing — and a figure learned for another model is never this one's.

/// How many verified outcomes with a model it takes before they decide its ability (fewer only nudge the prior).
pub const OWN_OUTCOMES: usize = 10;

/// Where a model's figure comes from, in order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known<'a, T> {
    /// The user's own verified outcomes decide (the prior, if any, only starts the fit).
    Outcomes {
        prior: Option<&'a T>,
    },
    /// No or too few outcomes: the best prior there is.
    Prior(&'a T),
    Unknown,
}

/// Which figure decides, given the number of own outcomes and the priors in precedence order (calibrated first,
/// then published, catalog, preset).
pub fn what_decides<'a, T>(own_outcomes: usize, priors: &[Option<&'a T>]) -> Known<'a, T> {
    let prior = priors.iter().find_map(|p| *p);
    match prior {
        _ if own_outcomes >= OWN_OUTCOMES => Known::Outcomes { prior },
        Some(p) => Known::Prior(p),
        None => Known::Unknown,
    }
}

/// Two model names for the same model: equal once lowercased and stripped of a `replay:`/provider prefix and a
/// GGUF quantization suffix, or one a dated or versioned release of the other (`gpt-3.5-turbo-1106`).
pub fn same_model(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> String {
        let s = s.trim().to_ascii_lowercase();
        let s = s.rsplit(':').next().unwrap_or(&s).to_owned();
        let s = match s.rfind(".q") {
            Some(i) if s[i + 2..].starts_with(|c: char| c.is_ascii_digit()) => s[..i].to_owned(),
            _ => s,
        };
        s.trim_end_matches(".gguf").to_owned()
    }
    let (a, b) = (norm(a), norm(b));
    let versioned = |long: &str, short: &str| {
        long.strip_prefix(short)
            .and_then(|r| r.strip_prefix('-'))
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit()))
    };
    !a.is_empty() && (a == b || versioned(&a, &b) || versioned(&b, &a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_match_across_releases_and_quantizations_but_not_across_models() {
        assert!(same_model("gpt-3.5-turbo", "gpt-3.5-turbo-1106"));
        assert!(same_model("replay:gpt-4-1106-preview", "gpt-4-1106-preview"));
        assert!(same_model("qwen2.5-coder-1.5b-instruct.Q4_K_M", "Qwen2.5-Coder-1.5B-Instruct"));
        assert!(!same_model("codellama-7b-instruct.Q4_K_M", "replay:codellama-7b-python"));
        assert!(!same_model("smollm2-135m-instruct", "replay:codellama-7b-python"));
        assert!(!same_model("gpt-4-turbo", "gpt-4-1106-preview"));
        assert!(!same_model("", ""));
    }

    #[test]
    fn own_outcomes_decide_once_there_are_enough_else_the_first_prior() {
        let (cal, publ) = ("calibrated", "published");
        assert_eq!(what_decides(3, &[None, Some(&publ)]), Known::Prior(&publ));
        assert_eq!(what_decides(3, &[Some(&cal), Some(&publ)]), Known::Prior(&cal));
        assert_eq!(what_decides(OWN_OUTCOMES, &[None, Some(&publ)]), Known::Outcomes { prior: Some(&publ) });
        assert_eq!(what_decides::<&str>(OWN_OUTCOMES, &[None]), Known::Outcomes { prior: None });
        assert_eq!(what_decides::<&str>(0, &[None, None]), Known::Unknown);
    }
}
