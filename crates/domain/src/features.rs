//! Customer features for rules: what each computed feature means, the
//! birthday arithmetic, and how customer-file columns are typed by content.

use crate::columns::CustomerColumn;
use crate::columns::LineColumn;
use crate::date::Date;
use crate::money::{Amount, ExtraDigits};
use crate::rules::eval::{Column, FeatureTable, Ratio};
use crate::rules::schema::{Schema, TypeRef, ValueType};

/// A computed feature rules can read: the catalogue every list of features
/// (the parser's schema, the columns a rule reads, the README) comes from.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Feature {
    /// `orders_count`: Orders with a positive net up to the as-of date.
    OrdersCount,
    /// `orders_30d`: Orders with a positive net dated in the last 30 days.
    Orders30d,
    /// `orders_90d`: Orders with a positive net dated in the last 90 days.
    Orders90d,
    /// `orders_365d`: Orders with a positive net dated in the last 365 days.
    Orders365d,
    /// `total_spent`: Net sum of all lines up to the as-of date.
    TotalSpent,
    /// `spent_30d`: Net sum of the lines of the last 30 days.
    Spent30d,
    /// `spent_90d`: Net sum of the lines of the last 90 days.
    Spent90d,
    /// `spent_365d`: Net sum of the lines of the last 365 days.
    Spent365d,
    /// `avg_basket`: total_spent / orders_count, compared exactly.
    AvgBasket,
    /// `last_order_days`: Days since the last order with a positive net.
    LastOrderDays,
    /// `first_order_days`: Days since the first order with a positive net.
    FirstOrderDays,
    /// `activity_delta_pct_last_quarter`: Change in % of the last 90 days' net sum against the 90 days before.
    ActivityDeltaPctLastQuarter,
    /// `purchased_category`: Categories of the lines with a positive amount.
    PurchasedCategory,
    /// `purchased_brand`: Brands of the lines with a positive amount.
    PurchasedBrand,
    /// `late_order_days`: Days past the earliest due_date of an order still open: its latest status is not one of closed_statuses.
    LateOrderDays,
    /// `customer_age_days`: Days since the customers file's created_at.
    CustomerAgeDays,
    /// `age`: Whole years since the customers file's birthday.
    Age,
    /// `days_to_birthday`: Days until the next birthday (29 February falls on 28 February in other years).
    DaysToBirthday,
    /// `birthday_this_month`: The birthday falls in the as-of date's month.
    BirthdayThisMonth,
    /// `birthday_today`: The birthday falls on the as-of date.
    BirthdayToday,
    /// `role`: The customers file's role.
    Role,
    /// `customer_id`: The customer's id.
    CustomerId,
    /// `birthday`: The customers file's birthday, YYYY-MM-DD.
    Birthday,
    /// `created_at`: The customers file's created_at, YYYY-MM-DD.
    CreatedAt,
}

/// What the catalogue says of a feature.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FeatureDef {
    /// The name rules use.
    pub name: &'static str,
    /// The type of its values.
    pub value_type: ValueType,
    /// The optional transaction columns it reads, beyond the customer,
    /// order, date and amount every feature reads.
    pub columns: &'static [LineColumn],
    /// What it means, in a sentence.
    pub definition: &'static str,
}

impl Feature {
    /// Every feature, in the order they are documented.
    pub const ALL: [Feature; 24] = [
        Feature::OrdersCount,
        Feature::Orders30d,
        Feature::Orders90d,
        Feature::Orders365d,
        Feature::TotalSpent,
        Feature::Spent30d,
        Feature::Spent90d,
        Feature::Spent365d,
        Feature::AvgBasket,
        Feature::LastOrderDays,
        Feature::FirstOrderDays,
        Feature::ActivityDeltaPctLastQuarter,
        Feature::PurchasedCategory,
        Feature::PurchasedBrand,
        Feature::LateOrderDays,
        Feature::CustomerAgeDays,
        Feature::Age,
        Feature::DaysToBirthday,
        Feature::BirthdayThisMonth,
        Feature::BirthdayToday,
        Feature::Role,
        Feature::CustomerId,
        Feature::Birthday,
        Feature::CreatedAt,
    ];

