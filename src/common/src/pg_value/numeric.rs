//! numeric: decimal strings, rounding to a scale, and Postgres' base-10000 binary format.
//!
//! Values are kept as a digit string and a scale rather than as an integer, so any Arrow decimal
//! width (up to Decimal256) and any client input (up to Postgres' own limits) can be rounded and
//! range-checked without overflow.

use super::invalid;
use crate::error::Result;
use crate::types::{DataType, DEFAULT_DECIMAL_PRECISION, DEFAULT_DECIMAL_SCALE};

/// Postgres' limit on a numeric's decimal exponent in text input.
const MAX_EXPONENT: i64 = 1_000_000;
/// Postgres' limit on the display scale of a numeric.
const MAX_DSCALE: u16 = 0x3FFF;
const NBASE: u32 = 10_000;
const SIGN_POS: u16 = 0x0000;
const SIGN_NEG: u16 = 0x4000;
const SIGN_NAN: u16 = 0xC000;
const SIGN_PINF: u16 = 0xD000;
const SIGN_NINF: u16 = 0xF000;

/// `(-1)^neg * digits * 10^-scale`; `digits` are ASCII digits without sign, never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Numeric {
    pub neg: bool,
    pub digits: String,
    pub scale: i32,
}

impl Numeric {
    /// From an integer's decimal text (`-12345`) and the scale it is stored with.
    pub fn from_unscaled(unscaled: &str, scale: i8) -> Numeric {
        let (neg, digits) = match unscaled.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, unscaled),
        };
        Numeric { neg, digits: digits.to_owned(), scale: i32::from(scale) }.trim_leading()
    }

    pub fn is_zero(&self) -> bool {
        self.digits.bytes().all(|b| b == b'0')
    }

    fn trim_leading(mut self) -> Numeric {
        let keep = self.digits.trim_start_matches('0').len();
        if keep == 0 {
            self.digits = "0".into();
            self.neg = false;
        } else {
            self.digits.drain(..self.digits.len() - keep);
        }
        self
    }

    /// Rounds (half away from zero, as Postgres does) or pads to `scale`. Callers bound the growth.
    pub fn rescale(&self, scale: i32) -> Numeric {
        if scale >= self.scale {
            let mut digits = self.digits.clone();
            digits.extend(std::iter::repeat_n('0', (scale - self.scale) as usize));
            return Numeric { neg: self.neg, digits, scale }.trim_leading();
        }
        let drop = (self.scale - scale) as usize;
        let len = self.digits.len();
        if drop > len {
            return Numeric { neg: false, digits: "0".into(), scale };
        }
        let round_up = self.digits.as_bytes()[len - drop] >= b'5';
        let mut kept: Vec<u8> = self.digits.as_bytes()[..len - drop].to_vec();
        if kept.is_empty() {
            kept.push(b'0');
        }
        if round_up {
            let mut i = kept.len();
            loop {
                if i == 0 {
                    kept.insert(0, b'1');
                    break;
                }
                i -= 1;
                if kept[i] == b'9' {
                    kept[i] = b'0';
                } else {
                    kept[i] += 1;
                    break;
                }
            }
        }
        let digits = String::from_utf8(kept).unwrap_or_else(|_| "0".into());
        Numeric { neg: self.neg, digits, scale }.trim_leading()
    }

    /// Drops fractional trailing zeros: `1.5000000000` becomes `1.5`, `2.0000000000` becomes `2`.
    pub fn strip_trailing_zeros(&self) -> Numeric {
        let mut n = self.clone();
        while n.scale > 0 && n.digits.len() > 1 && n.digits.ends_with('0') {
            n.digits.pop();
            n.scale -= 1;
        }
        if n.scale > 0 && n.is_zero() {
            n.scale = 0;
        }
        n
    }

    /// Plain decimal text, never with an exponent.
    pub fn to_text(&self) -> String {
        let mut out = String::with_capacity(self.digits.len() + 3);
        if self.neg && !self.is_zero() {
            out.push('-');
        }
        if self.scale <= 0 {
            out.push_str(&self.digits);
            if !self.is_zero() {
                out.extend(std::iter::repeat_n('0', (-self.scale) as usize));
            }
            return out;
        }
        let scale = self.scale as usize;
        if self.digits.len() <= scale {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', scale - self.digits.len()));
            out.push_str(&self.digits);
        } else {
            let (int, frac) = self.digits.split_at(self.digits.len() - scale);
            out.push_str(int);
            out.push('.');
            out.push_str(frac);
        }
        out
    }

    /// The unscaled i128 of this value as a Decimal128(precision, scale), rounding extra digits.
    pub fn to_decimal128(&self, precision: u8, scale: i8) -> Result<i128> {
        let (p, s) = (i64::from(precision), i64::from(scale));
        let overflow = || {
            invalid(format!(
                "numeric field overflow: a field with precision {precision}, scale {scale} must round to an absolute value less than 10^{}",
                p - s
            ))
        };
        if self.is_zero() {
            return Ok(0);
        }
        let int_digits = self.digits.len() as i64 - i64::from(self.scale);
        if int_digits > p - s {
            return Err(overflow());
        }
        let r = self.rescale(i32::from(scale));
        if r.digits.len() as i64 > p || r.digits.len() > 38 {
            return Err(overflow());
        }
        let magnitude: i128 = r.digits.parse().map_err(|_| overflow())?;
        Ok(if r.neg { -magnitude } else { magnitude })
    }

    /// Postgres numeric_in syntax: `[+-]digits[.digits][e[+-]digits]`, surrounding whitespace.
    pub fn parse(input: &str, ty: &DataType) -> Result<Numeric> {
        let syntax = || super::syntax_error(ty, input);
        let s = input.trim_matches(|c: char| c.is_ascii_whitespace());
        let lower = s.to_ascii_lowercase();
        let special = lower.trim_start_matches(['+', '-']);
        if matches!(special, "nan" | "inf" | "infinity") {
            return Err(invalid(format!("{s} is not supported for type numeric")));
        }
        let bytes = s.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if let Some(&c) = bytes.first().filter(|c| **c == b'+' || **c == b'-') {
            neg = c == b'-';
            i = 1;
        }
        let mut digits = String::new();
        let mut frac_len: i64 = 0;
        let mut seen_point = false;
        let mut any_digit = false;
        while i < bytes.len() {
            match bytes[i] {
                b'0'..=b'9' => {
                    digits.push(bytes[i] as char);
                    any_digit = true;
                    if seen_point {
                        frac_len += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if !any_digit {
            return Err(syntax());
        }
        let mut exponent: i64 = 0;
        if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
            i += 1;
            let mut exp_neg = false;
            if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
                exp_neg = bytes[i] == b'-';
                i += 1;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                exponent = exponent.saturating_mul(10).saturating_add(i64::from(bytes[i] - b'0'));
                i += 1;
            }
            if i == start {
                return Err(syntax());
            }
            if exponent > MAX_EXPONENT {
                return Err(invalid("value overflows numeric format"));
            }
            if exp_neg {
                exponent = -exponent;
            }
        }
        if i != bytes.len() {
            return Err(syntax());
        }
        let scale = frac_len - exponent;
        let scale = i32::try_from(scale).map_err(|_| invalid("value overflows numeric format"))?;
        Ok(Numeric { neg, digits, scale }.trim_leading())
    }

    /// Postgres numeric_send: ndigits, weight, sign, dscale, then base-10000 digits, all i16 BE.
    pub fn write_binary(&self, out: &mut Vec<u8>) {
        let n = if self.scale < 0 { self.rescale(0) } else { self.clone() };
        let dscale = n.scale as usize;
        // Pad so there is at least one integer digit, then to whole groups of 4 on both sides of
        // the point.
        let mut digits = n.digits.clone();
        if digits.len() <= dscale {
            digits.insert_str(0, &"0".repeat(dscale + 1 - digits.len()));
        }
        let int_len = digits.len() - dscale;
        let lead = (4 - int_len % 4) % 4;
        let trail = (4 - dscale % 4) % 4;
        let padded = format!("{}{}{}", "0".repeat(lead), digits, "0".repeat(trail));
        let mut groups: Vec<u16> =
            padded.as_bytes().chunks(4).map(|c| c.iter().fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'))).collect();
        let mut weight = ((int_len + lead) / 4) as i32 - 1;
        let leading_zeros = groups.iter().take_while(|g| **g == 0).count();
        groups.drain(..leading_zeros);
        weight -= leading_zeros as i32;
        while groups.last() == Some(&0) {
            groups.pop();
        }
        let sign = if n.neg && !groups.is_empty() { SIGN_NEG } else { SIGN_POS };
        if groups.is_empty() {
            weight = 0;
        }
        out.extend_from_slice(&(groups.len() as i16).to_be_bytes());
        out.extend_from_slice(&(weight as i16).to_be_bytes());
        out.extend_from_slice(&sign.to_be_bytes());
        out.extend_from_slice(&(dscale as i16).to_be_bytes());
        for g in groups {
            out.extend_from_slice(&g.to_be_bytes());
        }
    }

    /// Postgres numeric_recv, with its checks on sign, digits and scale.
    pub fn read_binary(b: &[u8]) -> Result<Numeric> {
        let short = || invalid("insufficient data left in message for type numeric");
        let field = |i: usize| -> Result<u16> {
            let bytes = b.get(i * 2..i * 2 + 2).ok_or_else(short)?;
            Ok(u16::from_be_bytes([bytes[0], bytes[1]]))
        };
        let ndigits = field(0)? as i16;
        let weight = i32::from(field(1)? as i16);
        let sign = field(2)?;
        let dscale = field(3)?;
        if ndigits < 0 {
            return Err(invalid("invalid length in external \"numeric\" value"));
        }
        match sign {
            SIGN_POS | SIGN_NEG => {}
            SIGN_NAN | SIGN_PINF | SIGN_NINF => {
                return Err(invalid("NaN and infinity are not supported for type numeric"));
            }
            _ => return Err(invalid("invalid sign in external \"numeric\" value")),
        }
        if dscale > MAX_DSCALE {
            return Err(invalid("invalid scale in external \"numeric\" value"));
        }
        let ndigits = ndigits as usize;
        if b.len() != 8 + ndigits * 2 {
            return Err(if b.len() < 8 + ndigits * 2 { short() } else { invalid("incorrect binary data format") });
        }
        let mut digits = String::with_capacity(ndigits * 4 + 1);
        for i in 0..ndigits {
            let g = u32::from(field(4 + i)?);
            if g >= NBASE {
                return Err(invalid("invalid digit in external \"numeric\" value"));
            }
            digits.push_str(&format!("{g:04}"));
        }
        if digits.is_empty() {
            digits.push('0');
        }
        let scale = 4 * (ndigits as i32 - weight - 1);
        let n = Numeric { neg: sign == SIGN_NEG, digits, scale }.trim_leading();
        // Digits beyond the display scale are rounded away, as numeric_recv does.
        Ok(if n.scale > i32::from(dscale) { n.rescale(i32::from(dscale)) } else { n })
    }
}

/// The value as a column of type `ty` shows it: numeric(p,s) prints exactly s fraction digits;
/// unconstrained numeric, stored at the default scale, drops the padding zeros that scale adds.
pub(crate) fn for_type(n: &Numeric, ty: &DataType) -> Numeric {
    match ty {
        DataType::Decimal { precision: None, scale: None } => {
            if n.scale == i32::from(DEFAULT_DECIMAL_SCALE) {
                n.strip_trailing_zeros()
            } else {
                n.clone()
            }
        }
        DataType::Decimal { scale: Some(s), .. } if i32::from(*s) != n.scale => n.rescale(i32::from(*s)),
        DataType::Decimal { precision: Some(_), scale: None } if n.scale != 0 => n.rescale(0),
        _ => n.clone(),
    }
}

/// The Decimal128 precision and scale of `ty.to_arrow()`.
pub(crate) fn arrow_precision_scale(ty: &DataType) -> (u8, i8) {
    match ty {
        DataType::Decimal { precision, scale } => (
            precision.unwrap_or(DEFAULT_DECIMAL_PRECISION),
            scale.unwrap_or(if precision.is_some() { 0 } else { DEFAULT_DECIMAL_SCALE }),
        ),
        _ => (DEFAULT_DECIMAL_PRECISION, DEFAULT_DECIMAL_SCALE),
    }
}
