//! Exact fixed-point amounts (four decimal places) and percentages.
//!
//! Amounts are never binary floats: tier boundaries are decided with integer
//! arithmetic, so no customer changes tier through rounding.

use std::fmt;

/// Number of decimal places kept for amounts and shares.
pub const DECIMALS: u32 = 4;
/// `10^DECIMALS`: one currency unit expressed in the fixed-point unit.
pub const SCALE: i64 = 10_000;

/// An exact amount of money with four decimal places, stored in 1/10000 units.
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug, Default)]
pub struct Amount(pub i64);

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    /// Not a decimal number at all.
    #[error("expected a decimal number such as 12.50")]
    NotANumber,
    /// More decimal places than amounts keep.
    #[error("more than {DECIMALS} decimal places")]
    TooPrecise,
    /// Larger than the fixed-point range.
    #[error("number too large")]
    TooLarge,
}

/// How digits beyond the fourth decimal are treated when parsing.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum ExtraDigits {
    /// Extra non-zero digits are an error (text exports).
    Reject,
    /// Round half to even (values that were binary floats).
    RoundHalfEven,
}

impl Amount {
    /// Zero.
    pub const ZERO: Amount = Amount(0);

    /// A whole number of currency units.
    pub const fn from_units(units: i64) -> Amount {
        Amount(units * SCALE)
    }

    /// Parses a decimal such as `-12.5`, `1234.5678` or, when `decimal_comma`
    /// is set, `12,50` (a point is accepted too).
    pub fn parse(
        text: &str,
        decimal_comma: bool,
        extra: ExtraDigits,
    ) -> Result<Amount, AmountError> {
        let text = text.trim();
        let (negative, body) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let separator = |c: u8| c == b'.' || (decimal_comma && c == b',');
        let bytes = body.as_bytes();
        let split = bytes
            .iter()
            .position(|&c| separator(c))
            .unwrap_or(bytes.len());
        let (int_part, frac_part) = (&bytes[..split], bytes.get(split + 1..).unwrap_or(&[]));
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(AmountError::NotANumber);
        }
        let mut value: i128 = 0;
        for &c in int_part {
            if !c.is_ascii_digit() {
                return Err(AmountError::NotANumber);
            }
            value = value * 10 + i128::from(c - b'0');
            if value > i128::from(i64::MAX) {
                return Err(AmountError::TooLarge);
            }
        }
        let mut kept = 0;
        let mut dropped_first: Option<u8> = None;
        let mut dropped_rest_nonzero = false;
        for &c in frac_part {
            if !c.is_ascii_digit() {
                return Err(AmountError::NotANumber);
            }
            if kept < DECIMALS {
                value = value * 10 + i128::from(c - b'0');
                kept += 1;
            } else if dropped_first.is_none() {
                dropped_first = Some(c - b'0');
            } else if c != b'0' {
                dropped_rest_nonzero = true;
            }
        }
        value *= 10i128.pow(DECIMALS - kept);
        if let Some(first) = dropped_first {
            if first != 0 || dropped_rest_nonzero {
                match extra {
                    ExtraDigits::Reject => return Err(AmountError::TooPrecise),
                    ExtraDigits::RoundHalfEven => {
                        let round_up =
                            first > 5 || (first == 5 && (dropped_rest_nonzero || value % 2 == 1));
                        if round_up {
                            value += 1;
                        }
                    }
                }
            }
        }
        let value = if negative { -value } else { value };
        i64::try_from(value)
            .map(Amount)
            .map_err(|_| AmountError::TooLarge)
    }

    /// A binary float rounded half to even at the fourth decimal of its
    /// shortest decimal representation (what the exporting tool displayed).
    pub fn from_f64(value: f64) -> Result<Amount, AmountError> {
        if !value.is_finite() {
            return Err(AmountError::NotANumber);
        }
        Amount::parse(&value.to_string(), false, ExtraDigits::RoundHalfEven)
    }

    /// A decimal `mantissa * 10^-scale`, as stored in Parquet DECIMAL columns.
    pub fn from_decimal(mantissa: i128, scale: i8) -> Result<Amount, AmountError> {
        let scale = i32::from(scale);
        let shift = DECIMALS as i32 - scale;
        let value = if shift >= 0 {
            mantissa
                .checked_mul(10i128.pow(shift as u32))
                .ok_or(AmountError::TooLarge)?
        } else {
            let divisor = 10i128
                .checked_pow((-shift) as u32)
                .ok_or(AmountError::TooPrecise)?;
            if mantissa % divisor != 0 {
                return Err(AmountError::TooPrecise);
            }
            mantissa / divisor
        };
        i64::try_from(value)
            .map(Amount)
            .map_err(|_| AmountError::TooLarge)
    }

    /// The raw fixed-point value in 1/10000 units.
    pub const fn raw(self) -> i64 {
        self.0
    }

    /// Whether the amount is strictly positive.
    pub const fn is_positive(self) -> bool {
        self.0 > 0
    }

    /// An approximate float, for charts and JSON only, never for decisions.
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / SCALE as f64
    }
}