    /// The catalogue entry.
    pub fn def(self) -> FeatureDef {
        match self {
            Feature::OrdersCount => FeatureDef {
                name: "orders_count",
                value_type: ValueType::Number,
                columns: &[],
                definition: "Orders with a positive net up to the as-of date.",
            },
            Feature::Orders30d => FeatureDef {
                name: "orders_30d",
                value_type: ValueType::Number,
                columns: &[],
                definition: "Orders with a positive net dated in the last 30 days.",
            },
            Feature::Orders90d => FeatureDef {
                name: "orders_90d",
                value_type: ValueType::Number,
                columns: &[],
                definition: "Orders with a positive net dated in the last 90 days.",
            },
            Feature::Orders365d => FeatureDef {
                name: "orders_365d",
                value_type: ValueType::Number,
                columns: &[],
                definition: "Orders with a positive net dated in the last 365 days.",
            },
            Feature::TotalSpent => FeatureDef {
                name: "total_spent",
                value_type: ValueType::Number,
                columns: &[],
                definition: "Net sum of all lines up to the as-of date.",
            },
            Feature::Spent30d => FeatureDef {
                name: "spent_30d",
                value_type: ValueType::Number,
                columns: &[],
                definition: "Net sum of the lines of the last 30 days.",
            },
            Feature::Spent90d => FeatureDef {
                name: "spent_90d",
                value_type: ValueType::Number,
                columns: &[],
                definition: "Net sum of the lines of the last 90 days.",
            },
            Feature::Spent365d => FeatureDef {
                name: "spent_365d",
                value_type: ValueType::Number,
                columns: &[],
                definition: "Net sum of the lines of the last 365 days.",
            },
            Feature::AvgBasket => FeatureDef {
                name: "avg_basket",
                value_type: ValueType::Number,
                columns: &[],
                definition: "total_spent / orders_count, compared exactly.",
            },
            Feature::LastOrderDays => FeatureDef {
                name: "last_order_days",
                value_type: ValueType::Number,
                columns: &[],
                definition: "Days since the last order with a positive net.",
            },
            Feature::FirstOrderDays => FeatureDef {
                name: "first_order_days",
                value_type: ValueType::Number,
                columns: &[],
                definition: "Days since the first order with a positive net.",
            },
            Feature::ActivityDeltaPctLastQuarter => FeatureDef {
                name: "activity_delta_pct_last_quarter",
                value_type: ValueType::Number,
                columns: &[],
                definition: "Change in % of the last 90 days' net sum against the 90 days before.",
            },
            Feature::PurchasedCategory => FeatureDef {
                name: "purchased_category",
                value_type: ValueType::TextSet,
                columns: &[LineColumn::Category],
                definition: "Categories of the lines with a positive amount.",
            },
            Feature::PurchasedBrand => FeatureDef {
                name: "purchased_brand",
                value_type: ValueType::TextSet,
                columns: &[LineColumn::Brand],
                definition: "Brands of the lines with a positive amount.",
            },
            Feature::LateOrderDays => FeatureDef {
                name: "late_order_days",
                value_type: ValueType::Number,
                columns: &[LineColumn::Status, LineColumn::DueDate],
                definition: "Days past the earliest due_date of an order still open: its latest status is not one of closed_statuses.",
            },
            Feature::CustomerAgeDays => FeatureDef {
                name: "customer_age_days",
                value_type: ValueType::Number,
                columns: &[],
                definition: "Days since the customers file's created_at.",
            },
            Feature::Age => FeatureDef {
                name: "age",
                value_type: ValueType::Number,
                columns: &[],
                definition: "Whole years since the customers file's birthday.",
            },
            Feature::DaysToBirthday => FeatureDef {
                name: "days_to_birthday",
                value_type: ValueType::Number,
                columns: &[],
                definition: "Days until the next birthday (29 February falls on 28 February in other years).",
            },
            Feature::BirthdayThisMonth => FeatureDef {
                name: "birthday_this_month",
                value_type: ValueType::Bool,
                columns: &[],
                definition: "The birthday falls in the as-of date's month.",
            },
            Feature::BirthdayToday => FeatureDef {
                name: "birthday_today",
                value_type: ValueType::Bool,
                columns: &[],
                definition: "The birthday falls on the as-of date.",
            },
            Feature::Role => FeatureDef {
                name: CustomerColumn::Role.name(),
                value_type: ValueType::Text,
                columns: &[],
                definition: "The customers file's role.",
            },
            Feature::CustomerId => FeatureDef {
                name: CustomerColumn::CustomerId.name(),
                value_type: ValueType::Text,
                columns: &[],
                definition: "The customer's id.",
            },
            Feature::Birthday => FeatureDef {
                name: CustomerColumn::Birthday.name(),
                value_type: ValueType::Date,
                columns: &[],
                definition: "The customers file's birthday, YYYY-MM-DD.",
            },
            Feature::CreatedAt => FeatureDef {
                name: CustomerColumn::CreatedAt.name(),
                value_type: ValueType::Date,
                columns: &[],
                definition: "The customers file's created_at, YYYY-MM-DD.",
            },
        }
    }

