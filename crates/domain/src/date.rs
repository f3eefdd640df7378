//! Calendar dates as day numbers, and the windows of time a segment type looks at.

use chrono::{Datelike, Months, NaiveDate};
use std::fmt;

/// A calendar date, stored as the number of days since 1970-01-01 so that
/// comparisons and differences are integer operations.
#[derive(Copy, Clone, Eq, PartialEq, Ord, PartialOrd, Hash, Debug)]
pub struct Date(i32);

const EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Why a date is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("dates must lie between 0001-01-01 and 9999-12-31")]
pub struct OutOfRange;

impl Date {
    /// The first date Strata accepts: 0001-01-01.
    pub const MIN: Date = Date(-719_162);
    /// The last date Strata accepts: 9999-12-31.
    pub const MAX: Date = Date(2_932_896);

    /// The date `days` days after 1970-01-01. Callers pass day numbers of
    /// dates already in range; input goes through [`Date::checked_from_days`].
    pub const fn from_days(days: i32) -> Date {
        Date(days)
    }

    /// The date `days` days after 1970-01-01, if it lies in `MIN..=MAX`.
    pub fn checked_from_days(days: i64) -> Result<Date, OutOfRange> {
        if (i64::from(Date::MIN.0)..=i64::from(Date::MAX.0)).contains(&days) {
            Ok(Date(days as i32))
        } else {
            Err(OutOfRange)
        }
    }

    /// Converts from chrono's date, if it lies in `MIN..=MAX`.
    pub fn checked_from_naive(date: NaiveDate) -> Result<Date, OutOfRange> {
        Date::checked_from_days(i64::from(date.num_days_from_ce()) - i64::from(EPOCH_DAYS_FROM_CE))
    }

    /// Days since 1970-01-01.
    pub const fn days(self) -> i32 {
        self.0
    }

    /// The date of a calendar year, month and day, if it exists.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        NaiveDate::from_ymd_opt(year, month, day).map(Date::from_naive)
    }

    /// Converts from chrono's date (today's, or one already in range).
    pub fn from_naive(date: NaiveDate) -> Date {
        Date(date.num_days_from_ce() - EPOCH_DAYS_FROM_CE)
    }

    /// Converts to chrono's date.
    pub fn to_naive(self) -> NaiveDate {
        NaiveDate::from_num_days_from_ce_opt(self.0 + EPOCH_DAYS_FROM_CE)
            .expect("day numbers built from valid dates stay in chrono's range")
    }

    /// Parses a strict ISO `YYYY-MM-DD` date from 0001-01-01 to 9999-12-31.
    pub fn parse_iso(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            b[range].iter().try_fold(0u32, |acc, &c| {
                c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
            })
        };
        let year = digits(0..4)?;
        let month = digits(5..7)?;
        let day = digits(8..10)?;
        Date::from_ymd(year as i32, month, day).filter(|&d| d >= Date::MIN)
    }

    /// The calendar year.
    pub fn year(self) -> i32 {
        self.to_naive().year()
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u32 {
        self.to_naive().month()
    }

    /// The day of the month, 1 to 31.
    pub fn day(self) -> u32 {
        self.to_naive().day()
    }

    /// The same day `months` calendar months earlier, clamped to the end of
    /// the month when that month is shorter (March 31 minus one month is
    /// February 28 or 29), and to [`Date::MIN`].
    pub fn minus_months(self, months: u32) -> Date {
        self.to_naive()
            .checked_sub_months(Months::new(months))
            .and_then(|d| Date::checked_from_naive(d).ok())
            .unwrap_or(Date::MIN)
    }

    /// January 1 of this date's year.
    pub fn first_of_year(self) -> Date {
        Date::from_ymd(self.year(), 1, 1).expect("January 1 exists every year")
    }

    /// The day after.
    pub fn next(self) -> Date {
        Date(self.0 + 1)
    }

    /// Whole days from `earlier` to `self` (negative when `earlier` is later).
    pub fn days_since(self, earlier: Date) -> i32 {
        self.0 - earlier.0
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_naive().format("%Y-%m-%d"))
    }
}

/// An inclusive range of dates: the lines a classification looks at.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub struct Window {
    /// The first day inside the window.
    pub first: Date,
    /// The last day inside the window, the date recency is measured from.
    pub last: Date,
}

impl Window {
    /// A window from `first` to `last`, both included.
    pub fn new(first: Date, last: Date) -> Window {
        Window { first, last }
    }

    /// Whether a day falls inside the window.
    pub fn contains(self, date: Date) -> bool {
        self.first <= date && date <= self.last
    }

