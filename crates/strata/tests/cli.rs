//! The `strata` binary as a user runs it: generated data in, files and
//! summaries out, clear failures on bad input.

use assert_cmd::Command;
use std::path::Path;
use strata_testkit::Files;

fn strata() -> Command {
    Command::cargo_bin("strata").unwrap()
}

const CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/config.toml");

fn generate(dir: &Path, format: &str) {
    strata()
        .args([
            "generate",
            "--customers",
            "300",
            "--seed",
            "7",
            "--end",
            "2024-12-31",
            "--format",
            format,
            "--out",
        ])
        .arg(dir)
        .assert()
        .success();
}

#[test]
fn generate_then_segment_csv_and_parquet_agree() {
    let files = Files::new();
    let mut outputs = Vec::new();
    for format in ["csv", "parquet"] {
        let data = files.path(format);
        generate(&data, format);
        let out = files.path(&format!("out-{format}"));
        let assert = strata()
            .args([
                "segment",
                "--config",
                CONFIG,
                "--as-of",
                "2024-12-31",
                "--json",
                "--transactions",
            ])
            .arg(data.join(format!("transactions.{format}")))
            .arg("--customers")
            .arg(data.join(format!("customers.{format}")))
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        let summary: serde_json::Value =
            serde_json::from_slice(&assert.get_output().stdout).unwrap();
        assert_eq!(summary["types"].as_array().unwrap().len(), 4);
        // The summary's accounts per type equal the rows of assignments.csv.
        let assignments = std::fs::read_to_string(out.join("assignments.csv")).unwrap();
        for t in summary["types"].as_array().unwrap() {
            let name = t["name"].as_str().unwrap();
            let rows = assignments
                .lines()
                .filter(|l| l.starts_with(&format!("{name},")))
                .count();
            assert_eq!(rows as u64, t["accounts"].as_u64().unwrap(), "{name}");
        }
        outputs.push(assignments);
    }
    assert_eq!(
        outputs[0], outputs[1],
        "the same history as CSV and as Parquet gives the same assignments"
    );
}

#[test]
fn compare_prints_the_matrix_and_writes_transitions() {
    let files = Files::new();
    generate(files.dir(), "csv");
    let out = files.path("out");
    let assert = strata()
        .args(["compare", "--config", CONFIG, "--type", "Sales performance"])
        .args([
            "--period-a",
            "2023-01-01..2023-12-31",
            "--period-b",
            "2024-01-01..2024-12-31",
        ])
        .arg("--transactions")
        .arg(files.path("transactions.csv"))
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(
        stdout.contains("Transition matrix (rows: period A, columns: period B)"),
        "{stdout}"
    );
    let transitions = std::fs::read_to_string(out.join("transitions.csv")).unwrap();
    assert!(transitions.starts_with("customer_id,segment_a,segment_b,movement\n"));
    assert!(transitions.lines().count() > 100);
}

#[test]
fn bad_input_fails_with_a_message_and_writes_nothing() {
    let files = Files::new();
    let transactions = files.write(
        "t.csv",
        "order_id,customer_id,date,amount\n1,C1,2024-02-30,5\n",
    );
    let out = files.path("out");
    let assert = strata()
        .args([
            "segment",
            "--config",
            CONFIG,
            "--as-of",
            "2024-12-31",
            "--transactions",
        ])
        .arg(&transactions)
        .arg("--out")
        .arg(&out)
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains(
            "t.csv: line 2, column 'date': expected a date YYYY-MM-DD from 0001-01-01 to 9999-12-31, found '2024-02-30'"
        ),
        "{stderr}"
    );
    assert!(!out.join("assignments.csv").exists());
    assert!(
        std::fs::read_dir(&out).map(|d| d.count()).unwrap_or(0) == 0,
        "no temporary file left behind"
    );
}

#[test]
fn quiet_prints_nothing() {
    let files = Files::new();
    generate(files.dir(), "csv");
    strata()
        .args([
            "segment",
            "--quiet",
            "--config",
            CONFIG,
            "--as-of",
            "2024-12-31",
            "--transactions",
        ])
        .arg(files.path("transactions.csv"))
        .arg("--out")
        .arg(files.path("out"))
        .assert()
        .success()
        .stdout("")
        .stderr("");
}

