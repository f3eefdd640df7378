//! Hostile inputs through the `strata` binary: each gives a clear error
//! naming where the problem is, never a wrong answer, a crash or a lost file.

use assert_cmd::Command;
use std::path::Path;
use std::sync::Arc;
use strata_testkit::Files;

fn strata() -> Command {
    Command::cargo_bin("strata").unwrap()
}

const ABC: &str = r#"
[[types]]
name = "ABC"
method = "pareto"
[[types.segments]]
name = "A"
share = 80
[[types.segments]]
name = "B"
share = 15
[[types.segments]]
name = "C"
share = 5
"#;

/// Runs `strata segment` as of 2024-12-31; returns (success, stdout, stderr).
fn segment(
    files: &Files,
    transactions: &Path,
    config: &str,
    extra: &[&str],
) -> (bool, String, String) {
    let config = files.write("config.toml", config);
    let as_of: &[&str] = if extra.contains(&"--as-of") {
        &[]
    } else {
        &["--as-of", "2024-12-31"]
    };
    let output = strata()
        .args(["segment", "--no-report"])
        .args(as_of)
        .arg("--transactions")
        .arg(transactions)
        .arg("--config")
        .arg(config)
        .arg("--out")
        .arg(files.path("out"))
        .args(extra)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Asserts that `strata segment` fails with a message holding every fragment.
fn fails_with(files: &Files, transactions: &Path, config: &str, fragments: &[&str]) {
    let (ok, _, stderr) = segment(files, transactions, config, &[]);
    assert!(!ok, "expected a failure, got success; stderr: {stderr}");
    for fragment in fragments {
        assert!(stderr.contains(fragment), "{fragment:?} not in: {stderr}");
    }
    assert!(stderr.len() < 1000, "a short message: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

const HEADER: &str = "order_id,customer_id,date,amount\n";

#[test]
fn sums_that_overflow_are_errors_naming_the_type_and_the_customer() {
    let files = Files::new();
    // Two lines of one customer: its own sales overflow.
    let one = files.write(
        "one.csv",
        format!("{HEADER}O1,C1,2024-06-01,900000000000000\nO2,C1,2024-06-02,900000000000000\nO3,C2,2024-06-02,5\n"),
    );
    fails_with(
        &files,
        &one,
        ABC,
        &["type 'ABC'", "customer 'C1'", "922337203685477.5807"],
    );
    // Twelve customers that each fit: the ranked total T overflows.
    let mut twelve = HEADER.to_owned();
    for c in 1..=12 {
        twelve.push_str(&format!("O{c},C{c:02},2024-06-01,100000000000000\n"));
    }
    let twelve = files.write("twelve.csv", twelve);
    fails_with(&files, &twelve, ABC, &["type 'ABC'", "customer 'C"]);
    // RFM monetary and rules features overflow as well.
    let rfm = "[[types]]\nname = \"RFM\"\nmethod = \"rfm\"\n";
    fails_with(&files, &one, rfm, &["type 'RFM'", "customer 'C1'"]);
    let rules = "[[types]]\nname = \"G\"\nmethod = \"rules\"\nexclusive = false\n[[types.segments]]\nname = \"big\"\nrule = \"total_spent > 100\"\n";
    fails_with(&files, &one, rules, &["customer 'C1'"]);
    // Lines that net to a representable value in opposite directions are refused too:
    // their absolute values cannot be totalled exactly.
    let opposite = files.write(
        "opposite.csv",
        format!("{HEADER}O1,C1,2024-06-01,900000000000000\nO2,C2,2024-06-02,-900000000000000\n"),
    );
    fails_with(&files, &opposite, ABC, &["type 'ABC'", "customer 'C2'"]);
}

const RULES_ON_TYPES: &str = r#"
[[types]]
name = "P"
method = "pareto"
[[types.segments]]
name = "A"
share = 80
[[types.segments]]
name = "B"
share = 15
[[types.segments]]
name = "C"
share = 5

[[types]]
name = "RFM"
method = "rfm"

[[types]]
name = "G"
method = "rules"
exclusive = false
[[types.segments]]
name = "g"
"#;

#[test]
fn a_rule_comparing_a_type_with_a_segment_it_lacks_is_an_error() {
    let files = Files::new();
    let lines = files.write("t.csv", format!("{HEADER}O1,C1,2024-06-01,10\n"));
    for (rule, fragment) in [
        (
            "segment('P') = 'Z'",
            "segment('P') has no segment 'Z' (segments: A, B, C)",
        ),
        (
            "rfm('RFM') IN ('at_risk', 'at_rsk')",
            "rfm('RFM') has no segment 'at_rsk'",
        ),
        ("segment('P') NOT IN ('a', 'D')", "has no segment 'D'"),
        (
            "segment('P') CONTAINS 'A'",
            "CONTAINS cannot be used on segment('P')",
        ),
        (
            "rfm('RFM') STARTS WITH 'at'",
            "STARTS WITH cannot be used on rfm('RFM')",
        ),
    ] {
        let config = format!("{RULES_ON_TYPES}rule = \"{rule}\"\n");
        fails_with(&files, &lines, &config, &["segment 'g'", fragment]);
    }
    // Segment names compare ignoring case, as evaluation does.
    let config = format!(
        "{RULES_ON_TYPES}rule = \"segment('P') IN ('a', 'b') OR rfm('RFM') = 'CHAMPIONS'\"\n"
    );
    let (ok, _, stderr) = segment(&files, &lines, &config, &["--quiet"]);
    assert!(ok, "{stderr}");
    // preview checks the same.
    let output = strata()
        .args([
            "preview",
            "--as-of",
            "2024-12-31",
            "--rule",
            "segment('P') = 'Z'",
            "--transactions",
        ])
        .arg(&lines)
        .arg("--config")
        .arg(files.write(
            "types.toml",
            RULES_ON_TYPES.replace(
                "[[types.segments]]\nname = \"g\"\n",
                "[[types.segments]]\nname = \"g\"\nrule = \"total_spent > 0\"\n",
            ),
        ))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("has no segment 'Z'"));
}

#[test]
fn names_differing_only_in_case_are_refused() {
    let files = Files::new();
    let lines = files.write("t.csv", format!("{HEADER}O1,C1,2024-06-01,10\n"));
    let segments = ABC.replace("name = \"B\"", "name = \"a\"");
    fails_with(
        &files,
        &lines,
        &segments,
        &["duplicate segment name 'a'", "ignoring case"],
    );
    let types = format!("{ABC}{}", ABC.replace("\"ABC\"", "\"abc\""));
    fails_with(
        &files,
        &lines,
        &types,
        &["type 2 'abc'", "duplicate type name"],
    );
}

#[test]
fn duplicate_columns_are_refused_naming_both_positions() {
    let files = Files::new();
    for header in [
        "order_id,customer_id,date,amount,amount",
        "order_id,customer_id,date,Amount, amount ",
    ] {
        let lines = files.write("t.csv", format!("{header}\nO1,C1,2024-06-01,10,20\n"));
        fails_with(
            &files,
            &lines,
            ABC,
            &["t.csv", "columns 4 and 5 are both named 'amount'"],
        );
    }
    // Columns Strata does not read may repeat, and blank headers are ignored.
    let lines = files.write(
        "ok.csv",
        "order_id,note,customer_id,date,amount,NOTE,,\nO1,x,C1,2024-06-01,10,y,,\n",
    );
    let (ok, _, stderr) = segment(&files, &lines, ABC, &["--quiet"]);
    assert!(ok, "{stderr}");
    // Every named column of the customers file counts.
    let customers = files.write(
        "customers.csv",
        "customer_id,email,EMAIL\nC1,a@x.fr,b@x.fr\n",
    );
    let (ok, _, stderr) = segment(
        &files,
        &lines,
        ABC,
        &["--customers", customers.to_str().unwrap()],
    );
    assert!(!ok);
    assert!(
        stderr.contains("customers.csv")
            && stderr.contains("columns 2 and 3 are both named 'email'"),
        "{stderr}"
    );
    // Parquet too.
    let parquet = files.path("t.parquet");
    write_parquet(
        &parquet,
        vec![
            ("order_id", text(&["O1"])),
            ("customer_id", text(&["C1"])),
            ("date", text(&["2024-06-01"])),
            ("amount", text(&["10"])),
            ("AMOUNT", text(&["20"])),
        ],
    );
    fails_with(
        &files,
        &parquet,
        ABC,
        &["t.parquet", "columns 4 and 5 are both named 'amount'"],
    );
}

#[test]
fn nul_bytes_in_ids_and_an_unclosed_quote_at_the_end_are_errors_naming_the_line() {
    let files = Files::new();
    let nul = files.write(
        "nul.csv",
        format!("{HEADER}O1,C1,2024-06-01,10\nO2,C\u{0}2,2024-06-01,10\n"),
    );
    fails_with(
        &files,
        &nul,
        ABC,
        &["nul.csv: line 3, column 'customer_id'", "NUL byte"],
    );
    let nul_order = files.write("nul2.csv", format!("{HEADER}O1\u{0},C1,2024-06-01,10\n"));
    fails_with(
        &files,
        &nul_order,
        ABC,
        &["line 2, column 'order_id'", "NUL byte"],
    );
    let customers = files.write("customers.csv", "customer_id,name\nC1,x\n\"C\u{0}2\",y\n");
    let lines = files.write("t.csv", format!("{HEADER}O1,C1,2024-06-01,10\n"));
    let (ok, _, stderr) = segment(
        &files,
        &lines,
        ABC,
        &["--customers", customers.to_str().unwrap()],
    );
    assert!(
        !ok && stderr.contains("customers.csv: line 3") && stderr.contains("NUL byte"),
        "{stderr}"
    );
    // An unclosed quote in the last field of the last line.
    let open = files.write(
        "open.csv",
        format!("{HEADER}O1,C1,2024-06-01,10\nO2,C2,2024-06-01,\"10"),
    );
    fails_with(&files, &open, ABC, &["open.csv: line 3", "never closed"]);
    let open_newline = files.write(
        "open2.csv",
        format!("{HEADER}O1,C1,2024-06-01,10\nO2,\"C2,2024-06-01,10\n"),
    );
    fails_with(
        &files,
        &open_newline,
        ABC,
        &["open2.csv: line 3", "never closed"],
    );
    // A closed quote at the end is fine.
    let closed = files.write(
        "closed.csv",
        format!("{HEADER}O1,C1,2024-06-01,10\nO2,\"C2\",2024-06-01,\"10\""),
    );
    let (ok, _, stderr) = segment(&files, &closed, ABC, &["--quiet"]);
    assert!(ok, "{stderr}");
}

#[test]
fn shares_of_customers_in_group_types_divide_by_customers() {
    let files = Files::new();
    let lines = files.write(
        "t.csv",
        format!("{HEADER}O1,C1,2024-06-01,10\nO2,C2,2024-06-01,200\nO3,C3,2024-06-01,300\n"),
    );
    // x: C2, C3; y: C1, C3. Each group holds 2 of 3 customers.
    let config = "[[types]]\nname = \"G\"\nmethod = \"rules\"\nexclusive = false\n[[types.segments]]\nname = \"x\"\nrule = \"total_spent > 100\"\n[[types.segments]]\nname = \"y\"\nrule = \"total_spent < 100 OR total_spent > 250\"\n";
    let (ok, stdout, stderr) = segment(&files, &lines, config, &[]);
    assert!(ok, "{stderr}");
    let row = |name: &str| {
        stdout
            .lines()
            .find(|l| l.contains(&format!(" {name} ")))
            .unwrap()
            .to_owned()
    };
    assert!(row("x").contains("66.7 %"), "{}", row("x"));
    assert!(row("y").contains("66.7 %"), "{}", row("y"));
}

#[test]
fn dates_out_of_range_are_errors_from_any_input_or_flag() {
    let files = Files::new();
    for (name, days) in [("high", i32::MAX), ("low", i32::MIN), ("year0", -719_163)] {
        let parquet = files.path(&format!("{name}.parquet"));
        write_parquet(
            &parquet,
            vec![
                ("order_id", text(&["O1", "O2"])),
                ("customer_id", text(&["C1", "C2"])),
                (
                    "date",
                    Arc::new(arrow_array::Date32Array::from(vec![19_000, days])),
                ),
                ("amount", text(&["10", "20"])),
            ],
        );
        for command in ["check", "segment"] {
            let output = strata()
                .arg(command)
                .arg("--transactions")
                .arg(&parquet)
                .args(if command == "segment" {
                    vec![
                        "--config".into(),
                        files.write("c.toml", ABC).into_os_string(),
                        "--out".into(),
                        files.path("out").into_os_string(),
                    ]
                } else {
                    vec![]
                })
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!output.status.success(), "{command} {name}");
            assert!(
                stderr.contains("row 2, column 'date'")
                    && stderr.contains("0001-01-01 and 9999-12-31"),
                "{command} {name}: {stderr}"
            );
        }
    }
    let stamps = files.path("stamps.parquet");
    write_parquet(
        &stamps,
        vec![
            ("order_id", text(&["O1"])),
            ("customer_id", text(&["C1"])),
            (
                "date",
                Arc::new(arrow_array::TimestampMicrosecondArray::from(vec![
                    -9_200_000_000_000_000_000i64,
                ])),
            ),
            ("amount", text(&["10"])),
        ],
    );
    let output = strata()
        .arg("check")
        .arg("--transactions")
        .arg(&stamps)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("row 1, column 'date'"));
    // Text dates and flags.
    let lines = files.write("t.csv", format!("{HEADER}O1,C1,0000-12-31,10\n"));
    fails_with(
        &files,
        &lines,
        ABC,
        &[
            "line 2, column 'date'",
            "from 0001-01-01 to 9999-12-31, found '0000-12-31'",
        ],
    );
    let good = files.write("good.csv", format!("{HEADER}O1,C1,2024-06-01,10\n"));
    let (ok, _, stderr) = segment(&files, &good, ABC, &["--as-of", "0000-01-01"]);
    assert!(!ok && stderr.contains("--as-of '0000-01-01'"), "{stderr}");
    let (ok, _, stderr) = segment(&files, &good, ABC, &["--as-of", "0001-03-01"]);
    assert!(
        ok,
        "a window reaching before year 1 starts at 0001-01-01: {stderr}"
    );
}

