//! Exact rounding on 256-bit integers, shared by the batch aggregates (`agg`) and the
//! streaming aggregation of compute nodes, so both round averages and deviations alike.

use arrow::datatypes::i256;

/// `num / den` rounded half away from zero.
pub fn div_round(num: i256, den: i256) -> Option<i256> {
    let q = num.checked_div(den)?;
    let r = num.checked_rem(den)?;
    let zero = i256::ZERO;
    let twice = r.checked_mul(i256::from_i128(2))?;
    let twice_abs = if twice < zero { twice.wrapping_neg() } else { twice };
    let den_abs = if den < zero { den.wrapping_neg() } else { den };
    if twice_abs >= den_abs {
        let away = if (num < zero) != (den < zero) { i256::from_i128(-1) } else { i256::ONE };
        q.checked_add(away)
    } else {
        Some(q)
    }
}

/// ⌊√x⌋ for x >= 0, by Newton's method from a power of two above the root.
pub fn isqrt(x: i256) -> i256 {
    if x < i256::from_i128(2) {
        return x;
    }
    let bits = 256 - x.leading_zeros();
    let mut g = i256::from_i128(2).wrapping_pow(bits.div_ceil(2));
    loop {
        let y = g.wrapping_add(x.wrapping_div(g)).wrapping_div(i256::from_i128(2));
        if y >= g {
            return g;
        }
        g = y;
    }
}

/// √(a / b) rounded half away from zero (a >= 0, b > 0).
pub fn sqrt_round(a: i256, b: i256) -> Option<i256> {
    let r = isqrt(a.checked_div(b)?);
    // Round up when a/b >= (r + 1/2)², i.e. 4a >= (2r + 1)² b.
    let two_r1 = r.checked_mul(i256::from_i128(2))?.checked_add(i256::ONE)?;
    let bound = two_r1.checked_mul(two_r1)?.checked_mul(b)?;
    if a.checked_mul(i256::from_i128(4))? >= bound {
        r.checked_add(i256::ONE)
    } else {
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: i128) -> i256 {
        i256::from_i128(v)
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(div_round(n(5), n(3)), Some(n(2)));
        assert_eq!(div_round(n(4), n(3)), Some(n(1)));
        assert_eq!(div_round(n(-5), n(3)), Some(n(-2)));
        assert_eq!(div_round(n(3), n(2)), Some(n(2)));
        assert_eq!(isqrt(n(99)), n(9));
        assert_eq!(sqrt_round(n(90), n(1)), Some(n(9)));
        assert_eq!(sqrt_round(n(91), n(1)), Some(n(10)));
    }
}