#[test]
fn preview_and_explain() {
    let files = Files::new();
    generate(files.dir(), "csv");
    let assert = strata()
        .args([
            "preview",
            "--config",
            CONFIG,
            "--as-of",
            "2024-12-31",
            "--rule",
            "total_spent > 100 and orders_count >= 2",
        ])
        .arg("--transactions")
        .arg(files.path("transactions.csv"))
        .arg("--customers")
        .arg(files.path("customers.csv"))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(
        stdout.starts_with("Rule: total_spent > 100 AND orders_count >= 2\n"),
        "{stdout}"
    );
    assert!(stdout.contains(" of 300 customers match ("), "{stdout}");
    assert!(
        stdout.contains("First 20 matches by customer id:"),
        "{stdout}"
    );

    let assert = strata()
        .args([
            "explain",
            "--customer",
            "C0000002",
            "--config",
            CONFIG,
            "--as-of",
            "2024-12-31",
        ])
        .arg("--transactions")
        .arg(files.path("transactions.csv"))
        .arg("--customers")
        .arg(files.path("customers.csv"))
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    for expected in [
        "Customer C0000002, as of 2024-12-31",
        "Sales performance (pareto):",
        "RFM (rfm):",
        "Marketing groups (rules):",
    ] {
        assert!(stdout.contains(expected), "{expected}\n{stdout}");
    }

    let assert = strata()
        .args([
            "preview",
            "--as-of",
            "2024-12-31",
            "--rule",
            "totl_spent > 1",
            "--transactions",
        ])
        .arg(files.path("transactions.csv"))
        .assert()
        .failure();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains(
            "rule: line 1, column 1: unknown feature 'totl_spent', did you mean 'total_spent'?"
        ),
        "{stderr}"
    );
}

#[test]
fn report_is_written_unless_asked_not_to_and_check_reads_without_classifying() {
    let files = Files::new();
    generate(files.dir(), "parquet");
    let transactions = files.path("transactions.parquet");
    for (flag, expected) in [(None, true), (Some("--no-report"), false)] {
        let out = files.path(&format!("out-{expected}"));
        let mut cmd = strata();
        cmd.args([
            "segment",
            "--quiet",
            "--lang",
            "fr",
            "--config",
            CONFIG,
            "--as-of",
            "2024-12-31",
            "--transactions",
        ])
        .arg(&transactions)
        .arg("--out")
        .arg(&out);
        if let Some(flag) = flag {
            cmd.arg(flag);
        }
        cmd.assert().success();
        assert_eq!(out.join("report.html").exists(), expected);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(out.join("assignments.csv"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o644, "results are ordinary readable files");
        }
    }
    let assert = strata()
        .args(["check", "--transactions"])
        .arg(&transactions)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    let csv_lines = {
        generate(&files.path("csv"), "csv");
        std::fs::read_to_string(files.path("csv/transactions.csv"))
            .unwrap()
            .lines()
            .count()
            - 1
    };
    assert!(
        stdout.contains(&format!(": {csv_lines} lines, 300 customers, ")),
        "{stdout}"
    );
}

#[test]
fn columns_segments_writes_only_the_first_three_columns() {
    let files = Files::new();
    generate(files.dir(), "csv");
    let mut outputs = Vec::new();
    for columns in ["all", "segments"] {
        let out = files.path(columns);
        strata()
            .args(["segment", "--quiet", "--no-report", "--config", CONFIG])
            .args([
                "--as-of",
                "2024-12-31",
                "--columns",
                columns,
                "--transactions",
            ])
            .arg(files.path("transactions.csv"))
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        outputs.push(std::fs::read_to_string(out.join("assignments.csv")).unwrap());
    }
    let first_three: Vec<String> = outputs[0]
        .lines()
        .map(|line| line.split(',').take(3).collect::<Vec<_>>().join(","))
        .collect();
    assert!(first_three.len() > 300, "rows for every type");
    assert_eq!(outputs[1].lines().collect::<Vec<_>>(), first_three);
    assert_eq!(
        outputs[1].lines().next(),
        Some("segment_type,customer_id,segment")
    );
}

