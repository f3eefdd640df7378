//! The order statuses that close an order, matched ignoring case and accents.

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
pub fn fold(text: &str) -> String {
    use unicode_normalization::{char::is_combining_mark, UnicodeNormalization};
    text.trim()
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}
