//! Sources other than files: lines and customers held in memory go through
//! the same pipeline and give the same assignments as the files.

use crate::{d, Files};
use std::num::NonZeroUsize;
use strata_domain::config::parse_config;
use strata_domain::date::Date;
use strata_domain::money::{Amount, ExtraDigits};
use strata_engine::output::{write_assignments, AssignmentColumns};
use strata_engine::progress::Control;
use strata_engine::run::{self, Inputs, ListEntries, State, StoredResult};
use strata_engine::source::{Line, MemoryLines, TableSource};
use strata_engine::table::StringTable;
use strata_engine::transactions::ErrorMode;
use strata_generate::{generate, Format, Shape, Spec};

const CONFIG: &str = include_str!("../../../../examples/config.toml");

fn assignments(inputs: &Inputs) -> String {
    let run = run::segment(
        parse_config(CONFIG).unwrap(),
        inputs,
        d("2024-12-31"),
        &Control::silent(),
    )
    .unwrap();
    let mut out = Vec::new();
    write_assignments(&run, AssignmentColumns::All, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The lines of a generated CSV file, parsed by this test on its own.
fn lines_of(path: &std::path::Path) -> Vec<Line> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let [order, customer, date, amount, margin, agency, brand, category, status, due] = [
        "order_id",
        "customer_id",
        "date",
        "amount",
        "margin",
        "agency",
        "brand",
        "category",
        "status",
        "due_date",
    ]
    .map(column);
    let text = |r: &csv::StringRecord, i: usize| Some(r[i].to_owned()).filter(|s| !s.is_empty());
    let money = |s: &str| Amount::parse(s, false, ExtraDigits::Reject).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Line {
                order_id: r[order].to_owned(),
                customer_id: r[customer].to_owned(),
                date: Date::parse_iso(&r[date]).unwrap(),
                amount: money(&r[amount]),
                margin: text(&r, margin).map(|m| money(&m)),
                agency: text(&r, agency),
                brand: text(&r, brand),
                category: text(&r, category),
                status: text(&r, status),
                due_date: text(&r, due).map(|t| Date::parse_iso(&t).unwrap()),
            }
        })
        .collect()
}

/// The customers of a generated CSV file as a table in memory.
fn customers_of(path: &std::path::Path) -> StringTable {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let rows: Vec<Vec<Option<&str>>> = records
        .iter()
        .map(|r| r.iter().map(Some).collect())
        .collect();
    let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
    StringTable::from_rows("customers", &headers, &rows).unwrap()
}

#[test]
fn lines_and_customers_in_memory_give_the_same_assignments_as_the_files() {
    let f = Files::new();
    let spec = Spec {
        shape: Shape::Classic,
        customers: 300,
        seed: 5,
        end: d("2024-12-31"),
        format: Format::Csv,
    };
    let generated = generate(&spec, f.dir()).unwrap();
    let from_files = assignments(&Inputs::files(
        generated.transactions_path.clone(),
        Some(generated.customers_path.clone()),
        None,
        None,
    ));
    let memory = Inputs {
        lines: Box::new(MemoryLines {
            name: "lines".to_owned(),
            lines: lines_of(&generated.transactions_path),
            batch_lines: NonZeroUsize::new(1000).unwrap(),
        }),
        customers: Some(Box::new(customers_of(&generated.customers_path))),
        overrides: None,
        state: State::default(),
    };
    let from_memory = assignments(&memory);
    assert!(from_files.lines().count() > 300, "every type has rows");
    assert_eq!(from_memory, from_files);
}

