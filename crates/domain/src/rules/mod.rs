//! The segment rule language: an AST with a canonical text and a JSON form,
//! a parser with positioned errors, a schema of features, and a column-wise
//! evaluator with SQL three-valued logic.

pub mod ast;
pub mod eval;
pub mod membership;
pub mod parse;
pub mod schema;

#[cfg(test)]
mod tests;