#[test]
fn a_line_filter_naming_no_agency_or_brand_is_a_warning() {
    let files = Files::new();
    files.write(
        "t.csv",
        "order_id,customer_id,date,amount,agency,brand\nO1,C1,2024-06-01,10,Lyon,Bosch\n",
    );
    // Paris is only the customers file's agency: it names an agency, no warning.
    files.write("c.csv", "customer_id,agency\nC1,Lyon\nC2,Paris\n");
    let tiers = "[[types.segments]]\nname = \"A\"\nshare = 100\n";
    files.write("config.toml", format!(
            "[[types]]\nname = \"T\"\nmethod = \"pareto\"\nagencies = [\"Nowhere\", \" lyon \", \"Paris\"]\nbrands = [\"BOSCH\", \"Valeo\"]\n{tiers}"
        ));
    let assert = strata()
        .current_dir(files.dir())
        .args(["segment", "--json", "--no-report", "--as-of", "2024-12-31"])
        .args([
            "--transactions",
            "t.csv",
            "--customers",
            "c.csv",
            "--config",
            "config.toml",
            "--out",
            "out",
        ])
        .assert()
        .success();
    let summary: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!(
        summary["warnings"],
        serde_json::json!([
            "type 'T': agencies: 'Nowhere' names no agency of the files read",
            "type 'T': brands: 'Valeo' names no brand of the files read"
        ])
    );
}

#[test]
fn closed_statuses_decide_which_orders_can_be_late() {
    let files = Files::new();
    // Both orders are past their due date; C1's is delivered (in French), C2's is not.
    files.write(
        "t.csv",
        "order_id,customer_id,date,amount,status,due_date\n\
         O1,C1,2024-11-01,10,Livré,2024-11-10\n\
         O2,C2,2024-11-01,10,en cours,2024-11-10\n",
    );
    let late = |closed: &str| {
        files.write("config.toml", format!("{closed}[[types]]\nname = \"L\"\nmethod = \"rules\"\n[[types.segments]]\nname = \"late\"\nrule = \"late_order_days > 0\"\n"));
        strata()
            .current_dir(files.dir())
            .args([
                "segment",
                "--quiet",
                "--no-report",
                "--columns",
                "segments",
                "--as-of",
                "2024-12-31",
            ])
            .args([
                "--transactions",
                "t.csv",
                "--config",
                "config.toml",
                "--out",
                "out",
            ])
            .assert()
            .success();
        std::fs::read_to_string(files.path("out/assignments.csv")).unwrap()
    };
    // By default "Livré" closes an order, ignoring case and accents.
    assert_eq!(late(""), "segment_type,customer_id,segment\nL,C2,late\n");
    // A configured list replaces the default.
    assert_eq!(
        late("closed_statuses = [\"EN COURS\"]\n"),
        "segment_type,customer_id,segment\nL,C1,late\n"
    );
}

#[test]
fn visits_priorities_and_colours_reach_the_outputs() {
    let files = Files::new();
    generate(files.dir(), "csv");
    let assert = strata()
        .args([
            "segment",
            "--json",
            "--no-report",
            "--config",
            CONFIG,
            "--as-of",
            "2024-12-31",
            "--transactions",
        ])
        .arg(files.path("transactions.csv"))
        .arg("--out")
        .arg(files.path("out"))
        .assert()
        .success();
    let csv = std::fs::read_to_string(files.path("out/assignments.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert_eq!(
        header[5..8],
        ["manual_segment", "visit_every_days", "priority"]
    );
    // The example's A tier: a visit every 14 days, priority 1; Dormant: every 180 days, no priority.
    let row = |segment: &str| {
        csv.lines()
            .find(|l| l.starts_with("Sales performance,") && l.split(',').nth(2) == Some(segment))
            .unwrap()
            .split(',')
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(row("A")[6..8], ["14", "1"]);
    assert_eq!(row("Dormant")[6..8], ["180", ""]);
    let summary: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    let a = &summary["types"][0]["segments"][1];
    assert_eq!(
        (
            a["name"].as_str(),
            a["visit_every_days"].as_u64(),
            a["priority"].as_i64()
        ),
        (Some("A"), Some(14), Some(1))
    );
    let coloured: Vec<&serde_json::Value> = summary["types"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["segments"].as_array().unwrap())
        .filter(|s| !s["color"].is_null())
        .collect();
    let colours: Vec<(&str, &str)> = coloured
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["color"].as_str().unwrap()))
        .collect();
    assert_eq!(
        colours,
        [("A", "#1f77b4"), ("Active big spenders", "#c9a227")]
    );
}

