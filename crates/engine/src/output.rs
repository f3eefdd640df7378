//! Writing results: `assignments.csv` and `transitions.csv`, staged in
//! temporary files and renamed into place only when every file is complete.

use crate::error::{Error, Result};
use crate::run::{CompareRun, Explanation, SegmentRun};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
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

/// Writes `assignments.csv`: one row per account with a segment, types in
/// configuration order, then by customer id.
pub fn write_assignments(run: &SegmentRun, out: &mut dyn Write) -> std::io::Result<()> {
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(ASSIGNMENT_COLUMNS)?;
    for result in &run.types {
        let ty = &run.config.types[result.type_idx];
        let name = |s: Option<u16>| s.map_or(String::new(), |s| ty.segment_name(s).to_owned());
        for row in &result.rows {
            let a = row.assignment;
            let mut record = vec![
                ty.name.clone(),
                run.dicts.customers.name(row.customer).to_owned(),
                name(a.segment),
                a.source.map_or("", |s| s.as_str()).to_owned(),
                name(a.auto_segment),
                name(a.manual_segment),
            ];
            let mut method_columns = [(); 8].map(|_| String::new());
            match row.explanation {
                Explanation::Pareto {
                    eligible_sales,
                    share_before,
                } => {
                    method_columns[0] = eligible_sales.to_string();
                    method_columns[1] = share_before.map_or(String::new(), |f| f.to_string());
                }
                Explanation::Rfm(Some(score)) => {
                    let values = [
                        score.recency_days.to_string(),
                        score.frequency.to_string(),
                        score.monetary.to_string(),
                        score.r.to_string(),
                        score.f.to_string(),
                        score.m.to_string(),
                    ];
                    method_columns[2..].clone_from_slice(&values);
                }
                Explanation::Rfm(None) | Explanation::Rules => {}
            }
            record.extend(method_columns);
            csv.write_record(&record)?;
        }
    }
    csv.flush()
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