    /// The name rules use.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// The feature of a name.
    pub fn from_name(name: &str) -> Option<Feature> {
        Feature::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether the customers file's column of the same name is the
    /// feature's input (`role`, `birthday`, `created_at`, the id) rather
    /// than a column that would shadow a computed feature.
    pub fn reads_its_customers_column(self) -> bool {
        matches!(
            self,
            Feature::Role | Feature::CustomerId | Feature::Birthday | Feature::CreatedAt
        )
    }
}

/// What rules may read before any line is: every feature of the catalogue,
/// and each customers-file column typed by its content (a column named like
/// a feature is that feature's input, not a feature of its own).
pub fn rule_schema(
    attributes: &[(String, Vec<Option<&str>>)],
    declared: &[(String, ValueType)],
    types: Vec<TypeRef>,
) -> Schema {
    let mut features: Vec<(String, ValueType)> = Feature::ALL
        .iter()
        .map(|f| (f.name().to_owned(), f.def().value_type))
        .collect();
    let mut inferred = Vec::new();
    for (name, values) in attributes {
        if Feature::from_name(name).is_some() {
            continue;
        }
        match declared.iter().find(|(n, _)| n == name) {
            Some(&(_, value_type)) => features.push((name.clone(), value_type)),
            None => {
                features.push((name.clone(), typed_column(values).value_type()));
                inferred.push(name.clone());
            }
        }
    }
    Schema {
        features,
        types,
        inferred,
    }
}

/// A customers-file column of a declared type; `Err` names the first row
/// whose value is not of that type, and says what was found.
pub fn declared_column(
    values: &[Option<&str>],
    declared: ValueType,
) -> Result<Column, (usize, String)> {
    let wrong = |row: usize, v: &str| {
        (
            row,
            format!(
                "expected {} (declared under [attributes]), found '{v}'",
                declared.describe()
            ),
        )
    };
    let parse = |row: usize, v: &str| -> Result<(), (usize, String)> {
        let ok = match declared {
            ValueType::Number => Amount::parse(v, false, ExtraDigits::Reject).is_ok(),
            ValueType::Date => Date::parse_iso(v.trim()).is_some(),
            ValueType::Bool => matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "false"),
            ValueType::Text | ValueType::TextSet => true,
        };
        if ok {
            Ok(())
        } else {
            Err(wrong(row, v))
        }
    };
    for (row, value) in values.iter().enumerate() {
        if let Some(v) = value {
            parse(row, v)?;
        }
    }
    Ok(match declared {
        ValueType::Number => Column::Number(
            values
                .iter()
                .map(|v| {
                    v.and_then(|v| Amount::parse(v, false, ExtraDigits::Reject).ok())
                        .map(Ratio::amount)
                })
                .collect(),
        ),
        ValueType::Date => Column::Date(
            values
                .iter()
                .map(|v| v.and_then(|v| Date::parse_iso(v.trim())))
                .collect(),
        ),
        ValueType::Bool => Column::Bool(
            values
                .iter()
                .map(|v| v.map(|v| v.trim().eq_ignore_ascii_case("true")))
                .collect(),
        ),
        ValueType::Text | ValueType::TextSet => Column::text(values.iter().copied()),
    })
}

