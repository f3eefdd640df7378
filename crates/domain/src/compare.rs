//! Movements between two classifications of the same type.

use crate::segment_type::SegmentIdx;

/// How a customer moved from period A to period B.
#[derive(Copy, Clone, Eq, PartialEq, Debug, Hash, Ord, PartialOrd)]
pub enum Movement {
    /// To a better segment.
    Improved,
    /// To a worse segment.
    Declined,
    /// Same segment.
    Unchanged,
    /// No segment in A, one in B.
    New,
    /// A segment in A, none in B.
    Lost,
}

impl Movement {
    /// Every movement, in report order.
    pub const ALL: [Movement; 5] = [
        Movement::Improved,
        Movement::Declined,
        Movement::Unchanged,
        Movement::New,
        Movement::Lost,
    ];

    /// The name written in outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Movement::Improved => "improved",
            Movement::Declined => "declined",
            Movement::Unchanged => "unchanged",
            Movement::New => "new",
            Movement::Lost => "lost",
        }
    }

    /// The movement between two segments, where a lower index is a better
    /// segment; `None` when the customer has a segment in neither period.
    pub fn between(a: Option<SegmentIdx>, b: Option<SegmentIdx>) -> Option<Movement> {
        match (a, b) {
            (None, None) => None,
            (None, Some(_)) => Some(Movement::New),
            (Some(_), None) => Some(Movement::Lost),
            (Some(a), Some(b)) if b < a => Some(Movement::Improved),
            (Some(a), Some(b)) if b > a => Some(Movement::Declined),
            _ => Some(Movement::Unchanged),
        }
    }
}

/// How a transition matrix labels its last row and column: no segment.
pub const NO_SEGMENT: &str = "(none)";

/// Counts of customers from each segment of A to each segment of B; the
/// last row and column stand for "no segment".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransitionMatrix {
    /// `counts[a][b]`, with index `n_segments` for no segment.
    pub counts: Vec<Vec<u64>>,
}

impl TransitionMatrix {
    /// An empty matrix for a type with `n_segments` segments.
    pub fn new(n_segments: usize) -> TransitionMatrix {
        TransitionMatrix {
            counts: vec![vec![0; n_segments + 1]; n_segments + 1],
        }
    }

    /// Records one customer.
    pub fn add(&mut self, a: Option<SegmentIdx>, b: Option<SegmentIdx>) {
        let none = self.counts.len() - 1;
        let a = a.map_or(none, usize::from);
        let b = b.map_or(none, usize::from);
        self.counts[a][b] += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movements_follow_segment_order() {
        let cases = [
            (Some(1), Some(0), Some(Movement::Improved)),
            (Some(0), Some(2), Some(Movement::Declined)),
            (Some(1), Some(1), Some(Movement::Unchanged)),
            (None, Some(2), Some(Movement::New)),
            (Some(0), None, Some(Movement::Lost)),
            (None, None, None),
        ];
        for (a, b, expected) in cases {
            assert_eq!(Movement::between(a, b), expected, "{a:?} -> {b:?}");
        }
    }

    #[test]
    fn matrix_counts_with_a_none_row_and_column() {
        let mut matrix = TransitionMatrix::new(2);
        matrix.add(Some(0), Some(1));
        matrix.add(None, Some(1));
        matrix.add(Some(0), Some(1));
        assert_eq!(matrix.counts, [[0, 2, 0], [0, 0, 0], [0, 1, 0]]);
    }
}
