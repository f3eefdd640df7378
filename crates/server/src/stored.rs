//! The engine's view of a run's stored lines: batches arriving from the
//! store's snapshot on another task, handed on as the engine's decoded
//! batches without copying a text. Read once, as a run of `segment` does.

use arrow_array::StringArray;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use strata_domain::columns::LineColumn;
use strata_domain::money::Amount;
use strata_engine::error::{Error, InputError, Location};
use strata_engine::source::{LineReader, LineSource};
use strata_engine::transactions::{DecodedBatch, Emit, Selection, Texts};
use strata_store::LineBatch;
use tokio::sync::mpsc;

/// The name of stored lines in messages.
const NAME: &str = "stored lines";

/// Stored lines as they arrive from a snapshot.
pub struct StoredLines {
    batches: Mutex<Option<mpsc::Receiver<LineBatch>>>,
}

impl StoredLines {
    /// The lines `batches` will carry.
    pub fn new(batches: mpsc::Receiver<LineBatch>) -> StoredLines {
        StoredLines {
            batches: Mutex::new(Some(batches)),
        }
    }
}

impl LineSource for StoredLines {
    fn name(&self) -> String {
        NAME.to_owned()
    }

    fn open(
        &self,
        selection: &Selection,
        _threads: NonZeroUsize,
    ) -> strata_engine::Result<Box<dyn LineReader + '_>> {
        let batches = self
            .batches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .ok_or_else(|| {
                Error::Usage("a run reads the stored lines once; this one read them twice".into())
            })?;
        let margin_needed_by = selection
            .required
            .iter()
            .find(|n| n.column == LineColumn::Margin)
            .map(|n| n.reason.clone());
        Ok(Box::new(StoredReader {
            batches,
            margin_needed_by,
        }))
    }
}

struct StoredReader {
    batches: mpsc::Receiver<LineBatch>,
    margin_needed_by: Option<String>,
}

impl LineReader for StoredReader {
    fn size(&self) -> Option<u64> {
        None
    }

    fn read(mut self: Box<Self>, emit: &mut Emit<'_>) -> strata_engine::Result<()> {
        let mut position = 0u64;
        let mut waited = std::time::Duration::ZERO;
        loop {
            let asked = std::time::Instant::now();
            let Some(batch) = self.batches.blocking_recv() else {
                break;
            };
            waited += asked.elapsed();
            if let Some(reason) = &self.margin_needed_by {
                if let Some(i) = batch.margin.iter().position(Option::is_none) {
                    let line = batch.line(i);
                    return Err(InputError::new(
                        std::path::Path::new(NAME),
                        Location::Row(position + i as u64 + 1),
                        Some(LineColumn::Margin.name()),
                        format!(
                            "order '{}' of customer '{}' has no margin, which {reason} reads",
                            line.order_id, line.customer_id
                        ),
                    )
                    .into());
                }
            }
            position += batch.len() as u64;
            let texts = |a: StringArray| Some(Texts::Plain(a));
            let decoded = DecodedBatch {
                margin: Some(
                    batch
                        .margin
                        .iter()
                        .map(|m| m.unwrap_or(Amount::ZERO))
                        .collect(),
                ),
                customer: batch.customer_id,
                order: batch.order_id,
                date: batch.date,
                amount: batch.amount,
                agency: texts(batch.agency),
                brand: texts(batch.brand),
                category: texts(batch.category),
                status: texts(batch.status),
                due_date: Some(batch.due_date),
                line: None,
                position,
            };
            if !emit(decoded) {
                break;
            }
        }
        tracing::debug!(
            lines = position,
            waited_s = waited.as_secs_f64(),
            "stored lines read"
        );
        Ok(())
    }
}