/// The optional transaction columns a feature (or a customers-file column,
/// none) reads.
pub fn line_columns(feature: &str) -> &'static [LineColumn] {
    Feature::from_name(feature).map_or(&[], |f| f.def().columns)
}

/// Whether `date` is in the last `days` days: the window `(as_of - days, as_of]`.
pub fn in_last_days(as_of: Date, date: Date, days: i32) -> bool {
    let age = as_of.days_since(date);
    (0..days).contains(&age)
}

/// A customer's activity up to the as-of date, accumulated line by line and
/// order by order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// Net sum of all lines.
    pub total_spent: Amount,
    /// Net sums of the lines of the last 30, 90 and 365 days.
    pub spent_30d: Amount,
    /// See `spent_30d`.
    pub spent_90d: Amount,
    /// See `spent_30d`.
    pub spent_365d: Amount,
    /// Net sum of the 90 days before the last 90.
    pub spent_previous_quarter: Amount,
    /// Orders with a positive net.
    pub orders_count: u32,
    /// Positive orders dated in the last 30, 90 and 365 days.
    pub orders_30d: u32,
    /// See `orders_30d`.
    pub orders_90d: u32,
    /// See `orders_30d`.
    pub orders_365d: u32,
    /// Date of the first positive order.
    pub first_order: Option<Date>,
    /// Date of the last positive order.
    pub last_order: Option<Date>,
    /// Days past due of the most overdue open order.
    pub late_order_days: Option<i32>,
}

impl Activity {
    /// Counts one line dated on or before `as_of`; `None` when a sum would
    /// leave the range of amounts (nothing is counted then).
    pub fn add_line(&mut self, as_of: Date, date: Date, amount: Amount) -> Option<()> {
        let age = as_of.days_since(date);
        let add = |sum: Amount, counted: bool| {
            if counted {
                sum.checked_add(amount)
            } else {
                Some(sum)
            }
        };
        let total_spent = add(self.total_spent, true)?;
        let spent_30d = add(self.spent_30d, age < 30)?;
        let spent_90d = add(self.spent_90d, age < 90)?;
        let spent_previous_quarter = add(self.spent_previous_quarter, (90..180).contains(&age))?;
        let spent_365d = add(self.spent_365d, age < 365)?;
        self.total_spent = total_spent;
        self.spent_30d = spent_30d;
        self.spent_90d = spent_90d;
        self.spent_previous_quarter = spent_previous_quarter;
        self.spent_365d = spent_365d;
        Some(())
    }

    /// Counts one order: its net, its date (latest line), and whether it is
    /// still open with a due date.
    pub fn add_order(&mut self, as_of: Date, date: Date, net: Amount, open_due: Option<Date>) {
        if let Some(due) = open_due.filter(|&due| due < as_of) {
            let late = as_of.days_since(due);
            self.late_order_days = self.late_order_days.max(Some(late));
        }
        if !net.is_positive() {
            return;
        }
        self.orders_count = self.orders_count.saturating_add(1);
        for (days, count) in [
            (30, &mut self.orders_30d),
            (90, &mut self.orders_90d),
            (365, &mut self.orders_365d),
        ] {
            if in_last_days(as_of, date, days) {
                *count = count.saturating_add(1);
            }
        }
        self.first_order = Some(self.first_order.map_or(date, |d| d.min(date)));
        self.last_order = self.last_order.max(Some(date));
    }
}

