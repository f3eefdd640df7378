//! Writing results: `assignments.csv` and `transitions.csv` into an output
//! folder replaced as one unit (see [`OutputDir`]).

use crate::error::{Error, Result};
use crate::run::{AssignmentRow, CompareRun, Explanation, SegmentRun};
use std::fmt::{self, Write as _};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use strata_domain::segment_type::SegmentType;

/// The file in an output folder that lists the files a run wrote there.
pub const MANIFEST: &str = ".strata-files";

/// Files a run writes, which Strata recognises as its own even in a folder
/// written before it kept a manifest.
const OUTPUT_FILES: [&str; 3] = ["assignments.csv", "transitions.csv", "report.html"];

/// An output folder written as one unit. The folder given to `--out`
/// belongs to Strata: a run locks it, writes a complete sibling folder,
/// syncs it, then exchanges it with the old folder in one step and removes
/// the old one, so that readers see the previous run or the new one, never
/// a mix and never a missing file. Dropped before [`OutputDir::commit`],
/// the sibling folder is removed and the old folder is left as it was.
pub struct OutputDir {
    target: PathBuf,
    /// The folder holding the target, the staging folder and the lock.
    parent: PathBuf,
    staging: PathBuf,
    files: Vec<String>,
    /// Held for the whole run: a second run on the same folder is refused.
    _lock: File,
    committed: bool,
}

/// Names derived from the output folder's, in its parent folder.
struct Siblings {
    parent: PathBuf,
    lock: PathBuf,
    /// Prefix of staging folders, followed by a process id.
    staging_prefix: String,
}

impl Siblings {
    fn of(target: &Path) -> Result<Siblings> {
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| *n != "." && *n != "..")
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--out {}: name the output folder itself, not . or ..",
                    target.display()
                ))
            })?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok(Siblings {
            lock: parent.join(format!(".{name}.strata-lock")),
            staging_prefix: format!(".{name}.strata-staging-"),
            parent,
        })
    }
}

impl OutputDir {
    /// Locks `target` for this run, removes what killed runs left beside
    /// it, refuses a folder holding files Strata did not write (unless
    /// `force`) or holding one of the `inputs`, and creates the empty
    /// sibling folder the run writes into.
    pub fn begin(target: &Path, inputs: &[&Path], force: bool) -> Result<OutputDir> {
        let siblings = Siblings::of(target)?;
        std::fs::create_dir_all(&siblings.parent).map_err(|e| Error::io(&siblings.parent, e))?;
        let lock = lock(&siblings.lock, target)?;
        remove_leftovers(&siblings)?;
        refuse_inputs_inside(target, inputs)?;
        if !force {
            refuse_foreign_files(target)?;
        }
        let staging =
            siblings
                .parent
                .join(format!("{}{}", siblings.staging_prefix, std::process::id()));
        std::fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        Ok(OutputDir {
            target: target.to_path_buf(),
            parent: siblings.parent,
            staging,
            files: Vec::new(),
            _lock: lock,
            committed: false,
        })
    }

