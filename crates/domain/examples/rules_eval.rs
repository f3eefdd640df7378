//! Times rule evaluation over the features of many customers, apart from
//! loading and aggregating files.
//!
//! `cargo run --release -p strata-domain --example rules_eval -- [CUSTOMERS]`

use std::time::Instant;
use strata_domain::features::Feature;
use strata_domain::money::Amount;
use strata_domain::rules::eval::{all_rows, evaluate, Column, FeatureTable, Ratio, Truth};
use strata_domain::rules::parse::parse;

/// A small deterministic generator, so the example needs no dependency.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % bound
    }
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut rng = Lcg(42);
    let brands = [
        "Bosch",
        "Valeo",
        "Mann",
        "Febi",
        "SKF",
        "Continental",
        "Hella",
        "NGK",
    ];
    let mut table = FeatureTable {
        rows: n,
        ..FeatureTable::default()
    };
    let orders: Vec<u32> = (0..n).map(|_| rng.next(15) as u32).collect();
    let spent: Vec<i64> = (0..n).map(|_| rng.next(50_000_000) as i64).collect();
    table.features = vec![
        (
            Feature::TotalSpent.name().into(),
            Column::Number(
                spent
                    .iter()
                    .map(|&s| Some(Ratio::amount(Amount(s))))
                    .collect(),
            ),
        ),
        (
            Feature::AvgBasket.name().into(),
            Column::Number(
                spent
                    .iter()
                    .zip(&orders)
                    .map(|(&s, &o)| Ratio::fraction(Amount(s), i128::from(o)))
                    .collect(),
            ),
        ),
        (
            Feature::LastOrderDays.name().into(),
            Column::Number(
                orders
                    .iter()
                    .map(|&o| (o > 0).then(|| Ratio::integer(rng.next(700) as i64)))
                    .collect(),
            ),
        ),
        (
            Feature::Orders365d.name().into(),
            Column::Number(
                orders
                    .iter()
                    .map(|&o| Some(Ratio::integer(i64::from(o / 2))))
                    .collect(),
            ),
        ),
        (
            Feature::PurchasedBrand.name().into(),
            Column::set(
                (0..n).map(|_| {
                    (0..rng.next(4))
                        .map(|_| rng.next(brands.len() as u64) as u32)
                        .collect()
                }),
                brands.iter().map(|b| b.to_string()).collect(),
            ),
        ),
        (
            "role".into(),
            Column::text((0..n).map(|_| Some(if rng.next(3) == 0 { "pro" } else { "private" }))),
        ),
    ];
    let rows = all_rows(&table);
    println!("{n} customers");
    for rule in [
        "last_order_days < 90 AND total_spent > 500",
        "orders_365d = 0",
        "purchased_brand IN ('Bosch', 'Valeo')",
        "avg_basket > 50 AND last_order_days < 365 AND NOT role = 'pro'",
    ] {
        let started = Instant::now();
        let expr = parse(rule, None).expect("valid rule");
        let truths = evaluate(&expr, &table, &rows);
        let elapsed = started.elapsed();
        let matched = truths.iter().filter(|&&t| t == Truth::True).count();
        println!(
            "{:>8.1} ms  {matched:>8} match  {rule}",
            elapsed.as_secs_f64() * 1000.0
        );
    }
}
