//! The optional customers file: one row per account with its attributes
//! (VAT number, agency, e-mail, birthday, any other column), kept as text
//! columns indexed by customer id.

use crate::error::{id_problem, shown, InputError, Location, Result};
use crate::intern::NONE;
use crate::source::TableSource;
use crate::table::StringTable;
use crate::transactions::Dictionaries;
use strata_domain::columns::CustomerColumn;
use strata_domain::features::{declared_column, Feature};
use strata_domain::rules::schema::ValueType;

/// Customer attributes by column; row `i` is customer id `i`.
#[derive(Default)]
pub struct CustomerTable {
    table: Option<StringTable>,
}

impl CustomerTable {
    /// Number of customers in the file.
    pub fn rows(&self) -> u64 {
        self.table.as_ref().map_or(0, |t| t.n_rows() as u64)
    }

    /// An attribute of a customer, `None` when empty or unknown.
    pub fn attribute(&self, column: &str, customer: u32) -> Option<&str> {
        let table = self.table.as_ref()?;
        let c = table.column(column)?;
        ((customer as usize) < table.n_rows())
            .then(|| table.cell(customer as usize, c))
            .flatten()
    }

    /// Every attribute column but `customer_id`, with each customer's value.
    pub fn attribute_columns(&self, n_customers: usize) -> Vec<(String, Vec<Option<&str>>)> {
        let Some(table) = &self.table else {
            return Vec::new();
        };
        table
            .headers
            .iter()
            .filter(|h| *h != CustomerColumn::CustomerId.name())
            .map(|h| (h.clone(), self.column_values(h, n_customers)))
            .collect()
    }

    /// Checks every value of each declared column against its type
    /// (`[attributes]`); the error names the row and column.
    pub fn check_declared(&self, declared: &[(String, ValueType)]) -> Result<()> {
        let Some(table) = &self.table else {
            return Ok(());
        };
        for (name, value_type) in declared {
            if table.column(name).is_none() {
                continue;
            }
            let values = self.column_values(name, table.n_rows());
            if let Err((row, message)) = declared_column(&values, *value_type) {
                return Err(InputError::new(
                    &table.path,
                    table.locations[row].clone(),
                    Some(name),
                    message,
                )
                .into());
            }
        }
        Ok(())
    }

    /// Every customer's value of a column, `None` where it has none.
    pub fn column_values(&self, column: &str, n_customers: usize) -> Vec<Option<&str>> {
        let found = self
            .table
            .as_ref()
            .and_then(|t| Some((t, t.column(column)?)));
        (0..n_customers)
            .map(|c| found.and_then(|(t, col)| (c < t.n_rows()).then(|| t.cell(c, col)).flatten()))
            .collect()
    }
}

/// Reads the customers file, interning its ids first so that customer id `i`
/// is row `i`, and records each customer's agency.
pub fn load_customers(source: &dyn TableSource, dicts: &mut Dictionaries) -> Result<CustomerTable> {
    let table = source.read()?;
    let path = table.path.clone();
    let path = path.as_path();
    if let Some(feature) = table
        .headers
        .iter()
        .filter_map(|h| Feature::from_name(h))
        .find(|f| !f.reads_its_customers_column())
    {
        return Err(InputError::new(
            path,
            Location::Header,
            Some(feature.name()),
            format!(
                "a column may not be named like the computed feature '{}', which rules read from the transactions: rename the column",
                feature.name()
            ),
        )
        .into());
    }
    let id_column = table.required_column(CustomerColumn::CustomerId.name())?;
    let agency_column = table.column(CustomerColumn::Agency.name());
    for row in 0..table.n_rows() {
        let location = &table.locations[row];
        let Some(id) = table.cell(row, id_column) else {
            return Err(InputError::new(
                path,
                location.clone(),
                Some(CustomerColumn::CustomerId.name()),
                "empty value; expected a customer id",
            )
            .into());
        };
        if let Some(problem) = id_problem(id) {
            return Err(InputError::new(
                path,
                location.clone(),
                Some(CustomerColumn::CustomerId.name()),
                problem,
            )
            .into());
        }
        let customer = dicts.customers.intern(id);
        if customer as usize != row {
            return Err(InputError::new(
                path,
                location.clone(),
                Some(CustomerColumn::CustomerId.name()),
                format!(
                    "customer '{}' appears twice (first at {})",
                    shown(id),
                    table.locations[customer as usize]
                ),
            )
            .into());
        }
        let agency = agency_column
            .and_then(|c| table.cell(row, c))
            .map_or(NONE, |a| dicts.agencies.intern(a));
        dicts.customer_agency.push(agency);
    }
    Ok(CustomerTable { table: Some(table) })
}