    /// The sibling folder being written, which a signal handler removes.
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// Writes one file of the new folder.
    pub fn write(
        &mut self,
        name: &str,
        contents: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<()> {
        let path = self.staging.join(name);
        let target = self.target.join(name);
        let file = File::create(&path).map_err(|e| Error::io(&target, e))?;
        let mut writer = BufWriter::new(file);
        contents(&mut writer).map_err(|e| Error::io(&target, e))?;
        let file = writer
            .into_inner()
            .map_err(|e| Error::io(&target, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io(&target, e))?;
        self.files.push(name.to_owned());
        Ok(())
    }

    /// Puts the new folder in place of the old in one step; returns the
    /// paths of the files written.
    pub fn commit(mut self) -> Result<Vec<PathBuf>> {
        let manifest: String = self.files.iter().map(|f| format!("{f}\n")).collect();
        let files = std::mem::take(&mut self.files);
        self.write(MANIFEST, |w| w.write_all(manifest.as_bytes()))?;
        sync_dir(&self.staging)?;
        if self.target.exists() {
            exchange(&self.staging, &self.target)?;
            sync_dir(&self.parent)?;
            self.committed = true;
            // The old folder now sits at the staging path.
            std::fs::remove_dir_all(&self.staging).map_err(|e| Error::io(&self.staging, e))?;
        } else {
            std::fs::rename(&self.staging, &self.target).map_err(|e| Error::io(&self.target, e))?;
            self.committed = true;
            sync_dir(&self.parent)?;
        }
        Ok(files.iter().map(|f| self.target.join(f)).collect())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: a folder left behind is removed by the next run.
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// Takes the lock beside the output folder, or says which process holds it.
fn lock(path: &Path, target: &Path) -> Result<File> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    match rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {
            file.set_len(0).map_err(|e| Error::io(path, e))?;
            write!(file, "{}", std::process::id()).map_err(|e| Error::io(path, e))?;
            Ok(file)
        }
        Err(rustix::io::Errno::WOULDBLOCK) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            Err(Error::Usage(format!(
                "another strata run (process {}) is writing {}: wait for it to finish",
                holder.trim(),
                target.display()
            )))
        }
        Err(e) => Err(Error::io(path, e.into())),
    }
}

/// Removes the staging folders of runs that were killed.
fn remove_leftovers(siblings: &Siblings) -> Result<()> {
    let entries =
        std::fs::read_dir(&siblings.parent).map_err(|e| Error::io(&siblings.parent, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name
            .to_str()
            .is_some_and(|n| n.starts_with(&siblings.staging_prefix))
        {
            let path = entry.path();
            std::fs::remove_dir_all(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

/// Refuses an input file that lies inside the output folder, which each run replaces.
fn refuse_inputs_inside(target: &Path, inputs: &[&Path]) -> Result<()> {
    let Ok(target) = target.canonicalize() else {
        return Ok(());
    };
    for input in inputs {
        if input.canonicalize().is_ok_and(|p| p.starts_with(&target)) {
            return Err(Error::Usage(format!(
                "the input {} is inside the output folder {}, which every run replaces: choose another --out",
                input.display(),
                target.display()
            )));
        }
    }
    Ok(())
}

/// Refuses an existing output folder that holds files Strata did not write.
fn refuse_foreign_files(target: &Path) -> Result<()> {
    let entries = match std::fs::read_dir(target) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(target, e)),
    };
    let manifest = std::fs::read_to_string(target.join(MANIFEST)).unwrap_or_default();
    let ours = |name: &str| {
        name == MANIFEST || OUTPUT_FILES.contains(&name) || manifest.lines().any(|l| l == name)
    };
    let mut foreign: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !ours(name))
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort();
    let shown = foreign
        .iter()
        .take(5)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    let more = if foreign.len() > 5 {
        format!(" and {} more", foreign.len() - 5)
    } else {
        String::new()
    };
    Err(Error::Usage(format!(
        "the output folder {} holds files Strata did not write ({shown}{more}); each run replaces the whole folder: choose another --out, or pass --force to replace it anyway",
        target.display()
    )))
}

/// Flushes a folder's entries to disk.
fn sync_dir(path: &Path) -> Result<()> {
    File::open(path)
        .and_then(|dir| dir.sync_all())
        .map_err(|e| Error::io(path, e))
}

/// Exchanges two folders in one step.
#[cfg(target_os = "linux")]
fn exchange(new: &Path, old: &Path) -> Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, new, CWD, old, RenameFlags::EXCHANGE).map_err(|e| Error::io(old, e.into()))
}

/// Two renames: the old folder moves aside, the new one takes its place;
/// the new folder's files are never beside the old ones.
#[cfg(not(target_os = "linux"))]
fn exchange(new: &Path, old: &Path) -> Result<()> {
    let aside = new.with_extension("old");
    std::fs::rename(old, &aside).map_err(|e| Error::io(old, e))?;
    std::fs::rename(new, old).map_err(|e| Error::io(old, e))?;
    std::fs::rename(&aside, new).map_err(|e| Error::io(new, e))
}

/// The header of `assignments.csv`, shared by every method.
pub const ASSIGNMENT_COLUMNS: [&str; 16] = [
    "segment_type",
    "customer_id",
    "segment",
    "source",
    "auto_segment",
    "manual_segment",
    "visit_every_days",
    "priority",
    "eligible_sales",
    "share_before",
    "recency_days",
    "frequency",
    "monetary",
    "r",
    "f",
    "m",
];

/// The columns of `assignments.csv` after the segments and their sources:
/// what the sales team is asked to do and what decided the segment.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Figure {
    /// `visit_every_days` of the segment.
    VisitEveryDays,
    /// `priority` of the segment.
    Priority,
    /// Pareto: eligible sales in the window.
    EligibleSales,
    /// Pareto: `before / T`, six decimals truncated.
    ShareBefore,
    /// RFM: days from the last positive order to the window's end.
    RecencyDays,
    /// RFM: positive orders in the window.
    Frequency,
    /// RFM: net sum in the window.
    Monetary,
    /// RFM: recency score.
    R,
    /// RFM: frequency score.
    F,
    /// RFM: monetary score.
    M,
}