#[test]
fn period_classifies_every_type_over_one_date_range() {
    let files = Files::new();
    generate(files.dir(), "csv");
    let run = |args: &[&str], out: &str| {
        strata()
            .args([
                "segment",
                "--quiet",
                "--no-report",
                "--config",
                CONFIG,
                "--transactions",
            ])
            .arg(files.path("transactions.csv"))
            .arg("--out")
            .arg(files.path(out))
            .args(args)
            .assert()
            .success();
        std::fs::read_to_string(files.path(out).join("assignments.csv")).unwrap()
    };
    let rows_of = |csv: &str, type_name: &str| -> Vec<String> {
        csv.lines()
            .filter(|l| l.starts_with(&format!("{type_name},")))
            .map(str::to_owned)
            .collect()
    };
    // The whole of 2023 is the rolling 12 months as of 2023-12-31, and rules
    // are classified as of the period's end: the same rows for those types
    // (but for the group that reads the RFM type, whose window differs).
    let by_period = run(&["--period", "2023-01-01..2023-12-31"], "period");
    let by_as_of = run(&["--as-of", "2023-12-31"], "as-of");
    for type_name in ["Sales performance", "Lyon groups", "Marketing groups"] {
        let rows = |csv: &str| -> Vec<String> {
            rows_of(csv, type_name)
                .into_iter()
                .filter(|r| !r.contains(",A tier at risk,"))
                .collect()
        };
        assert!(!rows(&by_period).is_empty());
        assert!(rows(&by_period) == rows(&by_as_of), "{type_name} differs");
    }
    // The RFM type's 24 months become the period: recency counts from its end.
    assert!(rows_of(&by_period, "RFM") != rows_of(&by_as_of, "RFM"));
    let output = strata()
        .args([
            "segment",
            "--config",
            CONFIG,
            "--period",
            "2023-01-01..2023-12-31",
            "--as-of",
            "2023-12-31",
            "--transactions",
        ])
        .arg(files.path("transactions.csv"))
        .arg("--out")
        .arg(files.path("both"))
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot be used with"));
}

