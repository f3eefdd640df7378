//! The optional customers file: one row per account with its attributes
//! (VAT number, agency, e-mail, birthday, any other column).

use crate::error::{InputError, Result};
use crate::intern::NONE;
use crate::table::read_string_table;
use crate::transactions::Dictionaries;
use std::path::Path;

/// Customer attributes by column, indexed by customer id.
#[derive(Debug, Default)]
pub struct CustomerTable {
    /// Attribute column names (lower case), `customer_id` excluded.
    pub columns: Vec<String>,
    /// `values[column][customer]`; customers not in the file have no entry.
    pub values: Vec<Vec<Option<String>>>,
    /// Number of data rows in the file.
    pub rows: u64,
}

impl CustomerTable {
    /// An attribute of a customer, `None` when empty or unknown.
    pub fn attribute(&self, column: &str, customer: u32) -> Option<&str> {
        let c = self.columns.iter().position(|name| name == column)?;
        self.values[c].get(customer as usize)?.as_deref()
    }

    /// Every customer's value of a column, `None` where it has none.
    pub fn column_values(&self, column: &str, n_customers: usize) -> Vec<Option<&str>> {
        (0..n_customers as u32)
            .map(|c| self.attribute(column, c))
            .collect()
    }
}

/// Reads the customers file, interning its ids first so that customers keep
/// their file order, and records each customer's agency.
pub fn load_customers(path: &Path, dicts: &mut Dictionaries) -> Result<CustomerTable> {
    let table = read_string_table(path)?;
    let id_column = table.required_column("customer_id")?;
    let agency_column = table.column("agency");
    let mut locations = Vec::new();
    let columns: Vec<String> = table
        .headers
        .iter()
        .filter(|h| *h != "customer_id")
        .cloned()
        .collect();
    let mut values: Vec<Vec<Option<String>>> =
        vec![Vec::with_capacity(table.rows.len()); columns.len()];
    for (row, location) in table.rows.into_iter().zip(table.locations) {
        let Some(id) = row[id_column].clone() else {
            return Err(InputError::new(
                path,
                location,
                Some("customer_id"),
                "empty value; expected a customer id",
            )
            .into());
        };
        let customer = dicts.customers.intern(&id);
        if (customer as usize) < locations.len() {
            return Err(InputError::new(
                path,
                location,
                Some("customer_id"),
                format!(
                    "customer '{id}' appears twice (first at {})",
                    locations[customer as usize]
                ),
            )
            .into());
        }
        locations.push(location);
        let agency = agency_column
            .and_then(|c| row[c].as_deref())
            .map_or(NONE, |a| dicts.agencies.intern(a));
        dicts.customer_agency.push(agency);
        let mut k = 0;
        for (i, cell) in row.into_iter().enumerate() {
            if i != id_column {
                values[k].push(cell);
                k += 1;
            }
        }
    }
    Ok(CustomerTable {
        columns,
        values,
        rows: locations.len() as u64,
    })
}
