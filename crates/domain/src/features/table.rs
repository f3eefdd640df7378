//! The feature table: every feature of every customer, as columns.

use super::activity::Activity;
use super::birthday::{age, birthday_this_month, birthday_today, days_to_birthday};
use super::typing::{declared_column, typed_column};
use super::Feature;
use crate::date::Date;
use crate::money::Amount;
use crate::rules::eval::{Column, FeatureTable, Ratio};
use crate::rules::schema::ValueType;

/// What the feature table is built from.
pub struct FeatureInputs<'a> {
    /// The as-of date.
    pub as_of: Date,
    /// Customer ids, by row, all distinct.
    pub customer_ids: Vec<&'a str>,
    /// Activity per customer.
    pub activity: &'a [Activity],
    /// Categories bought (positive lines), per customer, as codes into the dictionary.
    pub categories: (Vec<Vec<u32>>, Vec<String>),
    /// Brands bought (positive lines), per customer.
    pub brands: (Vec<Vec<u32>>, Vec<String>),
    /// Customer-file columns (lower-case names) and their values per customer.
    pub attributes: Vec<(String, Vec<Option<&'a str>>)>,
    /// Declared types of customers-file columns (`[attributes]`).
    pub declared: &'a [(String, ValueType)],
}

/// Builds every feature column for every customer: those computed from
/// the lines, those read from the customers file, then its other columns.
pub fn feature_table(mut inputs: FeatureInputs<'_>) -> FeatureTable {
    let rows = inputs.activity.len();
    let mut features = line_features(&mut inputs);
    features.extend(customer_file_features(&inputs, rows));
    for (name, values) in &inputs.attributes {
        if !features.iter().any(|(n, _)| n == name) {
            let declared = inputs.declared.iter().find(|(n, _)| n == name);
            // Declared columns were checked when the customers file was read.
            let column = declared
                .and_then(|&(_, t)| declared_column(values, t).ok())
                .unwrap_or_else(|| typed_column(values));
            features.push((name.clone(), column));
        }
    }
    FeatureTable {
        rows,
        features,
        segments: Default::default(),
    }
}

/// The features computed from each customer's lines.
fn line_features(inputs: &mut FeatureInputs<'_>) -> Vec<(String, Column)> {
    let as_of = inputs.as_of;
    // The sets are moved into their columns, not copied.
    let (categories, category_names) = std::mem::take(&mut inputs.categories);
    let (brands, brand_names) = std::mem::take(&mut inputs.brands);
    let a = inputs.activity;
    let number = |f: &dyn Fn(&Activity) -> Option<Ratio>| Column::Number(a.iter().map(f).collect());
    let amount = |f: fn(&Activity) -> Amount| number(&|x| Some(Ratio::amount(f(x))));
    let count = |f: fn(&Activity) -> u32| number(&|x| Some(Ratio::integer(i64::from(f(x)))));
    let days_since = |f: fn(&Activity) -> Option<Date>| {
        number(&|x| f(x).map(|d| Ratio::integer(i64::from(as_of.days_since(d)))))
    };
    vec![
        (
            Feature::OrdersCount.name().into(),
            count(|x| x.orders_count),
        ),
        (Feature::Orders30d.name().into(), count(|x| x.orders_30d)),
        (Feature::Orders90d.name().into(), count(|x| x.orders_90d)),
        (Feature::Orders365d.name().into(), count(|x| x.orders_365d)),
        (Feature::TotalSpent.name().into(), amount(|x| x.total_spent)),
        (Feature::Spent30d.name().into(), amount(|x| x.spent_30d)),
        (Feature::Spent90d.name().into(), amount(|x| x.spent_90d)),
        (Feature::Spent365d.name().into(), amount(|x| x.spent_365d)),
        (
            Feature::AvgBasket.name().into(),
            number(&|x| Ratio::fraction(x.total_spent, i128::from(x.orders_count))),
        ),
        (
            Feature::LastOrderDays.name().into(),
            days_since(|x| x.last_order),
        ),
        (
            Feature::FirstOrderDays.name().into(),
            days_since(|x| x.first_order),
        ),
        (
            Feature::ActivityDeltaPctLastQuarter.name().into(),
            // (last 90 days - the 90 before) / the 90 before x 100, as an exact fraction.
            number(&|x| {
                let delta =
                    i128::from(x.spent_90d.raw()) - i128::from(x.spent_previous_quarter.raw());
                Ratio::new(
                    delta * 100 * i128::from(crate::money::SCALE),
                    i128::from(x.spent_previous_quarter.raw()),
                )
            }),
        ),
        (
            Feature::PurchasedCategory.name().into(),
            Column::set(categories, category_names),
        ),
        (
            Feature::PurchasedBrand.name().into(),
            Column::set(brands, brand_names),
        ),
        (
            Feature::LateOrderDays.name().into(),
            number(&|x| x.late_order_days.map(|d| Ratio::integer(i64::from(d)))),
        ),
        (
            Feature::CustomerId.name().into(),
            Column::distinct_text(inputs.customer_ids.iter().copied()),
        ),
    ]
}

/// The features read from the customers file's reserved columns: dates of
/// birth and creation, and the role.
fn customer_file_features(inputs: &FeatureInputs<'_>, rows: usize) -> Vec<(String, Column)> {
    let as_of = inputs.as_of;
    let attribute = |name: &str| {
        inputs
            .attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    };
    let dates = |name: &str| -> Vec<Option<Date>> {
        attribute(name).map_or(vec![None; rows], |v| {
            v.iter()
                .map(|x| x.and_then(|x| Date::parse_iso(x.trim())))
                .collect()
        })
    };
    let created = dates(Feature::CreatedAt.name());
    let birthdays = dates(Feature::Birthday.name());
    let by_birthday = |f: &dyn Fn(Date) -> i64| {
        Column::Number(
            birthdays
                .iter()
                .map(|b| b.map(|b| Ratio::integer(f(b))))
                .collect(),
        )
    };
    let by_birthday_bool = |f: fn(Date, Date) -> bool| {
        Column::Bool(birthdays.iter().map(|b| b.map(|b| f(b, as_of))).collect())
    };
    vec![
        (
            Feature::CustomerAgeDays.name().into(),
            Column::Number(
                created
                    .iter()
                    .map(|c| c.map(|c| Ratio::integer(i64::from(as_of.days_since(c)))))
                    .collect(),
            ),
        ),
        (Feature::Age.name().into(), by_birthday(&|b| age(b, as_of))),
        (
            Feature::DaysToBirthday.name().into(),
            by_birthday(&|b| days_to_birthday(b, as_of)),
        ),
        (
            Feature::BirthdayThisMonth.name().into(),
            by_birthday_bool(birthday_this_month),
        ),
        (
            Feature::BirthdayToday.name().into(),
            by_birthday_bool(birthday_today),
        ),
        (
            Feature::Role.name().into(),
            Column::text(attribute(Feature::Role.name()).map_or(vec![None; rows], <[_]>::to_vec)),
        ),
        (
            Feature::Birthday.name().into(),
            Column::Date(birthdays.clone()),
        ),
        (Feature::CreatedAt.name().into(), Column::Date(created)),
    ]
}