// Amounts have no `+`, `+=`, `-` or `Sum`: every sum goes through
// `checked_add`, so that no total wraps round silently.
impl Amount {
    /// The largest amount: 922 337 203 685 477.5807.
    pub const MAX: Amount = Amount(i64::MAX);

    /// The sum, or `None` when it leaves the range of amounts.
    pub fn checked_add(self, other: Amount) -> Option<Amount> {
        self.0.checked_add(other.0).map(Amount)
    }

    /// The absolute value, or `None` for the one amount without one.
    pub fn checked_abs(self) -> Option<Amount> {
        self.0.checked_abs().map(Amount)
    }

    /// The difference, or `None` when it leaves the range of amounts.
    pub fn checked_sub(self, other: Amount) -> Option<Amount> {
        self.0.checked_sub(other.0).map(Amount)
    }

    /// `count` times the amount, or `None` when it leaves the range.
    pub fn checked_mul(self, count: u64) -> Option<Amount> {
        i64::try_from(count)
            .ok()
            .and_then(|n| self.0.checked_mul(n))
            .map(Amount)
    }

    /// The sum of amounts; on overflow, `Err` with the position of the
    /// amount that made the sum leave the range.
    pub fn checked_sum(amounts: impl IntoIterator<Item = Amount>) -> Result<Amount, usize> {
        amounts
            .into_iter()
            .enumerate()
            .try_fold(Amount::ZERO, |sum, (i, a)| sum.checked_add(a).ok_or(i))
    }
}

/// Which sum left the range of amounts.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SumKind {
    /// A customer's (or VAT group's) sales or monetary value in the window.
    Unit,
    /// The net of one order.
    Order,
    /// A total over customers: the ranked total `T`, a segment's sales or
    /// what was left out of a ranking.
    Total,
}

/// A sum that left the range of amounts, and the unit (account, or VAT
/// group for types by VAT) whose figure made it overflow.
#[derive(Copy, Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} add up to more than {}, the largest amount Strata sums exactly", .kind.describe(), Amount::MAX)]
pub struct SumOverflow {
    /// Which sum.
    pub kind: SumKind,
    /// The unit whose figure was being added.
    pub unit: u32,
}

impl SumKind {
    fn describe(self) -> &'static str {
        match self {
            SumKind::Unit => "the customer's amounts in the window",
            SumKind::Order => "the lines of one of the customer's orders",
            SumKind::Total => {
                "the customers' sales up to this one (the ranked total T, or a segment's total)"
            }
        }
    }
}

/// Writes the shortest exact decimal: `12.5`, `-3`, `0.0001`.
fn write_fixed(
    f: &mut fmt::Formatter<'_>,
    value: i128,
    scale: i128,
    decimals: usize,
) -> fmt::Result {
    let sign = if value < 0 { "-" } else { "" };
    let magnitude = value.unsigned_abs();
    let scale = scale as u128;
    let (int_part, mut frac_part, mut decimals) = (magnitude / scale, magnitude % scale, decimals);
    if frac_part == 0 {
        return write!(f, "{sign}{int_part}");
    }
    while frac_part % 10 == 0 {
        frac_part /= 10;
        decimals -= 1;
    }
    write!(f, "{sign}{int_part}.{frac_part:0decimals$}")
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_fixed(f, i128::from(self.0), i128::from(SCALE), DECIMALS as usize)
    }
}

/// A percentage with four decimal places, stored in 1/10000 of a percent
/// (`80` is 800000, `33.3` is 333000).
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug, Default)]
pub struct Percent(pub i64);

impl Percent {
    /// One hundred percent.
    pub const HUNDRED: Percent = Percent(100 * SCALE);

    /// Parses a percentage written as a decimal number (`80`, `33.3`).
    pub fn parse(text: &str) -> Result<Percent, AmountError> {
        Amount::parse(text, false, ExtraDigits::Reject).map(|a| Percent(a.0))
    }

    /// A percentage from a configuration float, read through its shortest
    /// decimal representation so that `33.3` is exactly 33.3.
    pub fn from_f64(value: f64) -> Result<Percent, AmountError> {
        if !value.is_finite() {
            return Err(AmountError::NotANumber);
        }
        Percent::parse(&value.to_string())
    }

    /// Whether `part / whole` is strictly below this percentage, decided
    /// exactly in integers.
    pub fn exceeds_ratio(self, part: Amount, whole: Amount) -> bool {
        // part / whole < self / 100  <=>  part * 100 * SCALE < self * whole  (whole > 0)
        i128::from(part.0) * i128::from(Percent::HUNDRED.0)
            < i128::from(self.0) * i128::from(whole.0)
    }
}

