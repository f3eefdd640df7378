//! The pipeline: a reader decoding lines, this thread interning them, and
//! the sink aggregating them, each on its own thread, batch after batch.

use super::dictionaries::{Dictionaries, LineBatch, Sent, Texts};
use super::selection::Selection;
use crate::error::Result;
use crate::progress::Control;
use arrow_array::StringArray;
use std::num::NonZeroUsize;
use std::sync::mpsc;
use strata_domain::date::Date;
use strata_domain::money::Amount;

/// What was found in the transactions file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TransactionsInfo {
    /// Number of data lines.
    pub lines: u64,
}

/// Decoded columns of a run of lines, before ids are interned: what a
/// [`LineReader`](LineReader) hands to the pipeline. An
/// optional column is `None` when the source does not have it.
pub struct DecodedBatch {
    /// Customer ids, never missing.
    pub customer: StringArray,
    /// Order ids, never missing.
    pub order: StringArray,
    /// Line dates.
    pub date: Vec<Date>,
    /// Line amounts.
    pub amount: Vec<Amount>,
    /// Line margins.
    pub margin: Option<Vec<Amount>>,
    /// Agencies.
    pub agency: Option<Texts>,
    /// Brands.
    pub brand: Option<Texts>,
    /// Categories.
    pub category: Option<Texts>,
    /// Order statuses.
    pub status: Option<Texts>,
    /// Due dates.
    pub due_date: Option<Vec<Option<Date>>>,
    /// Line numbers within their orders (read by imports only).
    pub line: Option<Vec<i64>>,
    /// How far into the file the batch ends, in the unit of the progress bar.
    pub position: u64,
}

impl DecodedBatch {
    pub(crate) fn len(&self) -> usize {
        self.date.len()
    }
}

/// Sales lines, read as many times as a run needs (a comparison of rules
/// types reads them once per period).
pub trait LineSource: Send + Sync {
    /// The source's name in messages and summaries (a file's path).
    fn name(&self) -> String;
    /// Starts a reading of every line, decoding at least the columns of
    /// `selection`, with at most `threads` threads.
    fn open(
        &self,
        selection: &Selection,
        threads: NonZeroUsize,
    ) -> Result<Box<dyn LineReader + '_>>;
}

/// One reading of a source's lines.
pub trait LineReader: Send {
    /// The progress total, in the unit of [`DecodedBatch::position`].
    fn size(&self) -> Option<u64>;
    /// Hands every line to `emit`, in batches, in order; stops early when
    /// `emit` returns `false`.
    fn read(self: Box<Self>, emit: &mut Emit<'_>) -> Result<()>;
}

/// Where a reader sends its batches; `false` means the pipeline stopped
/// listening (the run failed or was cancelled), and the reader should stop.
pub type Emit<'a> = dyn FnMut(DecodedBatch) -> bool + 'a;

/// Where interned batches go, on a thread of their own.
pub type Sink<'a> = dyn FnMut(&LineBatch) + Send + 'a;

/// Reads every line of a source, handing interned batches to `sink`.
pub fn read_lines(
    source: &dyn LineSource,
    selection: &Selection,
    dicts: &mut Dictionaries,
    control: &Control<'_>,
    sink: &mut Sink<'_>,
) -> Result<TransactionsInfo> {
    let selection = Selection {
        errors: control.errors,
        ..selection.clone()
    };
    let reader = source.open(&selection, control.threads)?;
    pipeline(reader, dicts, control, sink)
}

/// Batches waiting between two stages: enough to keep every stage busy.
const QUEUE: usize = 4;

/// Three stages, each on its own thread unless the budget is one thread,
/// batch after batch in file order: decoding the file, interning ids (this
/// thread, which owns the dictionaries), and the sink (aggregation).
fn pipeline(
    decoder: Box<dyn LineReader + '_>,
    dicts: &mut Dictionaries,
    control: &Control<'_>,
    sink: &mut Sink<'_>,
) -> Result<TransactionsInfo> {
    control
        .progress
        .start("reading transactions", decoder.size());
    if control.threads.get() == 1 {
        // One thread: the stages run in turn, batch by batch, with no
        // thread to start (a server explaining one customer runs this
        // for a handful of lines on every request).
        let mut lines = 0u64;
        let mut sent = Sent::default();
        decoder.read(&mut |decoded| {
            if control.is_cancelled() {
                return false;
            }
            let position = decoded.position;
            lines += decoded.len() as u64;
            sink(&dicts.intern_batch(decoded, &mut sent));
            control.progress.advance(position);
            true
        })?;
        control.check()?;
        control.progress.finish();
        return Ok(TransactionsInfo { lines });
    }
    let (decoded_tx, decoded_rx) = mpsc::sync_channel::<DecodedBatch>(QUEUE);
    let (interned_tx, interned_rx) = mpsc::sync_channel::<LineBatch>(QUEUE);
    let mut lines = 0u64;
    std::thread::scope(|scope| {
        let decoding =
            scope.spawn(move || decoder.read(&mut |batch| decoded_tx.send(batch).is_ok()));
        let sinking = scope.spawn(move || {
            for batch in interned_rx {
                sink(&batch);
            }
        });
        let mut sent = Sent::default();
        for decoded in decoded_rx {
            // Dropping the queues stops the decoder and the sink.
            if control.is_cancelled() {
                break;
            }
            let position = decoded.position;
            lines += decoded.len() as u64;
            if interned_tx
                .send(dicts.intern_batch(decoded, &mut sent))
                .is_err()
            {
                break;
            }
            control.progress.advance(position);
        }
        drop(interned_tx);
        sinking
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        decoding
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })?;
    control.check()?;
    control.progress.finish();
    Ok(TransactionsInfo { lines })
}