/// The order statuses that close an order, compared ignoring case and
/// accents (`Livré` is `livre`); an order with another status and a past
/// due date is late.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosedStatuses {
    /// The statuses, folded.
    folded: Vec<String>,
}

impl ClosedStatuses {
    /// The default list, for English and French exports.
    pub const DEFAULT: [&'static str; 10] = [
        "completed",
        "delivered",
        "collected",
        "closed",
        "cancelled",
        "terminé",
        "livré",
        "retiré",
        "clos",
        "annulé",
    ];

    /// The statuses of a configuration.
    pub fn new<'a>(statuses: impl IntoIterator<Item = &'a str>) -> ClosedStatuses {
        ClosedStatuses {
            folded: statuses.into_iter().map(fold).collect(),
        }
    }

    /// Whether an order status closes the order.
    pub fn closes(&self, status: &str) -> bool {
        let status = fold(status);
        self.folded.contains(&status)
    }
}

impl Default for ClosedStatuses {
    fn default() -> ClosedStatuses {
        ClosedStatuses::new(ClosedStatuses::DEFAULT)
    }
}

/// A text without surrounding spaces, case or accents (`Livré` is `livre`).
pub(crate) fn fold(text: &str) -> String {
    use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};
    text.trim()
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

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

/// Types a customer-file column by its content: a number, an ISO date or a
/// boolean when every non-empty value is one (never a number when a value
/// has a leading zero, like the postcode `01000`), text otherwise.
pub fn typed_column(values: &[Option<&str>]) -> Column {
    let present = || values.iter().flatten();
    let leading_zero = |v: &str| {
        let digits = v.trim_start_matches('-');
        digits.len() > 1 && digits.starts_with('0') && !digits.starts_with("0.")
    };
    let number = |v: &str| {
        Amount::parse(v, false, ExtraDigits::Reject)
            .ok()
            .filter(|_| !leading_zero(v.trim()))
    };
    let boolean = |v: &str| match v.trim().to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    if present().next().is_none() {
        return Column::text(values.iter().copied());
    }
    if present().all(|v| number(v).is_some()) {
        return Column::Number(
            values
                .iter()
                .map(|v| v.and_then(number).map(Ratio::amount))
                .collect(),
        );
    }
    if present().all(|v| Date::parse_iso(v.trim()).is_some()) {
        return Column::Date(
            values
                .iter()
                .map(|v| v.and_then(|v| Date::parse_iso(v.trim())))
                .collect(),
        );
    }
    if present().all(|v| boolean(v).is_some()) {
        return Column::Bool(values.iter().map(|v| v.and_then(boolean)).collect());
    }
    Column::text(values.iter().copied())
}

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