impl Figure {
    /// Every figure, in the file's order.
    pub const ALL: [Figure; 10] = [
        Figure::VisitEveryDays,
        Figure::Priority,
        Figure::EligibleSales,
        Figure::ShareBefore,
        Figure::RecencyDays,
        Figure::Frequency,
        Figure::Monetary,
        Figure::R,
        Figure::F,
        Figure::M,
    ];

    /// Its column name in `assignments.csv`.
    pub fn name(self) -> &'static str {
        ASSIGNMENT_COLUMNS[FIRST_FIGURE + self as usize]
    }
}

/// Where the figures start in [`ASSIGNMENT_COLUMNS`].
pub const FIRST_FIGURE: usize = 6;

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
    for row in rows {
        row_cells(run, ty, row, columns, &mut |cell| match cell {
            Cell::Text(text) => csv.write_field(text),
            Cell::Value(value) => {
                number.clear();
                if let Some(value) = value {
                    write!(number, "{value}").expect("writing to a String cannot fail");
                }
                csv.write_field(&number)
            }
        })?;
        csv.write_record(None::<&[u8]>)?;
    }
    csv.into_inner().map_err(|e| e.into_error())
}

/// One cell of a row of `assignments.csv`.
pub enum Cell<'a> {
    /// A text, written as it is (empty for none).
    Text(&'a str),
    /// A value to format, `None` for an empty cell.
    Value(Option<&'a dyn fmt::Display>),
}

/// Hands the cells of one row of `assignments.csv` to `cell`, in the order
/// of `columns`: what the file holds, for callers that store rows
/// elsewhere (the server) without formatting and parsing a file.
pub fn row_cells<E>(
    run: &SegmentRun,
    ty: &SegmentType,
    row: &AssignmentRow,
    columns: AssignmentColumns,
    cell: &mut dyn FnMut(Cell<'_>) -> Result<(), E>,
) -> Result<(), E> {
    let name = |s: Option<u16>| s.map_or("", |s| ty.segment_name(s));
    let a = row.assignment;
    for text in [
        ty.name.as_str(),
        run.dicts.customers.name(row.customer),
        name(a.segment),
    ] {
        cell(Cell::Text(text))?;
    }
    if columns == AssignmentColumns::Segments {
        return Ok(());
    }
    for text in [
        a.source.map_or("", |s| s.as_str()),
        name(a.auto_segment),
        name(a.manual_segment),
    ] {
        cell(Cell::Text(text))?;
    }
    // What the effective segment asks of the sales team.
    let segment = a.segment.map(|s| &ty.segments[usize::from(s)]);
    cell(Cell::Value(
        segment
            .and_then(|s| s.visit_every_days.as_ref())
            .map(|d| d as &dyn fmt::Display),
    ))?;
    cell(Cell::Value(
        segment
            .and_then(|s| s.priority.as_ref())
            .map(|p| p as &dyn fmt::Display),
    ))?;
    match &row.explanation {
        Explanation::Pareto {
            eligible_sales,
            share_before,
        } => {
            cell(Cell::Value(Some(eligible_sales)))?;
            cell(Cell::Value(
                share_before.as_ref().map(|f| f as &dyn fmt::Display),
            ))?;
            for _ in 0..6 {
                cell(Cell::Value(None))?;
            }
        }
        Explanation::Rfm(Some(score)) => {
            cell(Cell::Value(None))?;
            cell(Cell::Value(None))?;
            for value in [
                &score.recency_days as &dyn fmt::Display,
                &score.frequency,
                &score.monetary,
                &score.r,
                &score.f,
                &score.m,
            ] {
                cell(Cell::Value(Some(value)))?;
            }
        }
        Explanation::Rfm(None) | Explanation::Rules => {
            for _ in 0..8 {
                cell(Cell::Value(None))?;
            }
        }
    }
    Ok(())
}

/// The columns of `transitions.csv`.
pub const TRANSITION_COLUMNS: [&str; 4] = ["customer_id", "segment_a", "segment_b", "movement"];

/// Writes `transitions.csv`: one row per customer with a segment in either period.
pub fn write_transitions(run: &CompareRun, out: &mut dyn Write) -> std::io::Result<()> {
    let ty = &run.config.types[run.type_idx];
    let name = |s: Option<u16>| s.map_or("", |s| ty.segment_name(s));
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(TRANSITION_COLUMNS)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_name_the_columns_after_the_segments() {
        let names: Vec<&str> = Figure::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names, ASSIGNMENT_COLUMNS[FIRST_FIGURE..]);
        assert_eq!(ASSIGNMENT_COLUMNS[FIRST_FIGURE - 1], "manual_segment");
    }
}