#[test]
fn rules_are_checked_before_any_transaction_line_is_read() {
    let files = Files::new();
    // The second line is bad: an error about it would mean the file was read first.
    files.write(
        "t.csv",
        "order_id,customer_id,date,amount\nO1,C1,2024-06-01,10\nO2,C2,not a date,10\n",
    );
    files.write("c.csv", "customer_id,region\nC1,Nord\n");
    let check = |rule: &str, customers: bool| {
        files.write("config.toml", format!("[[types]]\nname = \"G\"\nmethod = \"rules\"\n[[types.segments]]\nname = \"g\"\nrule = \"{rule}\"\n"));
        let mut command = strata();
        command.current_dir(files.dir()).args([
            "segment",
            "--as-of",
            "2024-12-31",
            "--transactions",
            "t.csv",
            "--config",
            "config.toml",
            "--out",
            "out",
        ]);
        if customers {
            command.args(["--customers", "c.csv"]);
        }
        let output = command.output().unwrap();
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let misspelt = check("totl_spent > 100", true);
    assert!(
        misspelt.contains("type 'G': segment 'g': rule: line 1, column 1: unknown feature 'totl_spent', did you mean 'total_spent'?"),
        "{misspelt}"
    );
    // A customers-file column is known when the file has it, with its type.
    let missing = check("region = 'Nord'", false);
    assert!(missing.contains("unknown feature 'region'"), "{missing}");
    let mistyped = check("region > 5", true);
    assert!(
        mistyped.contains("'>' cannot be used on region"),
        "{mistyped}"
    );
    // A good rule gets as far as the bad line.
    let good = check("region = 'Nord'", true);
    assert!(good.contains("t.csv: line 3, column 'date'"), "{good}");
}

#[test]
fn a_customers_column_named_like_a_computed_feature_is_refused() {
    let files = Files::new();
    files.write(
        "t.csv",
        "order_id,customer_id,date,amount\nO1,C1,2024-06-01,10\n",
    );
    files.write("c.csv", "customer_id,role,Total_Spent\nC1,pro,5\n");
    let output = strata()
        .current_dir(files.dir())
        .args([
            "segment",
            "--as-of",
            "2024-12-31",
            "--transactions",
            "t.csv",
            "--customers",
            "c.csv",
        ])
        .args(["--config", CONFIG, "--out", "out"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("c.csv: header, column 'total_spent': a column may not be named like the computed feature 'total_spent'"),
        "{stderr}"
    );
}

#[test]
fn declared_attribute_types_decide_what_a_rule_may_do() {
    let files = Files::new();
    files.write(
        "t.csv",
        "order_id,customer_id,date,amount\nO1,C1,2024-06-01,10\nO2,C2,2024-06-01,10\n",
    );
    // No postcode has a leading zero: typed by content, the column is a number.
    files.write("c.csv", "customer_id,postcode\nC1,75001\nC2,69002\n");
    let run = |attributes: &str, customers: &str| {
        files.write("c.csv", customers);
        files.write("config.toml", format!("{attributes}[[types]]\nname = \"G\"\nmethod = \"rules\"\nexclusive = false\n[[types.segments]]\nname = \"paris\"\nrule = \"postcode STARTS WITH '75'\"\n"));
        let output = strata()
            .current_dir(files.dir())
            .args([
                "segment",
                "--no-report",
                "--columns",
                "segments",
                "--as-of",
                "2024-12-31",
            ])
            .args([
                "--transactions",
                "t.csv",
                "--customers",
                "c.csv",
                "--config",
                "config.toml",
                "--out",
                "out",
            ])
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let customers = "customer_id,postcode\nC1,75001\nC2,69002\n";
    let (ok, stderr) = run("", customers);
    assert!(!ok);
    assert!(
        stderr.contains("STARTS WITH cannot be used on postcode, which is a number (postcode is typed by its content; declare its type under [attributes], for example postcode = \"text\")"),
        "{stderr}"
    );
    let (ok, stderr) = run("[attributes]\npostcode = \"text\"\n", customers);
    assert!(ok, "{stderr}");
    let csv = std::fs::read_to_string(files.path("out/assignments.csv")).unwrap();
    assert_eq!(csv, "segment_type,customer_id,segment\nG,C1,paris\n");
    // A value that is not of the declared type is an error naming its line.
    let (ok, stderr) = run(
        "[attributes]\npostcode = \"number\"\n",
        "customer_id,postcode\nC1,75001\nC2,2A004\n",
    );
    assert!(!ok);
    assert!(stderr.contains("c.csv: line 3, column 'postcode': expected a number (declared under [attributes]), found '2A004'"), "{stderr}");
    // Declarations that cannot hold are refused.
    for (attributes, fragment) in [
        (
            "[attributes]\npostcode = \"int\"\n",
            "attributes: postcode = 'int', expected text, number, date or bool",
        ),
        (
            "[attributes]\ntotal_spent = \"number\"\n",
            "attributes: 'total_spent' is a computed feature",
        ),
        (
            "[attributes]\nbirthday = \"text\"\n",
            "attributes: 'birthday' is read as a date by the feature of that name",
        ),
    ] {
        let (ok, stderr) = run(attributes, customers);
        assert!(!ok && stderr.contains(fragment), "{attributes}: {stderr}");
    }
}

#[test]
fn compare_shows_each_segments_customers_and_sales_in_each_period() {
    let files = Files::new();
    files.write(
        "t.csv",
        "order_id,customer_id,date,amount\n\
         O1,C1,2023-03-01,90\nO2,C2,2023-03-01,10\n\
         O3,C1,2024-03-01,30\nO4,C2,2024-03-01,70\nO5,C3,2024-03-01,5\n",
    );
    files.write("config.toml", "[[types]]\nname = \"ABC\"\nmethod = \"pareto\"\n[[types.segments]]\nname = \"A\"\nshare = 80\n[[types.segments]]\nname = \"B\"\nshare = 20\n");
    let assert = strata()
        .current_dir(files.dir())
        .args([
            "compare",
            "--type",
            "ABC",
            "--period-a",
            "2023-01-01..2023-12-31",
            "--period-b",
            "2024-01-01..2024-12-31",
        ])
        .args([
            "--transactions",
            "t.csv",
            "--config",
            "config.toml",
            "--out",
            "out",
            "--lang",
            "en",
        ])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    // A: C1 (90) in A, C2 (10) in B. B: C2 (70) and C1 (30) in A, C3 (5) in B.
    // The periods table's rows have seven cells; the matrix's have five.
    let row = |segment: &str| {
        stdout
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|cells| {
                cells.len() == 7 && cells[0] == segment && cells[1].parse::<u64>().is_ok()
            })
            .unwrap_or_else(|| panic!("no row for {segment}: {stdout}"))
    };
    assert_eq!(
        row("A"),
        ["A", "1", "2", "+1", "90", "100", "+10"],
        "{stdout}"
    );
    assert_eq!(row("B"), ["B", "1", "1", "+0", "10", "5", "-5"], "{stdout}");
    let report = std::fs::read_to_string(files.path("out/report.html")).unwrap();
    assert!(report.contains(r#"data-segment="A" data-customers-a="1" data-customers-b="2" data-sales-a="90" data-sales-b="100""#), "{report}");
}
