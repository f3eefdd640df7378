//! The output folder is one unit: a run replaces it whole or not at all,
//! through the `strata` binary, with failures, signals and concurrent runs.

use assert_cmd::Command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/config.toml");

fn strata() -> Command {
    Command::cargo_bin("strata").unwrap()
}

/// A generated history in a fresh folder, and the folder runs write to.
struct Data {
    dir: tempfile::TempDir,
}

impl Data {
    fn new(customers: &str) -> Data {
        let dir = tempfile::tempdir().unwrap();
        strata()
            .args([
                "generate",
                "--customers",
                customers,
                "--seed",
                "5",
                "--end",
                "2024-12-31",
                "--out",
            ])
            .arg(dir.path().join("data"))
            .assert()
            .success();
        Data { dir }
    }

    fn transactions(&self) -> PathBuf {
        self.dir.path().join("data/transactions.csv")
    }

    fn out(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// `strata segment` on `transactions` into the output folder, plus `extra`.
    fn segment(&self, transactions: &Path, extra: &[&str]) -> std::process::Command {
        let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("strata"));
        command
            .args([
                "segment",
                "--quiet",
                "--config",
                CONFIG,
                "--as-of",
                "2024-12-31",
                "--transactions",
            ])
            .arg(transactions)
            .arg("--out")
            .arg(self.out())
            .args(extra);
        command
    }

    /// Every file of the output folder and its bytes.
    fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        std::fs::read_dir(self.out())
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect()
    }

    /// What lies beside the output folder, but for the data and the lock.
    fn leftovers(&self) -> Vec<String> {
        std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n != "data" && n != "out" && n != ".out.strata-lock")
            .collect()
    }
}

fn succeeds(mut command: std::process::Command) {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Waits until a running command has staged its output folder.
fn wait_for_staging(data: &Data) {
    let start = Instant::now();
    while !std::fs::read_dir(data.dir.path()).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".out.strata-staging-")
    }) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the run never staged its folder"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_run_failing_after_staging_began_leaves_the_old_folder_byte_identical() {
    let data = Data::new("2000");
    succeeds(data.segment(&data.transactions(), &[]));
    let before = data.snapshot();
    assert!(before.contains_key("assignments.csv") && before.contains_key("report.html"));
    // The same history with a bad line at the very end: the run fails while reading,
    // after its output folder was staged.
    let mut text = std::fs::read_to_string(data.transactions()).unwrap();
    text.push_str("O-bad,C0000001,2024-02-30,1,1,Lyon,Bosch,brakes,1,completed,\n");
    let bad = data.dir.path().join("data/bad.csv");
    std::fs::write(&bad, text).unwrap();
    let output = data.segment(&bad, &[]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("2024-02-30"));
    assert_eq!(data.snapshot(), before, "the old folder is byte-identical");
    assert_eq!(
        data.leftovers(),
        Vec::<String>::new(),
        "no staging folder left"
    );
}

#[test]
fn a_run_without_report_after_one_with_leaves_no_report() {
    let data = Data::new("300");
    succeeds(data.segment(&data.transactions(), &[]));
    assert!(data.out().join("report.html").exists());
    succeeds(data.segment(&data.transactions(), &["--no-report"]));
    let files: Vec<String> = data.snapshot().into_keys().collect();
    assert_eq!(files, [".strata-files", "assignments.csv"]);
}

#[test]
fn a_folder_with_files_strata_did_not_write_is_refused_unless_forced() {
    let data = Data::new("300");
    std::fs::create_dir_all(data.out()).unwrap();
    std::fs::write(data.out().join("notes.txt"), "mine").unwrap();
    let output = data.segment(&data.transactions(), &[]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("holds files Strata did not write (notes.txt)")
            && stderr.contains("--force"),
        "{stderr}"
    );
    assert!(data.out().join("notes.txt").exists());
    succeeds(data.segment(&data.transactions(), &["--force"]));
    assert!(
        !data.out().join("notes.txt").exists(),
        "--force replaces the folder"
    );
    // Strata's own files, from this run or listed in its manifest, are no obstacle.
    succeeds(data.segment(&data.transactions(), &[]));
}

#[test]
fn an_input_inside_the_output_folder_is_refused() {
    let data = Data::new("300");
    std::fs::create_dir_all(data.out()).unwrap();
    let inside = data.out().join("assignments.csv");
    std::fs::copy(data.transactions(), &inside).unwrap();
    let output = data.segment(&inside, &[]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("is inside the output folder"), "{stderr}");
    assert_eq!(
        std::fs::read(&inside).unwrap(),
        std::fs::read(data.transactions()).unwrap(),
        "the input is untouched"
    );
}

#[test]
fn a_second_run_on_the_same_folder_is_refused_at_once_naming_the_first() {
    let data = Data::new("20000");
    let mut first = data
        .segment(&data.transactions(), &[])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_staging(&data);
    let output = data
        .segment(&data.transactions(), &["--no-report"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!(
            "another strata run (process {}) is writing",
            first.id()
        )),
        "{stderr}"
    );
    assert!(first.wait().unwrap().success());
    let files: Vec<String> = data.snapshot().into_keys().collect();
    assert_eq!(
        files,
        [".strata-files", "assignments.csv", "report.html"],
        "the first run's folder, whole"
    );
}

#[cfg(unix)]
fn signal(child: &std::process::Child, name: &str) {
    let status = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn sigterm_and_sigint_stop_a_run_leaving_the_previous_outputs_and_no_temporary_file() {
    let data = Data::new("20000");
    succeeds(data.segment(&data.transactions(), &["--no-report"]));
    let before = data.snapshot();
    for (name, code) in [("TERM", 143), ("INT", 130)] {
        let mut run = data
            .segment(&data.transactions(), &[])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        wait_for_staging(&data);
        let sent = Instant::now();
        signal(&run, name);
        let status = run.wait().unwrap();
        assert!(sent.elapsed() < Duration::from_secs(5), "stopped promptly");
        assert_eq!(status.code(), Some(code), "SIG{name}");
        assert_eq!(
            data.snapshot(),
            before,
            "SIG{name}: previous outputs intact"
        );
        assert_eq!(
            data.leftovers(),
            Vec::<String>::new(),
            "SIG{name}: no temporary file"
        );
    }
    // A run killed outright leaves its staging folder; the next run removes it.
    let mut run = data
        .segment(&data.transactions(), &[])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for_staging(&data);
    signal(&run, "KILL");
    run.wait().unwrap();
    assert_eq!(data.snapshot(), before);
    assert_eq!(data.leftovers().len(), 1, "a killed run's staging folder");
    succeeds(data.segment(&data.transactions(), &[]));
    assert_eq!(
        data.leftovers(),
        Vec::<String>::new(),
        "removed by the next run"
    );
    assert!(data.out().join("report.html").exists());
}
