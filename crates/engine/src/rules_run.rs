//! Classifying rules types: the table of customer features, include and
//! exclude lists resolved by customer id or e-mail, and the memberships.

use crate::aggregate::FeatureFigures;
use crate::customers::CustomerTable;
use crate::error::{Error, Result};
use crate::overrides::{all_per_customer, one_per_customer};
use crate::result::overflow_error;
use crate::result::{AssignmentRow, Explanation, TypeResult};
use crate::transactions::Dictionaries;
use std::collections::HashMap;
use strata_domain::columns::CustomerColumn;
use strata_domain::config::Config;
use strata_domain::date::Date;
use strata_domain::features::{feature_table, rule_schema, Feature, FeatureInputs};
use strata_domain::money::{Amount, SumKind, SumOverflow};
use strata_domain::rules::eval::{all_rows, evaluate, Column, FeatureTable, Truth};
use strata_domain::rules::membership::{classify, SegmentInputs};
use strata_domain::rules::parse::parse;
use strata_domain::rules::schema::Schema;
use strata_domain::rules::schema::ValueType;
use strata_domain::segment_type::{LineFilter, Method, SegmentIdx, SegmentType};
use strata_domain::summary::{summarize, Unclassified};

/// The features of every customer and what rules need beside them.
pub struct RulesContext {
    /// One feature table per line filter of the rules types, the segments
    /// of the types classified so far in each.
    scopes: Vec<Scope>,
    /// Customer ids by lower-case e-mail.
    emails: HashMap<String, Vec<u32>>,
}

/// The features computed from the lines one filter accepts.
struct Scope {
    filter: LineFilter,
    table: FeatureTable,
    /// Total spent per customer, the sales measure of rules summaries.
    total_spent: Vec<Amount>,
    /// The customers a type with this filter considers, `None` for all: those
    /// with a line the filter accepts or whose customers-file agency it names.
    considered: Option<Vec<bool>>,
}

fn dictionary(names: &crate::intern::Interner) -> Vec<String> {
    (0..names.len() as u32)
        .map(|id| names.name(id).to_owned())
        .collect()
}

/// Checks every rule of the configuration against the feature catalogue
/// and the customers file's columns, before any transaction line is read:
/// a misspelt feature or a missing column fails at once, not after the file.
pub fn check_rules(config: &Config, customers: &CustomerTable) -> Result<()> {
    let rules: Vec<(&SegmentType, &str, &str)> = config
        .types
        .iter()
        .flat_map(|ty| {
            ty.segments
                .iter()
                .filter_map(move |s| Some((ty, s.name.as_str(), s.rule.as_ref()?.text.as_str())))
        })
        .collect();
    if rules.is_empty() {
        return Ok(());
    }
    let attributes = customers.attribute_columns(customers.rows() as usize);
    let types = config.types.iter().map(SegmentType::type_ref).collect();
    let schema = rule_schema(&attributes, &config.settings.attributes, types);
    for (ty, segment, text) in rules {
        parse(text, Some(&schema)).map_err(|e| {
            Error::Usage(format!(
                "type '{}': segment '{segment}': rule: {e}",
                ty.name
            ))
        })?;
    }
    Ok(())
}

impl RulesContext {
    /// Builds the feature tables as of a date, one per line filter.
    pub fn new(
        as_of: Date,
        scopes: Vec<(LineFilter, FeatureFigures)>,
        dicts: &Dictionaries,
        customers: &CustomerTable,
        declared: &[(String, ValueType)],
    ) -> RulesContext {
        let n = dicts.customers.len();
        let mut emails: HashMap<String, Vec<u32>> = HashMap::new();
        let email_column = customers.column_values(CustomerColumn::Email.name(), n);
        for (customer, email) in email_column.iter().enumerate() {
            if let Some(email) = email {
                emails
                    .entry(email.trim().to_lowercase())
                    .or_default()
                    .push(customer as u32);
            }
        }
        let agency_column = customers.column_values(CustomerColumn::Agency.name(), n);
        let scopes = scopes
            .into_iter()
            .map(|(filter, figures)| {
                let considered = (!filter.accepts_all()).then(|| {
                    figures
                        .has_line
                        .iter()
                        .zip(&agency_column)
                        .map(|(&has_line, agency)| {
                            has_line || agency.is_some_and(|a| filter.lists_agency(a))
                        })
                        .collect()
                });
                let total_spent = figures.activity.iter().map(|a| a.total_spent).collect();
                let table = feature_table(FeatureInputs {
                    as_of,
                    customer_ids: (0..n as u32).map(|c| dicts.customers.name(c)).collect(),
                    activity: &figures.activity,
                    categories: (figures.categories, dictionary(&dicts.categories)),
                    brands: (figures.brands, dictionary(&dicts.brands)),
                    attributes: customers.attribute_columns(n),
                    declared,
                });
                Scope {
                    filter,
                    table,
                    total_spent,
                    considered,
                }
            })
            .collect();
        RulesContext { scopes, emails }
    }

