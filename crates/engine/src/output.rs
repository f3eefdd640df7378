//! Writing results: `assignments.csv` and `transitions.csv`, staged in
//! temporary files and renamed into place only when every file is complete.

use crate::error::{Error, Result};
use crate::run::{AssignmentRow, CompareRun, Explanation, SegmentRun};
use std::fmt::{self, Write as _};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use strata_domain::segment_type::SegmentType;
use tempfile::NamedTempFile;

/// Files written to temporary names in the output folder, renamed on commit.
pub struct Staged {
    dir: PathBuf,
    files: Vec<(NamedTempFile, String)>,
}

impl Staged {
    /// Prepares an output folder, creating it if needed.
    pub fn new(dir: &Path) -> Result<Staged> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Ok(Staged {
            dir: dir.to_path_buf(),
            files: Vec::new(),
        })
    }

    /// Writes one file under a temporary name.
    pub fn write(
        &mut self,
        name: &str,
        contents: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<()> {
        let target = self.dir.join(name);
        let temp = NamedTempFile::new_in(&self.dir).map_err(|e| Error::io(&target, e))?;
        let mut writer = BufWriter::new(temp);
        contents(&mut writer).map_err(|e| Error::io(&target, e))?;
        let temp = writer
            .into_inner()
            .map_err(|e| Error::io(&target, e.into_error()))?;
        temp.as_file()
            .sync_all()
            .map_err(|e| Error::io(&target, e))?;
        // Temporary files are private; results are ordinary files, readable like any other.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o644))
                .map_err(|e| Error::io(&target, e))?;
        }
        self.files.push((temp, name.to_owned()));
        Ok(())
    }

    /// Renames every staged file into place.
    pub fn commit(self) -> Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for (temp, name) in self.files {
            let target = self.dir.join(name);
            temp.persist(&target)
                .map_err(|e| Error::io(&target, e.error))?;
            written.push(target);
        }
        Ok(written)
    }
}

/// The header of `assignments.csv`, shared by every method.
pub const ASSIGNMENT_COLUMNS: [&str; 14] = [
    "segment_type",
    "customer_id",
    "segment",
    "source",
    "auto_segment",
    "manual_segment",
    "eligible_sales",
    "share_before",
    "recency_days",
    "frequency",
    "monetary",
    "r",
    "f",
    "m",
];

/// Which columns `assignments.csv` holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AssignmentColumns {
    /// Every column of [`ASSIGNMENT_COLUMNS`]: the segment and what explains it.
    All,
    /// Only `segment_type`, `customer_id` and `segment`.
    Segments,
}

impl AssignmentColumns {
    /// The header for these columns.
    pub fn header(self) -> &'static [&'static str] {
        match self {
            AssignmentColumns::All => &ASSIGNMENT_COLUMNS,
            AssignmentColumns::Segments => &ASSIGNMENT_COLUMNS[..3],
        }
    }
}

/// Writes `assignments.csv`: one row per account with a segment, types in
/// configuration order, then by customer id.
pub fn write_assignments(
    run: &SegmentRun,
    columns: AssignmentColumns,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let mut header = csv::Writer::from_writer(&mut *out);
    header.write_record(columns.header())?;
    header.flush()?;
    drop(header);
    let pieces: Vec<(&SegmentType, &[AssignmentRow])> = run
        .types
        .iter()
        .flat_map(|result| {
            let ty = &run.config.types[result.type_idx];
            result
                .rows
                .chunks(ROWS_PER_PIECE)
                .map(move |rows| (ty, rows))
        })
        .collect();
    // Formatting numbers is most of the work: pieces are formatted side by
    // side, then written in order.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    for round in pieces.chunks(workers) {
        let formatted: Vec<std::io::Result<Vec<u8>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = round
                .iter()
                .map(|&(ty, rows)| scope.spawn(move || format_rows(run, ty, rows, columns)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        for bytes in formatted {
            out.write_all(&bytes?)?;
        }
    }
    out.flush()
}

/// Rows of `assignments.csv` formatted together.
const ROWS_PER_PIECE: usize = 64 * 1024;

/// Formats rows of one type as CSV, without the header.
fn format_rows(
    run: &SegmentRun,
    ty: &SegmentType,
    rows: &[AssignmentRow],
    columns: AssignmentColumns,
) -> std::io::Result<Vec<u8>> {
    let mut csv = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 64));
    // Fields are written one by one through one reused buffer: a million
    // rows would otherwise cost fourteen allocations each.
    let mut number = String::new();
    let name = |s: Option<u16>| s.map_or("", |s| ty.segment_name(s));
    for row in rows {
        let a = row.assignment;
        for text in [
            ty.name.as_str(),
            run.dicts.customers.name(row.customer),
            name(a.segment),
        ] {
            csv.write_field(text)?;
        }
        if columns == AssignmentColumns::Segments {
            csv.write_record(None::<&[u8]>)?;
            continue;
        }
        for text in [
            a.source.map_or("", |s| s.as_str()),
            name(a.auto_segment),
            name(a.manual_segment),
        ] {
            csv.write_field(text)?;
        }
        let mut field = |value: Option<&dyn fmt::Display>| {
            number.clear();
            if let Some(value) = value {
                write!(number, "{value}").expect("writing to a String cannot fail");
            }
            csv.write_field(&number)
        };
        match &row.explanation {
            Explanation::Pareto {
                eligible_sales,
                share_before,
            } => {
                field(Some(eligible_sales))?;
                field(share_before.as_ref().map(|f| f as &dyn fmt::Display))?;
                for _ in 0..6 {
                    field(None)?;
                }
            }
            Explanation::Rfm(Some(score)) => {
                field(None)?;
                field(None)?;
                for value in [
                    &score.recency_days as &dyn fmt::Display,
                    &score.frequency,
                    &score.monetary,
                    &score.r,
                    &score.f,
                    &score.m,
                ] {
                    field(Some(value))?;
                }
            }
            Explanation::Rfm(None) | Explanation::Rules => {
                for _ in 0..8 {
                    field(None)?;
                }
            }
        }
        csv.write_record(None::<&[u8]>)?;
    }
    csv.into_inner().map_err(|e| e.into_error())
}

/// Writes `transitions.csv`: one row per customer with a segment in either period.
pub fn write_transitions(run: &CompareRun, out: &mut dyn Write) -> std::io::Result<()> {
    let ty = &run.config.types[run.type_idx];
    let name = |s: Option<u16>| s.map_or("", |s| ty.segment_name(s));
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(["customer_id", "segment_a", "segment_b", "movement"])?;
    for t in &run.transitions {
        csv.write_record([
            run.dicts.customers.name(t.customer),
            name(t.segment_a),
            name(t.segment_b),
            t.movement.as_str(),
        ])?;
    }
    csv.flush()
}
