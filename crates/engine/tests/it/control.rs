//! The caller's control of a run: cancellation between batches and the
//! thread budget.

use crate::{abc, d, inputs, Files};
use std::cell::Cell;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, Ordering};
use strata_domain::config::parse_config;
use strata_engine::progress::{Control, Progress};
use strata_engine::run;
use strata_engine::Error;

/// A transactions file of several decoding batches (about 4 MiB each).
fn big_file(f: &Files) -> std::path::PathBuf {
    let mut text = String::from("order_id,customer_id,date,amount\n");
    for i in 0..600_000 {
        text.push_str(&format!("{i},C{},2024-06-01,1.5\n", i % 997));
    }
    assert!(text.len() > 12 << 20, "at least three batches");
    f.write("t.csv", &text)
}

/// Cancels the run as soon as the first batch has been read.
struct CancelAtFirstBatch<'a> {
    cancel: &'a AtomicBool,
    batches: Cell<u32>,
}

impl Progress for CancelAtFirstBatch<'_> {
    fn start(&self, _stage: &str, _total: Option<u64>) {}
    fn advance(&self, _position: u64) {
        self.batches.set(self.batches.get() + 1);
        self.cancel.store(true, Ordering::Relaxed);
    }
    fn finish(&self) {}
}

#[test]
fn a_cancelled_run_stops_within_one_batch_and_returns_nothing() {
    for threads in [1, 2] {
        cancelled_within_one_batch(NonZeroUsize::new(threads).unwrap());
    }
}

/// A run cancelled at its first batch, on this many threads.
fn cancelled_within_one_batch(threads: NonZeroUsize) {
    let f = Files::new();
    let t = big_file(&f);
    let cancel = AtomicBool::new(false);
    let progress = CancelAtFirstBatch {
        cancel: &cancel,
        batches: Cell::new(0),
    };
    let control = Control {
        cancel: Some(&cancel),
        threads,
        ..Control::new(&progress)
    };
    let result = run::segment(
        parse_config(&abc("")).unwrap(),
        &inputs(t.clone(), None, None),
        d("2024-12-31"),
        &control,
    );
    assert!(
        matches!(result, Err(Error::Cancelled)),
        "the run was not cancelled"
    );
    assert_eq!(
        progress.batches.get(),
        1,
        "batches read after the cancellation"
    );
    // The same run without cancelling reads every batch.
    let progress = CancelAtFirstBatch {
        cancel: &AtomicBool::new(false),
        batches: Cell::new(0),
    };
    run::segment(
        parse_config(&abc("")).unwrap(),
        &inputs(t, None, None),
        d("2024-12-31"),
        &Control::new(&progress),
    )
    .unwrap();
    assert!(progress.batches.get() >= 3);
}

#[test]
fn any_thread_budget_gives_the_same_assignments() {
    let f = Files::new();
    let t = big_file(&f);
    // The example configuration holds Pareto, RFM and rules types.
    let example = include_str!("../../../../examples/config.toml");
    let assignments = |threads: usize, config: &str| {
        let control = Control {
            threads: NonZeroUsize::new(threads).unwrap(),
            ..Control::silent()
        };
        let run = run::segment(
            parse_config(config).unwrap(),
            &inputs(t.clone(), None, None),
            d("2024-12-31"),
            &control,
        )
        .unwrap();
        let mut out = Vec::new();
        strata_engine::output::write_assignments(
            &run,
            strata_engine::output::AssignmentColumns::All,
            &mut out,
        )
        .unwrap();
        out
    };
    assert_eq!(assignments(1, &abc("")), assignments(3, &abc("")));
    let one = assignments(1, example);
    assert!(one.len() > 1000, "every type has rows");
    assert_eq!(one, assignments(2, example));
}
