//! Progress reporting of long runs, implemented by the command line.

/// Receives the stages of a run and how far the current one has gone.
pub trait Progress {
    /// A stage starts; `total` is its size in bytes when known.
    fn start(&self, stage: &str, total: Option<u64>);
    /// The current stage has reached `position` bytes.
    fn advance(&self, position: u64);
    /// The current stage is over.
    fn finish(&self);
}

/// Progress that shows nothing.
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _stage: &str, _total: Option<u64>) {}
    fn advance(&self, _position: u64) {}
    fn finish(&self) {}
}
