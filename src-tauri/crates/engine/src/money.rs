//! Amounts of money as people read them: `$1.23`, `$0.016`, `$0.0001`, `< $0.0001` — two significant digits
//! below a dollar (a call costs fractions of a cent), never a wall of zeros. The UI has the same rules
//! (`ui/src/money.ts`).

/// A dollar amount for display.
pub fn usd(x: f64) -> String {
    if !x.is_finite() {
        return "$?".into();
    }
    if x < 0.0 {
        return format!("-{}", usd(-x));
    }
    if x == 0.0 {
        return "$0".into();
    }
    if x < 0.0001 {
        return "< $0.0001".into();
    }
    if x >= 1.0 {
        return format!("${x:.2}");
    }
    // Two significant digits, at least two decimals, trailing zeros beyond those dropped.
    let decimals = (1 - x.log10().floor() as i32).max(2) as usize;
    let mut s = format!("{x:.decimals$}");
    while s.ends_with('0') && s.len() - s.find('.').unwrap_or(0) > 3 {
        s.pop();
    }
    format!("${s}")
}

#[cfg(test)]
mod tests {
    use super::usd;

    #[test]
    fn amounts_show_sensible_precision() {
        for (x, want) in [
            (0.0, "$0"),
            (0.00001, "< $0.0001"),
            (0.0001, "$0.0001"),
            (0.000123, "$0.00012"),
            (0.0164, "$0.016"),
            (0.25, "$0.25"),
            (0.1, "$0.10"),
            (1.234, "$1.23"),
            (12.5, "$12.50"),
            (-0.5, "-$0.50"),
        ] {
            assert_eq!(usd(x), want, "{x}");
        }
    }
}