#[test]
fn a_json_rule_is_validated_as_the_text_form_is() {
    let files = Files::new();
    let lines = files.write("t.csv", format!("{HEADER}O1,C1,2024-06-01,10\n"));
    let preview = |rule: &str| {
        strata()
            .args([
                "preview",
                "--as-of",
                "2024-12-31",
                "--rule",
                rule,
                "--transactions",
            ])
            .arg(&lines)
            .output()
            .unwrap()
    };
    let condition = r#"{"condition":{"test":"compare","operand":{"feature":"total_spent"},"op":">","value":{"number":"5"}}}"#;
    for (rule, fragment) in [
        (r#"{"and":[]}"#.to_owned(), "an \"and\" needs at least two parts, found 0"),
        (r#"{"or":[]}"#.to_owned(), "an \"or\" needs at least two parts, found 0"),
        (format!(r#"{{"and":[{condition}]}}"#), "needs at least two parts, found 1"),
        (format!("{}{condition}{}", r#"{"not":"#.repeat(70), "}".repeat(70)), "nests more than 64 levels"),
        (r#"{"condition":{"test":"compare","operand":{"feature":"totl_spent"},"op":">","value":{"number":"5"}}}"#.to_owned(), "unknown feature 'totl_spent'"),
        (r#"{"condition":{"test":"compare","operand":{"feature":"total_spent"},"op":">","value":{"text":"x"}}}"#.to_owned(), "expected a number"),
    ] {
        let output = preview(&rule);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{rule}");
        assert!(stderr.contains(fragment) && !stderr.contains("panicked"), "{rule}: {stderr}");
    }
    let output = preview(&format!(r#"{{"and":[{condition},{condition}]}}"#));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("1 of 1 customers"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

#[test]
fn a_record_over_1_mib_is_an_error_and_quoted_values_are_cut() {
    let files = Files::new();
    // No line break at all, as /dev/zero or a binary file.
    let endless = files.write("endless.csv", vec![b'x'; 3 << 20]);
    fails_with(
        &files,
        &endless,
        ABC,
        &["endless.csv", "line 1 is longer than 1 MiB"],
    );
    let zeros = files.write("zeros.csv", vec![0u8; 3 << 20]);
    fails_with(&files, &zeros, ABC, &["zeros.csv", "longer than 1 MiB"]);
    // A long record after good ones, with and without a line break after it.
    let long = "9".repeat(2 << 20);
    for (name, end) in [("long.csv", "\n"), ("long_last.csv", "")] {
        let lines = files.write(
            name,
            format!(
                "{HEADER}O1,C1,2024-06-01,10\nO2,C2,2024-06-01,{long}{end}O3,C3,2024-06-01,10\n"
            ),
        );
        fails_with(&files, &lines, ABC, &[name, "line 3 is longer than 1 MiB"]);
    }
    // A header under 1 MiB but without the columns: the names found are cut too.
    let header = files.write("header.csv", format!("{}\n1\n", "h".repeat(500_000)));
    fails_with(
        &files,
        &header,
        ABC,
        &[
            "missing required column 'order_id'",
            "... (500000 characters)",
        ],
    );
    // A bad value is quoted in the message cut to 80 characters.
    let wide = "x".repeat(100_000);
    let lines = files.write("wide.csv", format!("{HEADER}O1,C1,2024-06-01,{wide}\n"));
    fails_with(
        &files,
        &lines,
        ABC,
        &["line 2, column 'amount'", "... (100000 characters)"],
    );
    let customers = files.write(
        "customers.csv",
        format!("customer_id\n{}\n", "y".repeat(2 << 20)),
    );
    let (ok, _, stderr) = segment(
        &files,
        &files.write("t.csv", format!("{HEADER}O1,C1,2024-06-01,10\n")),
        ABC,
        &["--customers", customers.to_str().unwrap()],
    );
    assert!(
        !ok && stderr.contains("line 2 is longer than 1 MiB") && stderr.len() < 1000,
        "{stderr}"
    );
}

#[test]
fn generate_refuses_sizes_and_dates_it_cannot_write() {
    let files = Files::new();
    for (args, fragment) in [
        (
            vec!["--customers", "0"],
            "--customers must be from 1 to 50000000, found 0",
        ),
        (
            vec!["--customers", "1000000000000"],
            "--customers must be from 1 to 50000000",
        ),
        (
            vec!["--customers", "10", "--end", "0000-01-01"],
            "--end '0000-01-01' is not a date",
        ),
        (
            vec!["--customers", "10", "--end", "0002-01-01"],
            "--end must be 0005-02-04 or later, found 0002-01-01",
        ),
    ] {
        let output = strata()
            .arg("generate")
            .args(&args)
            .arg("--out")
            .arg(files.path("g"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert!(stderr.contains(fragment), "{args:?}: {stderr}");
        assert!(!files.path("g").exists(), "nothing written");
    }
    let output = strata()
        .args([
            "generate",
            "--customers",
            "10",
            "--end",
            "0005-02-05",
            "--out",
        ])
        .arg(files.path("g"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let output = strata()
        .arg("check")
        .arg("--transactions")
        .arg(files.path("g/transactions.csv"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "what generate writes, check reads: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn text(values: &[&str]) -> arrow_array::ArrayRef {
    Arc::new(arrow_array::StringArray::from(values.to_vec()))
}

/// Writes columns of equal length as a Parquet file, names as given (duplicates too).
fn write_parquet(path: &Path, columns: Vec<(&str, arrow_array::ArrayRef)>) {
    let fields: Vec<arrow_schema::Field> = columns
        .iter()
        .map(|(name, array)| arrow_schema::Field::new(*name, array.data_type().clone(), true))
        .collect();
    let schema = Arc::new(arrow_schema::Schema::new(fields));
    let batch = arrow_array::RecordBatch::try_new(
        schema.clone(),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .unwrap();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None)
            .unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

#[test]
fn a_semicolon_file_uses_one_decimal_separator() {
    let files = Files::new();
    let header = "order_id;customer_id;date;amount\n";
    let mixed = files.write(
        "mixed.csv",
        format!("{header}O1;C1;2024-06-01;12,50\nO2;C2;2024-06-01;1.234\n"),
    );
    fails_with(
        &files,
        &mixed,
        ABC,
        &[
            "mixed.csv: line 3, column 'amount'",
            "uses '.' as the decimal separator where line 2 uses ','",
            "--decimal",
        ],
    );
    let both = files.write("both.csv", format!("{header}O1;C1;2024-06-01;1.234,50\n"));
    fails_with(
        &files,
        &both,
        ABC,
        &[
            "line 2, column 'amount'",
            "'1.234,50' holds both ',' and '.'",
        ],
    );
    // Far into a file read in several chunks, the line is still exact.
    let mut long = header.to_owned();
    for i in 0..150_000 {
        long.push_str(&format!("O{i};C{};2024-06-01;{},25\n", i % 1000, i % 97));
    }
    long.push_str("O-last;C1;2024-06-01;3.5\n");
    let long = files.write("long.csv", long);
    fails_with(
        &files,
        &long,
        ABC,
        &["line 150002, column 'amount'", "where line 2 uses ','"],
    );
    // One separator throughout is read as that separator.
    let amounts = |path: &Path, extra: &[&str]| {
        let (ok, _, stderr) = segment(&files, path, ABC, &[&["--quiet"], extra].concat());
        assert!(ok, "{stderr}");
        let assignments = std::fs::read_to_string(files.path("out/assignments.csv")).unwrap();
        assignments
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(8).unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let commas = files.write(
        "commas.csv",
        format!("{header}O1;C1;2024-06-01;12,5\nO2;C2;2024-06-01;1\n"),
    );
    assert_eq!(amounts(&commas, &[]), ["12.5", "1"]);
    let points = files.write(
        "points.csv",
        format!("{header}O1;C1;2024-06-01;1.234\nO2;C2;2024-06-01;7\n"),
    );
    assert_eq!(amounts(&points, &[]), ["1.234", "7"]);
    assert_eq!(amounts(&points, &["--decimal", "."]), ["1.234", "7"]);
    // Stated with --decimal, the other separator is an error at its first line.
    let (ok, _, stderr) = segment(&files, &points, ABC, &["--decimal", ","]);
    assert!(
        !ok && stderr.contains("line 2, column 'amount'")
            && stderr.contains("'1.234' uses '.' where --decimal says ','"),
        "{stderr}"
    );
    let comma_file = files.write("c.csv", format!("{HEADER}O1,C1,2024-06-01,10\n"));
    let (ok, _, stderr) = segment(&files, &comma_file, ABC, &["--decimal", ","]);
    assert!(
        !ok && stderr.contains("cannot use a decimal comma"),
        "{stderr}"
    );
}

#[test]
fn the_summary_counts_customers_without_a_row_by_reason() {
    let files = Files::new();
    // C1 buys; C2 only returns; C3 bought before both windows; C4 is only in the customers file.
    let lines = files.write(
        "t.csv",
        format!("{HEADER}O1,C1,2024-06-01,100\nO2,C2,2024-06-01,-30\nO3,C3,2020-06-01,50\n"),
    );
    let customers = files.write("customers.csv", "customer_id\nC1\nC2\nC3\nC4\n");
    let config = format!("{ABC}\n[[types]]\nname = \"RFM\"\nmethod = \"rfm\"\n\n[[types]]\nname = \"G\"\nmethod = \"rules\"\nexclusive = false\n[[types.segments]]\nname = \"big\"\nrule = \"total_spent > 60\"\n");
    let customers_arg = ["--customers", customers.to_str().unwrap()];
    let (ok, stdout, stderr) = segment(&files, &lines, &config, &customers_arg);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("customers without a segment (no row): 3 no positive sales in the window"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "customers without a segment (no row): 3 no order with a positive net in the window"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("customers without a segment (no row): 3 matched by no segment"),
        "{stdout}"
    );
    let assignments = std::fs::read_to_string(files.path("out/assignments.csv")).unwrap();
    assert_eq!(
        assignments.lines().count(),
        1 + 3,
        "one row per type for C1 only: {assignments}"
    );
    let (ok, json, _) = segment(
        &files,
        &lines,
        &config,
        &[&customers_arg[..], &["--json"]].concat(),
    );
    assert!(ok);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["types"][0]["unclassified"]["no_positive_sales"], 3);
    assert_eq!(json["types"][1]["unclassified"]["no_positive_order"], 3);
    assert_eq!(json["types"][2]["unclassified"]["no_rule_matched"], 3);
}

/// The (type, customer) -> segment rows of the last run's assignments.csv.
fn assigned(files: &Files) -> Vec<(String, String, String)> {
    std::fs::read_to_string(files.path("out/assignments.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_owned(), f[1].to_owned(), f[2].to_owned())
        })
        .collect()
}

fn segments_of(files: &Files) -> Vec<String> {
    assigned(files)
        .into_iter()
        .map(|(_, c, s)| format!("{c}:{s}"))
        .collect()
}

#[test]
fn equal_sales_share_a_tier_even_across_a_boundary() {
    let files = Files::new();
    // T = 100; C1 alone is 50 %; C2..C6 each 10 with before = 50 %: all A.
    // Ranked one by one, C5 (before 80 %) and C6 (90 %) would fall to B.
    let mut text = format!("{HEADER}O1,C1,2024-06-01,50\n");
    for c in 2..=6 {
        text.push_str(&format!("O{c},C{c},2024-06-01,10\n"));
    }
    let lines = files.write("t.csv", text);
    let (ok, _, stderr) = segment(&files, &lines, ABC, &["--quiet"]);
    assert!(ok, "{stderr}");
    assert_eq!(
        segments_of(&files),
        ["C1:A", "C2:A", "C3:A", "C4:A", "C5:A", "C6:A"]
    );
    // Five equal customers that start past the 80 % line all share B:
    // ranked one by one, C6 (before 96.2 %) would fall to C.
    let mut text = format!("{HEADER}O1,C1,2024-06-01,81\n");
    for c in 2..=6 {
        text.push_str(&format!("O{c},C{c},2024-06-01,3.8\n"));
    }
    let lines = files.write("t2.csv", text);
    let (ok, _, stderr) = segment(&files, &lines, ABC, &["--quiet"]);
    assert!(ok, "{stderr}");
    assert_eq!(
        segments_of(&files),
        ["C1:A", "C2:A", "C3:A", "C4:A", "C5:A", "C6:A"].map(|s| if s == "C1:A" {
            s.to_owned()
        } else {
            s.replace(":A", ":B")
        })
    );
}

#[test]
fn accounts_sharing_a_vat_number_are_ranked_as_one() {
    let files = Files::new();
    // Tiers 50/30/20. X1 + X2 (one VAT group) = 60, Y = 45, T = 105.
    // Pooled: the group is A (before 0), Y is B (before 60/105 >= 50 %).
    // Without pooling, Y (45) would be A and X1, X2 (30 each, before 45/105) A too.
    let lines = files.write(
        "t.csv",
        format!("{HEADER}O1,X1,2024-06-01,30\nO2,X2,2024-06-01,30\nO3,Y,2024-06-01,45\n"),
    );
    let customers = files.write(
        "customers.csv",
        "customer_id,vat\nX1,FR 123\nX2,fr-123\nY,FR999\n",
    );
    let config = "[[types]]\nname = \"V\"\nmethod = \"pareto\"\nidentity = \"vat\"\n[[types.segments]]\nname = \"A\"\nshare = 50\n[[types.segments]]\nname = \"B\"\nshare = 30\n[[types.segments]]\nname = \"C\"\nshare = 20\n";
    let (ok, _, stderr) = segment(
        &files,
        &lines,
        config,
        &["--quiet", "--customers", customers.to_str().unwrap()],
    );
    assert!(ok, "{stderr}");
    assert_eq!(segments_of(&files), ["X1:A", "X2:A", "Y:B"]);
}

#[test]
fn a_manual_assignment_beats_an_exclude_list() {
    let files = Files::new();
    let lines = files.write(
        "t.csv",
        format!("{HEADER}O1,C1,2024-06-01,500\nO2,C2,2024-06-01,500\n"),
    );
    let config = "[[types]]\nname = \"G\"\nmethod = \"rules\"\nexclusive = false\n[[types.segments]]\nname = \"big\"\nrule = \"total_spent > 100\"\nexclude = [\"C1\", \"C2\"]\n";
    let overrides = files.write(
        "overrides.csv",
        "segment_type,customer_id,segment\nG,C1,big\n",
    );
    let (ok, _, stderr) = segment(
        &files,
        &lines,
        config,
        &["--quiet", "--overrides", overrides.to_str().unwrap()],
    );
    assert!(ok, "{stderr}");
    // C1 is excluded by the list but put in by hand: the manual assignment wins; C2 stays out.
    assert_eq!(segments_of(&files), ["C1:big"]);
    let csv = std::fs::read_to_string(files.path("out/assignments.csv")).unwrap();
    assert!(
        csv.lines().nth(1).unwrap().starts_with("G,C1,big,manual,"),
        "{csv}"
    );
}

#[test]
fn compare_classifies_rfm_and_rules_types_in_each_period() {
    let files = Files::new();
    // 2023: C1 orders once, C2 three times. 2024: C1 three times, C2 stops, C3 appears.
    let lines = files.write(
        "t.csv",
        format!(
            "{HEADER}O1,C1,2023-03-01,10\nO2,C2,2023-02-01,10\nO3,C2,2023-06-01,10\nO4,C2,2023-11-01,10\n\
             O5,C1,2024-02-01,10\nO6,C1,2024-06-01,10\nO7,C1,2024-11-01,10\nO8,C3,2024-12-01,10\n"
        ),
    );
    let config = files.write(
        "c.toml",
        "[[types]]\nname = \"R\"\nmethod = \"rfm\"\nbins = 2\nrecency_days = [100]\nfrequency = [2]\nmonetary = [15]\n\
         [[types.segments]]\nname = \"good\"\nf = [2, 2]\n[[types.segments]]\nname = \"low\"\ndefault = true\n\
         [[types]]\nname = \"Active\"\nmethod = \"rules\"\n[[types.segments]]\nname = \"active\"\nrule = \"orders_365d >= 2\"\n\
         [[types.segments]]\nname = \"quiet\"\nrule = \"orders_count >= 1\"\n",
    );
    let compare = |type_name: &str| {
        let out = files.path(&format!("cmp-{type_name}"));
        let output = strata()
            .args(["compare", "--no-report", "--quiet", "--type", type_name])
            .args([
                "--period-a",
                "2023-01-01..2023-12-31",
                "--period-b",
                "2024-01-01..2024-12-31",
                "--transactions",
            ])
            .arg(&lines)
            .arg("--config")
            .arg(&config)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::read_to_string(out.join("transitions.csv")).unwrap()
    };
    assert_eq!(
        compare("R"),
        // The default segment takes scored customers whose scores match no range;
        // a customer without a positive order in a period has no segment there.
        "customer_id,segment_a,segment_b,movement\nC1,low,good,improved\nC2,good,,lost\nC3,,low,new\n"
    );
    assert_eq!(
        compare("Active"),
        "customer_id,segment_a,segment_b,movement\nC1,quiet,active,improved\nC2,active,quiet,declined\nC3,,quiet,new\n"
    );
}