    /// Parses `FROM..TO` (both ISO dates, inclusive), or says what is wrong.
    pub fn parse_period(text: &str) -> Result<Window, String> {
        let bad = || {
            format!(
                "period '{text}' is not FROM..TO with ISO dates, for example 2023-01-01..2023-12-31"
            )
        };
        let (from, to) = text.split_once("..").ok_or_else(bad)?;
        let from = Date::parse_iso(from.trim()).ok_or_else(bad)?;
        let to = Date::parse_iso(to.trim()).ok_or_else(bad)?;
        if from > to {
            return Err(format!("period '{text}' ends before it starts"));
        }
        Ok(Window::new(from, to))
    }
}

/// `FROM..TO`, as [`Window::parse_period`] reads it.
impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.first, self.last)
    }
}

/// How a segment type chooses its window from the as-of date.
#[derive(Copy, Clone, Eq, PartialEq, Debug)]
pub enum Interval {
    /// `(as_of - months, as_of]`, months subtracted on the calendar.
    Rolling {
        /// Length of the window in calendar months.
        months: u32,
    },
    /// `[January 1 of as_of's year, as_of]`.
    CalendarYear,
}

impl Interval {
    /// The window that ends on `as_of`.
    pub fn window(self, as_of: Date) -> Window {
        match self {
            Interval::Rolling { months } => Window::new(as_of.minus_months(months).next(), as_of),
            Interval::CalendarYear => Window::new(as_of.first_of_year(), as_of),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Date {
        Date::parse_iso(text).unwrap()
    }

    #[test]
    fn periods_read_and_print_as_from_to() {
        let window = Window::parse_period(" 2024-01-01 .. 2024-12-31").unwrap();
        assert_eq!(window, Window::new(d("2024-01-01"), d("2024-12-31")));
        assert_eq!(window.to_string(), "2024-01-01..2024-12-31");
        for (text, why) in [
            ("2024-01-01", "is not FROM..TO"),
            ("2024-01-01..2024-13-01", "is not FROM..TO"),
            ("2024-02-01..2024-01-31", "ends before it starts"),
        ] {
            let message = Window::parse_period(text).unwrap_err();
            assert!(message.contains(why), "{text}: {message}");
        }
    }

    #[test]
    fn dates_lie_between_year_1_and_year_9999() {
        assert_eq!(Date::MIN.to_string(), "0001-01-01");
        assert_eq!(Date::MAX.to_string(), "9999-12-31");
        assert_eq!(Date::parse_iso("0000-12-31"), None);
        assert_eq!(d("0001-01-01"), Date::MIN);
        assert_eq!(d("9999-12-31"), Date::MAX);
        for days in [
            i64::from(i32::MIN),
            i64::from(i32::MAX),
            -9_200_000_000_000_000_000 / 86_400_000_000,
        ] {
            assert_eq!(Date::checked_from_days(days), Err(OutOfRange), "{days}");
        }
        assert_eq!(
            Date::checked_from_days(i64::from(Date::MAX.days()) + 1),
            Err(OutOfRange)
        );
        assert_eq!(
            Date::checked_from_days(i64::from(Date::MIN.days()) - 1),
            Err(OutOfRange)
        );
        assert_eq!(Date::checked_from_days(0), Ok(d("1970-01-01")));
        assert_eq!(
            d("0001-06-30").minus_months(24),
            Date::MIN,
            "windows clamp to the first date"
        );
    }

    #[test]
    fn parses_only_strict_iso_dates() {
        assert_eq!(d("1970-01-01").days(), 0);
        assert_eq!(d("2024-02-29").to_string(), "2024-02-29");
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "24-01-01",
            "2024/01/01",
            "",
            "2024-01-01x",
        ] {
            assert_eq!(Date::parse_iso(bad), None, "{bad}");
        }
    }

    #[test]
    fn rolling_windows_clamp_to_month_end() {
        // (as_of - n months, as_of]: the first day is the day after the clamped date.
        let cases = [
            ("2024-03-31", 1, "2024-03-01", "2024-03-31"),
            ("2023-03-31", 1, "2023-03-01", "2023-03-31"),
            ("2024-05-31", 3, "2024-03-01", "2024-05-31"),
            ("2024-12-15", 12, "2023-12-16", "2024-12-15"),
            ("2024-02-29", 12, "2023-03-01", "2024-02-29"),
        ];
        for (as_of, months, first, last) in cases {
            let window = Interval::Rolling { months }.window(d(as_of));
            assert_eq!(
                (window.first, window.last),
                (d(first), d(last)),
                "{as_of} - {months}"
            );
        }
    }

    #[test]
    fn calendar_year_window_starts_january_first() {
        let window = Interval::CalendarYear.window(d("2024-06-15"));
        assert_eq!(window, Window::new(d("2024-01-01"), d("2024-06-15")));
        assert!(window.contains(d("2024-01-01")));
        assert!(!window.contains(d("2023-12-31")));
        assert!(!window.contains(d("2024-06-16")));
    }
}