    /// Whether the features of the lines `filter` accepts were computed.
    pub fn has_scope(&self, filter: &LineFilter) -> bool {
        self.scopes.iter().any(|s| &s.filter == filter)
    }

    /// The scope of a line filter; every filter of the run has one.
    fn scope(&self, filter: &LineFilter) -> &Scope {
        self.scopes
            .iter()
            .find(|s| &s.filter == filter)
            .expect("a feature table is built for every filter of the rules types")
    }

    /// About how many bytes the feature tables hold, for memory budgets.
    pub fn heap_bytes(&self) -> usize {
        let emails: usize = self
            .emails
            .iter()
            .map(|(e, ids)| e.len() + std::mem::size_of_val(ids.as_slice()) + 48)
            .sum();
        let scopes: usize = self
            .scopes
            .iter()
            .map(|s| {
                s.table.heap_bytes()
                    + std::mem::size_of_val(s.total_spent.as_slice())
                    + s.considered.as_ref().map_or(0, Vec::len)
            })
            .sum();
        emails + scopes
    }

    /// The features every line gives, for previews.
    pub fn table(&self) -> &FeatureTable {
        &self.scope(&LineFilter::default()).table
    }

    /// The features a type's rules read: those of the lines its filter accepts.
    pub fn table_of(&self, ty: &SegmentType) -> &FeatureTable {
        &self.scope(&ty.lines).table
    }

    /// Whether a type considers a customer: always, unless the type names
    /// agencies or brands and the customer has neither a line of them nor,
    /// in the customers file, one of the agencies.
    pub fn considers(&self, ty: &SegmentType, customer: u32) -> bool {
        self.scope(&ty.lines)
            .considered
            .as_ref()
            .is_none_or(|c| c[customer as usize])
    }

    /// What rules may read: the features, and the types of the configuration.
    pub fn schema(&self, config: &Config) -> Schema {
        Schema {
            features: self
                .table()
                .features
                .iter()
                .map(|(name, c)| (name.clone(), c.value_type()))
                .collect(),
            types: config.types.iter().map(SegmentType::type_ref).collect(),
            inferred: self
                .table()
                .features
                .iter()
                .map(|(name, _)| name)
                .filter(|name| {
                    Feature::from_name(name).is_none()
                        && !config.settings.attributes.iter().any(|(n, _)| n == *name)
                })
                .cloned()
                .collect(),
        }
    }

    /// Makes a classified type readable by `segment(...)` and `rfm(...)`.
    pub fn add_result(&mut self, ty: &SegmentType, result: &TypeResult) {
        let pairs = result
            .rows
            .iter()
            .filter_map(|row| Some((row.customer, row.assignment.segment?)));
        self.add_segments(ty, pairs);
    }

    /// Makes a type's segments, as `(customer, segment)` pairs, readable by
    /// `segment(...)` and `rfm(...)`.
    pub fn add_segments(
        &mut self,
        ty: &SegmentType,
        pairs: impl IntoIterator<Item = (u32, SegmentIdx)>,
    ) {
        let names: Vec<String> = ty.segments.iter().map(|s| s.name.clone()).collect();
        let column = if ty.is_multi() {
            let mut lists = vec![Vec::new(); self.rows()];
            for (customer, s) in pairs {
                lists[customer as usize].push(u32::from(s));
            }
            Column::set(lists, names)
        } else {
            let mut codes = vec![strata_domain::rules::eval::NULL_CODE; self.rows()];
            for (customer, s) in pairs {
                codes[customer as usize] = u32::from(s);
            }
            Column::Text { codes, dict: names }
        };
        for scope in &mut self.scopes {
            scope.table.segments.insert(ty.name.clone(), column.clone());
        }
    }

    /// The number of customers.
    fn rows(&self) -> usize {
        self.scopes.first().map_or(0, |s| s.table.rows)
    }

