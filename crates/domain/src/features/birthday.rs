//! Birthday arithmetic: ages, next birthdays, 29 February.

use crate::date::Date;

/// A birthday in a given year; 29 February counts as 28 February in other years.
fn birthday_in(birthday: Date, year: i32) -> Date {
    let (month, day) = (birthday.month(), birthday.day());
    Date::from_ymd(year, month, day)
        .unwrap_or_else(|| Date::from_ymd(year, 2, 28).expect("28 February exists"))
}

/// Whole years from `birthday` to `as_of`.
pub fn age(birthday: Date, as_of: Date) -> i64 {
    let year = as_of.year();
    let this_year = birthday_in(birthday, year);
    i64::from(year - birthday.year() - i32::from(as_of < this_year))
}

/// Days until the next birthday (0 on the day).
pub fn days_to_birthday(birthday: Date, as_of: Date) -> i64 {
    let this_year = birthday_in(birthday, as_of.year());
    let next = if this_year >= as_of {
        this_year
    } else {
        birthday_in(birthday, as_of.year() + 1)
    };
    i64::from(next.days_since(as_of))
}

/// Whether the birthday falls in `as_of`'s month.
pub fn birthday_this_month(birthday: Date, as_of: Date) -> bool {
    birthday_in(birthday, as_of.year()).month() == as_of.month()
}

/// Whether the birthday is on `as_of`.
pub fn birthday_today(birthday: Date, as_of: Date) -> bool {
    birthday_in(birthday, as_of.year()) == as_of
}