#[test]
fn manual_assignments_in_memory_win_as_a_file_does() {
    let f = Files::new();
    let t = f.write(
        "t.csv",
        "order_id,customer_id,date,amount\n1,C1,2024-06-01,80\n2,C2,2024-06-01,15\n3,C3,2024-06-01,5\n",
    );
    let config = crate::abc("");
    let overrides = StringTable::from_rows(
        "manual",
        &["segment_type", "customer_id", "segment"],
        &[vec![Some("ABC"), Some("C3"), Some("A")]],
    )
    .unwrap();
    assert_eq!(overrides.name(), "manual");
    let inputs = Inputs {
        overrides: Some(Box::new(overrides)),
        ..Inputs::files(t, None, None, None)
    };
    let out = crate::segment(&config, &inputs, "2024-12-31").unwrap();
    assert_eq!(
        crate::columns(&out, 4),
        ["ABC,C1,A,computed", "ABC,C2,B,computed", "ABC,C3,A,manual"]
    );
    let bad = StringTable::from_rows("manual", &["a", "A"], &[]);
    assert_eq!(
        bad.err().unwrap().to_string(),
        "manual: header: columns 1 and 2 are both named 'a' (names ignore case and surrounding spaces): keep one"
    );
}

#[test]
fn lines_in_memory_without_ids_are_refused_each_or_first() {
    let line = |customer: &str, order: &str| Line {
        order_id: order.to_owned(),
        customer_id: customer.to_owned(),
        date: d("2024-06-01"),
        amount: Amount::parse("10", false, ExtraDigits::Reject).unwrap(),
        margin: None,
        agency: None,
        brand: None,
        category: None,
        status: None,
        due_date: None,
    };
    let run_with = |errors| {
        let inputs = Inputs {
            lines: Box::new(MemoryLines {
                name: "upload".to_owned(),
                lines: vec![line("C1", "1"), line(" ", "2"), line("C3", "")],
                batch_lines: NonZeroUsize::MIN,
            }),
            customers: None,
            overrides: None,
            state: State::default(),
        };
        let control = Control {
            errors,
            ..Control::silent()
        };
        let config = parse_config(&crate::abc("")).unwrap();
        run::segment(config, &inputs, d("2024-12-31"), &control)
            .err()
            .expect("the run fails")
            .to_string()
    };
    assert_eq!(
        run_with(ErrorMode::Collect),
        "upload: row 2, column 'customer_id': empty value\nupload: row 3, column 'order_id': empty value"
    );
    assert_eq!(
        run_with(ErrorMode::Stop),
        "upload: row 2, column 'customer_id': empty value"
    );
}

#[test]
fn state_in_memory_adds_list_entries_and_stands_for_stored_types() {
    let f = Files::new();
    let t = f.write(
        "t.csv",
        "order_id,customer_id,date,amount\n1,C1,2024-06-01,80\n2,C2,2024-06-01,15\n3,C3,2024-06-01,5\n",
    );
    let config = format!(
        "{}\n[[types]]\nname = \"G\"\nmethod = \"rules\"\nexclusive = false\n\
         [[types.segments]]\nname = \"Top\"\nrule = \"segment('ABC') = 'A'\"\n\
         [[types.segments]]\nname = \"Static\"\n",
        crate::abc("")
    );
    // The stored ABC result says C3 is in A (by hand, say), not C1.
    let state = State {
        lists: vec![ListEntries {
            type_name: "G".to_owned(),
            segment: "Static".to_owned(),
            include: vec!["C2".to_owned()],
            exclude: Vec::new(),
        }],
        stored: vec![StoredResult {
            type_name: "ABC".to_owned(),
            rows: vec![
                ("C3".to_owned(), "A".to_owned()),
                ("C9".to_owned(), "B".to_owned()),
            ],
        }],
    };
    let inputs = Inputs {
        state: state.clone(),
        ..Inputs::files(t.clone(), None, None, None)
    };
    let run = run::segment(
        parse_config(&config).unwrap(),
        &inputs,
        d("2024-12-31"),
        &Control::silent(),
    )
    .unwrap();
    let mut out = Vec::new();
    write_assignments(&run, AssignmentColumns::All, &mut out).unwrap();
    // ABC is not classified again, so not written; G reads the stored tiers.
    assert_eq!(
        crate::columns(&String::from_utf8(out).unwrap(), 4),
        ["G,C2,Static,include", "G,C3,Top,computed"]
    );
    assert_eq!(
        run.warnings,
        ["stored result of type 'ABC': customer 'C9' is in neither the customers nor the lines; left out"]
    );
    let unknown = State {
        stored: vec![StoredResult {
            type_name: "Nope".to_owned(),
            rows: Vec::new(),
        }],
        ..State::default()
    };
    let inputs = Inputs {
        state: unknown,
        ..Inputs::files(t, None, None, None)
    };
    let error = run::segment(
        parse_config(&config).unwrap(),
        &inputs,
        d("2024-12-31"),
        &Control::silent(),
    )
    .err()
    .unwrap();
    assert_eq!(
        error.to_string(),
        "a stored result names the unknown type 'Nope'"
    );
}

