//! Customer features for rules: the catalogue of what each computed
//! feature means (this module), what lines add up to (`activity`), the
//! statuses that close an order, birthday arithmetic, how customer-file
//! columns are typed, and the table of every customer's features.

mod activity;
mod birthday;
mod statuses;
mod table;
mod typing;

use crate::columns::CustomerColumn;
use crate::columns::LineColumn;
use crate::rules::schema::{Schema, TypeRef, ValueType};
pub use activity::{in_last_days, Activity};
pub use birthday::{age, birthday_this_month, birthday_today, days_to_birthday};
pub use statuses::fold;
pub use statuses::ClosedStatuses;
pub use table::{feature_table, FeatureInputs};
pub use typing::{declared_column, typed_column};

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

/// The optional transaction columns a feature (or a customers-file column,
/// none) reads.
pub fn line_columns(feature: &str) -> &'static [LineColumn] {
    Feature::from_name(feature).map_or(&[], |f| f.def().columns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Date;
    use crate::money::Amount;
    use crate::rules::eval::Column;

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