/// Builds every feature column for every customer.
pub fn feature_table(inputs: FeatureInputs<'_>) -> FeatureTable {
    let as_of = inputs.as_of;
    let a = inputs.activity;
    let number = |f: &dyn Fn(&Activity) -> Option<Ratio>| Column::Number(a.iter().map(f).collect());
    let amount = |f: fn(&Activity) -> Amount| number(&|x| Some(Ratio::amount(f(x))));
    let count = |f: fn(&Activity) -> u32| number(&|x| Some(Ratio::integer(i64::from(f(x)))));
    let days_since = |f: fn(&Activity) -> Option<Date>| {
        number(&|x| f(x).map(|d| Ratio::integer(i64::from(as_of.days_since(d)))))
    };
    let mut features: Vec<(String, Column)> = vec![
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
            Column::set(inputs.categories.0, inputs.categories.1),
        ),
        (
            Feature::PurchasedBrand.name().into(),
            Column::set(inputs.brands.0, inputs.brands.1),
        ),
        (
            Feature::LateOrderDays.name().into(),
            number(&|x| x.late_order_days.map(|d| Ratio::integer(i64::from(d)))),
        ),
        (
            Feature::CustomerId.name().into(),
            Column::distinct_text(inputs.customer_ids.iter().copied()),
        ),
    ];
    let attribute = |name: &str| {
        inputs
            .attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    };
    let rows = a.len();
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
    features.extend([
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
        (
            Feature::CreatedAt.name().into(),
            Column::Date(created.clone()),
        ),
    ]);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_statuses_match_ignoring_case_and_accents() {
        let closed = ClosedStatuses::default();
        for status in [
            "completed",
            " Livré ",
            "LIVRE",
            "annule",
            "Terminé",
            "clos",
            "Delivered",
        ] {
            assert!(closed.closes(status), "{status}");
        }
        for status in ["ready", "en cours", "open", ""] {
            assert!(!closed.closes(status), "{status}");
        }
        let custom = ClosedStatuses::new(["Expédié"]);
        assert!(custom.closes("expedie") && !custom.closes("completed"));
    }

    fn d(text: &str) -> Date {
        Date::parse_iso(text).unwrap()
    }

    #[test]
    fn windows_are_half_open_on_the_left() {
        let as_of = d("2024-03-31");
        assert!(in_last_days(as_of, d("2024-03-31"), 30));
        assert!(in_last_days(as_of, d("2024-03-02"), 30));
        assert!(
            !in_last_days(as_of, d("2024-03-01"), 30),
            "as_of - 30 days is outside"
        );
        assert!(
            !in_last_days(as_of, d("2024-04-01"), 30),
            "after as_of is outside"
        );
    }

    #[test]
    fn birthdays_on_29_february_count_on_28_february() {
        let leap = d("2000-02-29");
        let cases = [
            ("2023-02-27", 22, 1, true, false),
            ("2023-02-28", 23, 0, true, true),
            ("2023-03-01", 23, 365, false, false),
            ("2024-02-28", 23, 1, true, false),
            ("2024-02-29", 24, 0, true, true),
        ];
        for (as_of, years, days, this_month, today) in cases {
            let as_of = d(as_of);
            assert_eq!(age(leap, as_of), years, "age at {as_of}");
            assert_eq!(
                days_to_birthday(leap, as_of),
                days,
                "days to birthday at {as_of}"
            );
            assert_eq!(
                birthday_this_month(leap, as_of),
                this_month,
                "this month at {as_of}"
            );
            assert_eq!(birthday_today(leap, as_of), today, "today at {as_of}");
        }
        // An ordinary birthday at a month end.
        assert_eq!(age(d("1990-12-31"), d("2024-12-30")), 33);
        assert_eq!(age(d("1990-12-31"), d("2024-12-31")), 34);
        assert_eq!(days_to_birthday(d("1990-12-31"), d("2025-01-01")), 364);
    }

    #[test]
    fn columns_are_typed_by_content() {
        let kind = |values: &[Option<&str>]| match typed_column(values) {
            Column::Number(_) => "number",
            Column::Date(_) => "date",
            Column::Bool(_) => "bool",
            Column::Text { .. } => "text",
            Column::Set { .. } => "set",
        };
        assert_eq!(
            kind(&[Some("12"), None, Some("-3.5"), Some("0"), Some("0.25")]),
            "number"
        );
        assert_eq!(
            kind(&[Some("01000"), Some("75001")]),
            "text",
            "a leading zero keeps postcodes text"
        );
        assert_eq!(kind(&[Some("2024-01-01"), None]), "date");
        assert_eq!(kind(&[Some("true"), Some("FALSE")]), "bool");
        assert_eq!(kind(&[Some("M"), Some("F")]), "text");
        assert_eq!(kind(&[Some("12"), Some("x")]), "text");
    }

    #[test]
    fn activity_counts_positive_orders_only() {
        let as_of = d("2024-12-31");
        let mut a = Activity::default();
        a.add_line(as_of, d("2024-12-31"), Amount::from_units(10))
            .unwrap();
        a.add_line(as_of, d("2024-09-01"), Amount::from_units(5))
            .unwrap();
        a.add_order(as_of, d("2024-12-31"), Amount::from_units(10), None);
        a.add_order(
            as_of,
            d("2024-09-01"),
            Amount::from_units(5),
            Some(d("2024-12-01")),
        );
        a.add_order(as_of, d("2024-12-20"), Amount::from_units(-3), None);
        assert_eq!(
            (a.orders_count, a.orders_30d, a.orders_90d, a.orders_365d),
            (2, 1, 1, 2)
        );
        assert_eq!(
            (a.spent_90d, a.spent_previous_quarter),
            (Amount::from_units(10), Amount::from_units(5))
        );
        assert_eq!(
            (a.first_order, a.last_order),
            (Some(d("2024-09-01")), Some(d("2024-12-31")))
        );
        assert_eq!(a.late_order_days, Some(30));
    }

    #[test]
    fn the_feature_table_builds_exactly_the_catalogue() {
        let table = feature_table(FeatureInputs {
            as_of: d("2024-12-31"),
            customer_ids: vec!["a"],
            activity: &[Activity::default()],
            categories: (vec![vec![]], vec![]),
            brands: (vec![vec![]], vec![]),
            attributes: vec![("region".to_owned(), vec![Some("x")])],
            declared: &[],
        });
        let built: Vec<(&str, ValueType)> = table
            .features
            .iter()
            .map(|(name, column)| (name.as_str(), column.value_type()))
            .collect();
        let mut catalogue: Vec<(&str, ValueType)> = Feature::ALL
            .iter()
            .map(|f| (f.name(), f.def().value_type))
            .collect();
        catalogue.push(("region", ValueType::Text));
        let mut built_sorted = built.clone();
        built_sorted.sort_by_key(|(n, _)| *n);
        catalogue.sort_by_key(|(n, _)| *n);
        assert_eq!(built_sorted, catalogue);
        assert_eq!(
            line_columns("late_order_days"),
            [LineColumn::Status, LineColumn::DueDate]
        );
        assert_eq!(line_columns("region"), []);
    }

    #[test]
    fn derived_features_are_exact_or_null() {
        let as_of = d("2024-12-31");
        let activity = |recent: i64, before: i64, orders: u32| Activity {
            total_spent: Amount::from_units(recent + before),
            spent_90d: Amount::from_units(recent),
            spent_previous_quarter: Amount::from_units(before),
            orders_count: orders,
            ..Activity::default()
        };
        let table = feature_table(FeatureInputs {
            as_of,
            customer_ids: vec!["a", "b", "c"],
            activity: &[
                activity(70, 100, 3),
                activity(50, 0, 0),
                activity(130, 100, 1),
            ],
            categories: (vec![vec![], vec![], vec![]], vec![]),
            brands: (vec![vec![], vec![], vec![]], vec![]),
            attributes: vec![],
            declared: &[],
        });
        let truth = |rule: &str| {
            let expr = crate::rules::parse::parse(rule, None).unwrap();
            let rows = crate::rules::eval::all_rows(&table);
            crate::rules::eval::evaluate(&expr, &table, &rows)
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(",")
        };
        // Down 30 %, no earlier quarter (null), up 30 %.
        assert_eq!(
            truth("activity_delta_pct_last_quarter = -30"),
            "true,unknown,false"
        );
        assert_eq!(
            truth("activity_delta_pct_last_quarter < -29.9999"),
            "true,unknown,false"
        );
        assert_eq!(
            truth("activity_delta_pct_last_quarter >= 30"),
            "false,unknown,true"
        );
        // 170 / 3 orders = 56.666...; no orders: null.
        assert_eq!(truth("avg_basket > 56.6666"), "true,unknown,true");
        assert_eq!(truth("avg_basket < 56.6667"), "true,unknown,false");
        assert_eq!(
            truth("total_spent = 50 AND last_order_days IS NULL"),
            "false,true,false"
        );
    }
}