/// `rows::read_all` gives back every line of a file as the test reads it,
/// from CSV and from Parquet alike, and lists every bad cell.
#[test]
fn files_read_back_as_lines_equal_the_lines_they_hold() {
    let f = Files::new();
    for format in [Format::Csv, Format::Parquet] {
        let spec = Spec {
            shape: Shape::Classic,
            customers: 60,
            seed: 9,
            end: d("2024-12-31"),
            format,
        };
        let dir = f.path(&format!("{format:?}"));
        let generated = generate(&spec, &dir).unwrap();
        let source = strata_engine::source::FileLines {
            path: generated.transactions_path.clone(),
            decimal: None,
        };
        let read = strata_engine::rows::read_all(&source, NonZeroUsize::MIN).unwrap();
        let csv = generate(
            &Spec {
                format: Format::Csv,
                ..spec
            },
            &f.path(&format!("{format:?}-csv")),
        )
        .unwrap();
        assert_eq!(read.lines, lines_of(&csv.transactions_path), "{format:?}");
        assert_eq!(read.numbers, None, "no line column");
    }
    let bad = f.write(
        "bad.csv",
        "order_id,customer_id,date,amount\nO1,C1,2024-01-02,12.50\nO2,C2,02/01/2024,1\nO3,C3,2024-01-02,abc\n",
    );
    let source = strata_engine::source::FileLines {
        path: bad,
        decimal: None,
    };
    match strata_engine::rows::read_all(&source, NonZeroUsize::MIN) {
        Err(strata_engine::Error::Cells(cells)) => {
            let at: Vec<String> = cells
                .iter()
                .map(|c| format!("{} {}", c.location, c.column.as_deref().unwrap_or("")))
                .collect();
            assert_eq!(at, ["line 3 date", "line 4 amount"]);
        }
        other => panic!("{other:?}"),
    }
}

/// A `line` column is read as whole numbers from 1; any other value is a
/// bad cell naming its line.
#[test]
fn a_line_column_gives_each_line_its_number() {
    let f = Files::new();
    let good = f.write(
        "good.csv",
        "order_id,customer_id,date,amount,line\nO1,C1,2024-01-02,12.50,2\nO1,C1,2024-01-02,1, 7 \n",
    );
    let read = |path| {
        strata_engine::rows::read_all(
            &strata_engine::source::FileLines {
                path,
                decimal: None,
            },
            NonZeroUsize::MIN,
        )
    };
    let lines = read(good).unwrap();
    assert_eq!(lines.numbers, Some(vec![2, 7]));
    assert_eq!(lines.lines.len(), 2);
    let bad = f.write(
        "bad.csv",
        "order_id,customer_id,date,amount,line\nO1,C1,2024-01-02,1,0\nO1,C1,2024-01-02,1,x\nO1,C1,2024-01-02,1,\nO1,C1,2024-01-02,1,1.5\nO1,C1,2024-01-02,1,3\n",
    );
    match read(bad) {
        Err(strata_engine::Error::Cells(cells)) => {
            let at: Vec<String> = cells
                .iter()
                .map(|c| {
                    format!(
                        "{} {}: {}",
                        c.location,
                        c.column.as_deref().unwrap_or(""),
                        c.message
                    )
                })
                .collect();
            assert_eq!(
                at,
                [
                    "line 2 line: '0' is not a line number; expected a whole number from 1",
                    "line 3 line: 'x' is not a line number; expected a whole number from 1",
                    "line 4 line: empty value; expected a line number",
                    "line 5 line: '1.5' is not a line number; expected a whole number from 1",
                ]
            );
        }
        other => panic!("{other:?}"),
    }
}