    /// The customers a list entry names: the customer of that id, else
    /// every customer with that e-mail (ignoring case); spaces around the
    /// entry do not count.
    fn named_by(&self, entry: &str, dicts: &Dictionaries) -> Vec<u32> {
        let key = entry.trim();
        match dicts.customers.get(key) {
            Some(c) => vec![c],
            None => self
                .emails
                .get(&key.to_lowercase())
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// Whether a list names a customer, as the classification reads it.
    pub fn lists(&self, entries: &[String], customer: u32, dicts: &Dictionaries) -> bool {
        entries
            .iter()
            .any(|e| self.named_by(e, dicts).contains(&customer))
    }

    /// Marks the customers an include or exclude list names, by id or e-mail;
    /// an entry that names nobody becomes a warning.
    fn resolve(
        &self,
        entries: &[String],
        dicts: &Dictionaries,
        context: &str,
        warnings: &mut Vec<String>,
    ) -> Vec<bool> {
        let mut marked = vec![false; self.rows()];
        for entry in entries {
            let found = self.named_by(entry, dicts);
            if found.is_empty() {
                warnings.push(format!(
                    "{context}: no customer has the id or e-mail '{}'",
                    entry.trim()
                ));
            }
            for c in found {
                marked[c as usize] = true;
            }
        }
        marked
    }

    /// Classifies one rules type.
    pub fn classify_type(
        &self,
        type_idx: usize,
        config: &Config,
        manual: &[(u32, SegmentIdx)],
        dicts: &Dictionaries,
        warnings: &mut Vec<String>,
    ) -> Result<TypeResult> {
        let ty = &config.types[type_idx];
        let Method::Rules(spec) = &ty.method else {
            unreachable!("only rules types are classified here")
        };
        let scope = self.scope(&ty.lines);
        let rows = all_rows(&scope.table);
        let mut inputs = Vec::with_capacity(ty.segments.len());
        for segment in &ty.segments {
            let context = format!("type '{}': segment '{}'", ty.name, segment.name);
            // Rules were checked against the catalogue and the customers
            // file before any line was read (`check_rules`).
            let rule = segment.rule.as_ref().map(|rule| {
                let mut truths = evaluate(&rule.expr, &scope.table, &rows);
                if let Some(considered) = &scope.considered {
                    // Customers of other agencies and brands match no rule.
                    for (truth, &considered) in truths.iter_mut().zip(considered) {
                        if !considered {
                            *truth = Truth::False;
                        }
                    }
                }
                truths
            });
            inputs.push(SegmentInputs {
                rule,
                include: self.resolve(
                    &segment.include,
                    dicts,
                    &format!("{context}: include"),
                    warnings,
                ),
                exclude: self.resolve(
                    &segment.exclude,
                    dicts,
                    &format!("{context}: exclude"),
                    warnings,
                ),
            });
        }
        let n = scope.table.rows;
        let manual = if spec.exclusive {
            one_per_customer(manual, n)
                .into_iter()
                .map(|m| m.into_iter().collect())
                .collect()
        } else {
            all_per_customer(manual, n)
        };
        let memberships = classify(ty, spec.exclusive, &inputs, &manual, n);
        let assignments: Vec<_> = memberships.iter().map(|m| m.assignment).collect();
        let sales: Vec<Amount> = memberships
            .iter()
            .map(|m| scope.total_spent[m.customer as usize])
            .collect();
        let context = || format!("type '{}'", ty.name);
        let total = Amount::checked_sum(scope.total_spent.iter().copied()).map_err(|customer| {
            let overflow = SumOverflow {
                kind: SumKind::Total,
                unit: customer as u32,
            };
            overflow_error(context(), customer as u32, dicts, overflow)
        })?;
        let mut summary = summarize(ty, &assignments, &sales, total, None).map_err(|o| {
            // Rows are memberships here: name the member's customer.
            overflow_error(context(), memberships[o.unit as usize].customer, dicts, o)
        })?;
        if !spec.exclusive {
            // A customer may be in several groups or none: shares of customers divide by all of them.
            summary.customers = n as u64;
        }
        let mut member = vec![false; n];
        for m in &memberships {
            member[m.customer as usize] = true;
        }
        summary.unclassified = Unclassified::count(
            member
                .iter()
                .enumerate()
                .filter(|(_, &m)| !m)
                .map(|(c, _)| match &scope.considered {
                    Some(considered) if !considered[c] => Unclassified::OutsideLines,
                    _ => Unclassified::NoRuleMatched,
                }),
        );
        let mut rows: Vec<AssignmentRow> = memberships
            .into_iter()
            .map(|m| AssignmentRow {
                customer: m.customer,
                assignment: m.assignment,
                explanation: Explanation::Rules,
            })
            .collect();
        dicts.sort_by_customer_id(&mut rows, |r| r.customer);
        Ok(TypeResult {
            type_idx,
            window: None,
            rows,
            summary,
            ranked: Vec::new(),
        })
    }

    /// Total spent of a customer over every line, for previews.
    pub fn total_spent(&self, customer: u32) -> Amount {
        self.scope(&LineFilter::default()).total_spent[customer as usize]
    }
}
