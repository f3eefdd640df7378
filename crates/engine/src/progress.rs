//! What the caller of a run decides: how many threads it may use, where its
//! progress goes and when it is cancelled.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};

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

/// How a run may go: its thread budget, its progress, its cancellation.
#[derive(Clone, Copy)]
pub struct Control<'a> {
    /// The most threads the run keeps busy at once (decoding, formatting).
    pub threads: NonZeroUsize,
    /// Where progress goes.
    pub progress: &'a dyn Progress,
    /// Set by the caller to stop the run: it is checked between batches of
    /// lines, and a cancelled run returns [`crate::Error::Cancelled`].
    pub cancel: Option<&'a AtomicBool>,
    /// Whether the first bad cell of the lines stops the run, or every bad
    /// cell is listed.
    pub errors: ErrorMode,
}

impl<'a> Control<'a> {
    /// Every core of the machine, no cancellation.
    pub fn new(progress: &'a dyn Progress) -> Control<'a> {
        Control {
            threads: std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN),
            progress,
            cancel: None,
            errors: ErrorMode::Stop,
        }
    }

    /// Every core, no progress shown, no cancellation.
    pub fn silent() -> Control<'static> {
        Control::new(&Silent)
    }

    /// Whether the caller asked the run to stop.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Fails with [`crate::Error::Cancelled`] once the caller asked the run to stop.
    pub fn check(&self) -> crate::Result<()> {
        if self.is_cancelled() {
            Err(crate::Error::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// What a bad cell does to a reading of lines.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum ErrorMode {
    /// The first bad cell stops it, with its error (the command line).
    #[default]
    Stop,
    /// Every bad cell is listed, up to [`crate::error::MAX_COLLECTED_ERRORS`],
    /// in one [`crate::Error::Cells`] (imports that must list all their errors).
    Collect,
}