impl std::ops::Add for Percent {
    type Output = Percent;
    fn add(self, other: Percent) -> Percent {
        Percent(self.0 + other.0)
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_fixed(f, i128::from(self.0), i128::from(SCALE), DECIMALS as usize)
    }
}

/// An exact fraction `part / whole` shown with six decimals, truncated
/// toward zero so that a value below a boundary never prints as the boundary.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub struct Fraction {
    /// Numerator.
    pub part: Amount,
    /// Denominator, strictly positive.
    pub whole: Amount,
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MICROS: i128 = 1_000_000;
        let scaled = i128::from(self.part.0) * MICROS / i128::from(self.whole.0.max(1));
        let sign = if scaled < 0 { "-" } else { "" };
        let magnitude = scaled.unsigned_abs();
        write!(
            f,
            "{sign}{}.{:06}",
            magnitude / MICROS as u128,
            magnitude % MICROS as u128
        )
    }
}

/// Amounts travel in JSON as exact decimal strings (`"12.5"`); a JSON number
/// is accepted on input and read through its decimal text.
impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Amount, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Amount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a decimal number with at most 4 decimals")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Amount, E> {
                Amount::parse(v, false, ExtraDigits::Reject).map_err(E::custom)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Amount, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Amount, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Amount, E> {
                self.visit_str(&v.to_string())
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_decimals() {
        let cases = [
            ("12.5", false, 125_000),
            ("-12.5", false, -125_000),
            ("+3", false, 30_000),
            (" 0.0001 ", false, 1),
            (".5", false, 5_000),
            ("7.", false, 70_000),
            ("12,50", true, 125_000),
            ("12.50", true, 125_000),
            ("1.23450000", false, 12_345),
        ];
        for (text, comma, raw) in cases {
            assert_eq!(
                Amount::parse(text, comma, ExtraDigits::Reject),
                Ok(Amount(raw)),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_what_is_not_an_exact_amount() {
        let cases = [
            ("12,50", false, AmountError::NotANumber),
            ("abc", false, AmountError::NotANumber),
            ("", false, AmountError::NotANumber),
            ("-", false, AmountError::NotANumber),
            ("1.2.3", false, AmountError::NotANumber),
            ("1e5", false, AmountError::NotANumber),
            ("1.00001", false, AmountError::TooPrecise),
            ("99999999999999999999", false, AmountError::TooLarge),
        ];
        for (text, comma, error) in cases {
            assert_eq!(
                Amount::parse(text, comma, ExtraDigits::Reject),
                Err(error),
                "{text}"
            );
        }
    }

    #[test]
    fn floats_round_half_even_at_the_fourth_decimal() {
        let cases = [
            (1.00005, 10_000),
            (1.00015, 10_002),
            (1.000051, 10_001),
            (-2.00005, -20_000),
            (0.1, 1_000),
        ];
        for (value, raw) in cases {
            assert_eq!(Amount::from_f64(value), Ok(Amount(raw)), "{value}");
        }
    }

    #[test]
    fn parquet_decimals_rescale_exactly() {
        assert_eq!(Amount::from_decimal(1250, 2), Ok(Amount(125_000)));
        assert_eq!(Amount::from_decimal(12_345_600, 6), Ok(Amount(123_456)));
        assert_eq!(
            Amount::from_decimal(12_345_678, 6),
            Err(AmountError::TooPrecise)
        );
        assert_eq!(Amount::from_decimal(7, 0), Ok(Amount(70_000)));
    }

    #[test]
    fn displays_shortest_exact_text() {
        for (raw, text) in [
            (125_000, "12.5"),
            (-30_000, "-3"),
            (1, "0.0001"),
            (-1, "-0.0001"),
            (0, "0"),
        ] {
            assert_eq!(Amount(raw).to_string(), text);
        }
    }

    #[test]
    fn shares_read_through_their_decimal_text() {
        assert_eq!(Percent::from_f64(33.3), Ok(Percent(333_000)));
        assert_eq!(Percent::from_f64(80.0), Ok(Percent(800_000)));
        let three = Percent::from_f64(33.3).unwrap()
            + Percent::from_f64(33.3).unwrap()
            + Percent::from_f64(33.4).unwrap();
        assert_eq!(three, Percent::HUNDRED);
    }

    #[test]
    fn ratio_comparison_is_exact_at_the_boundary() {
        let eighty = Percent(800_000);
        assert!(
            !eighty.exceeds_ratio(Amount(80), Amount(100)),
            "80/100 is not below 80%"
        );
        assert!(eighty.exceeds_ratio(Amount(79_999_999), Amount(100_000_000)));
    }

    #[test]
    fn fractions_truncate_toward_zero() {
        let f = Fraction {
            part: Amount(2),
            whole: Amount(3),
        };
        assert_eq!(f.to_string(), "0.666666");
        let f = Fraction {
            part: Amount(4),
            whole: Amount(5),
        };
        assert_eq!(f.to_string(), "0.800000");
    }
}
