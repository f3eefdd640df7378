//! CSV exports as ERPs write them, and the errors people get for bad ones.

use crate::{abc, columns, inputs, segment, Files};

#[test]
fn french_exports_with_bom_semicolons_decimal_commas_and_quotes() {
    let f = Files::new();
    let transactions = f.write(
        "t.csv",
        "\u{feff} Order_ID ;Customer_ID;DATE;Amount;Libellé\n\
         1;C1;2024-05-01;1 000,50;\"Garage \"\"Dupont\"\"; Lyon\"\n\
         2;C2;2024-05-02;12,5;x\n\
         3;C3;2024-05-03;7.25;y\n",
    );
    let out = segment(&abc(""), &inputs(transactions, None, None), "2024-12-31");
    // A space inside a number is not a thousands separator we accept.
    let message = out.unwrap_err();
    assert!(
        message.contains("t.csv: line 2, column 'amount': expected a decimal number"),
        "{message}"
    );

    let transactions = f.write(
        "t2.csv",
        "\u{feff} Order_ID ;Customer_ID;DATE;Amount;Libellé\n\
         1;C1;2024-05-01;1000,50;\"Garage \"\"Dupont\"\"; Lyon\"\n\
         2;C2;2024-05-02;12,5;x\n\
         3;C3;2024-05-03;7,25;y\n",
    );
    let out = segment(&abc(""), &inputs(transactions, None, None), "2024-12-31").unwrap();
    assert_eq!(
        columns(&out, 9),
        [
            "ABC,C1,A,computed,A,,,,1000.5",
            "ABC,C2,C,computed,C,,,,12.5",
            "ABC,C3,C,computed,C,,,,7.25"
        ]
    );
}

#[test]
fn quoted_fields_with_commas_in_comma_files() {
    let f = Files::new();
    let transactions = f.write(
        "t.csv",
        "order_id,customer_id,date,amount,note\n\
         1,\"Garage \"\"Dupont\"\", Lyon\",2024-05-01,10,\"a, b\"\n",
    );
    let out = segment(&abc(""), &inputs(transactions, None, None), "2024-12-31").unwrap();
    assert_eq!(columns(&out, 1).len(), 1);
    assert!(out.contains("\"Garage \"\"Dupont\"\", Lyon\",A"), "{out}");
}

#[test]
fn bad_input_names_file_line_column_and_expectation() {
    let f = Files::new();
    let header = "order_id,customer_id,date,amount\n";
    let cases = [
        (
            "1,C1,2024-13-01,10\n",
            "line 2, column 'date': expected a date YYYY-MM-DD from 0001-01-01 to 9999-12-31, found '2024-13-01'",
        ),
        (
            "1,C1,2024-01-01,abc\n",
            "line 2, column 'amount': expected a decimal number such as 12.50, found 'abc'",
        ),
        (
            "1,C1,2024-01-01,1.00001\n",
            "line 2, column 'amount': '1.00001' has more than 4 decimal places",
        ),
        (
            "1,C1,2024-01-01,1,5\n",
            "line 2: expected 4 fields like the header, found 5",
        ),
        (
            "1,,2024-01-01,1\n",
            "line 2, column 'customer_id': empty value; expected a customer id",
        ),
        (
            "1,C1,2024-01-01,1\n2,C1,2024-01-01,12,5\n",
            "line 3: expected 4 fields like the header, found 5",
        ),
    ];
    for (i, (body, expected)) in cases.iter().enumerate() {
        let path = f.write(&format!("bad{i}.csv"), format!("{header}{body}"));
        let message = segment(&abc(""), &inputs(path, None, None), "2024-12-31").unwrap_err();
        assert!(
            message.contains(&format!("bad{i}.csv: {expected}")),
            "case {i}: {message}"
        );
    }
    let path = f.write(
        "missing.csv",
        "order_id,customer,date,amount\n1,C1,2024-01-01,1\n",
    );
    let message = segment(&abc(""), &inputs(path, None, None), "2024-12-31").unwrap_err();
    assert!(
        message.contains("missing.csv: header: missing required column 'customer_id' (found: order_id, customer, date, amount)"),
        "{message}"
    );
}

/// Many lines, so that the file is cut into chunks decoded side by side.
fn long_history(lines: usize, line: impl Fn(usize) -> String) -> String {
    let mut text = String::from("order_id,customer_id,date,amount,note\n");
    for i in 0..lines {
        text.push_str(&line(i));
    }
    text
}

#[test]
fn long_files_read_the_same_plain_quoted_or_crlf() {
    let f = Files::new();
    let plain = long_history(150_000, |i| {
        format!("O{i},C{},2024-05-01,{}.5,note {i}\n", i % 997, i % 13)
    });
    let quoted = long_history(150_000, |i| {
        format!(
            "O{i},\"C{}\",2024-05-01,{}.5,\"a, \"\"multi\"\"\nline {i}\"\r\n",
            i % 997,
            i % 13
        )
    });
    assert!(plain.len() > 4 * 1024 * 1024, "more than one chunk");
    let read = |name: &str, text: &str| {
        let path = f.write(name, text);
        segment(&abc(""), &inputs(path, None, None), "2024-12-31").unwrap()
    };
    let expected = read("plain.csv", &plain);
    assert_eq!(columns(&expected, 1).len(), 997);
    assert_eq!(read("quoted.csv", &quoted), expected);
}

#[test]
fn errors_deep_in_long_files_name_their_line() {
    let f = Files::new();
    let cases = [
        (
            120_000,
            "O,C1,2024-05-01,abc,x\n",
            "line 120001, column 'amount'",
        ),
        (
            140_000,
            "O,C1,2024-05-01\n",
            "line 140001: expected 5 fields like the header, found 3",
        ),
        (
            100_000,
            "O,\"C1\",2024-02-30,1,\"a\nb\"\n",
            "line 100001, column 'date'",
        ),
    ];
    for (at, bad, expected) in cases {
        let text = long_history(150_000, |i| {
            if i == at - 1 {
                bad.to_owned()
            } else {
                format!("O{i},C{},2024-05-01,10,\"x\ny\"\n", i % 100)
            }
        });
        // Every good line spans two lines of the file.
        let text = text.replacen("\"x\ny\"", "x", at - 1);
        let path = f.write("t.csv", &text);
        let message = segment(&abc(""), &inputs(path, None, None), "2024-12-31").unwrap_err();
        assert!(message.contains(expected), "{message}");
    }
}

#[test]
fn only_the_columns_the_configuration_reads_are_decoded() {
    let f = Files::new();
    let path = f.write(
        "t.csv",
        "order_id,customer_id,date,amount,status,due_date\n\
         1,C1,2024-05-01,10,open,soon\n",
    );
    let files = inputs(path, None, None);
    let out = segment(&abc(""), &files, "2024-12-31").unwrap();
    assert_eq!(columns(&out, 3), ["ABC,C1,A"], "due_date is not read");
    let late = "[[types]]\nname = \"Late\"\nmethod = \"rules\"\n\
                [[types.segments]]\nname = \"late\"\nrule = \"late_order_days > 30\"\n";
    let message = segment(late, &files, "2024-12-31").unwrap_err();
    assert!(
        message.contains("line 2, column 'due_date': expected a date YYYY-MM-DD from 0001-01-01 to 9999-12-31, found 'soon'"),
        "{message}"
    );
}

#[test]
fn a_record_up_to_1_mib_is_read_whole_and_in_order_and_a_longer_one_refused() {
    let f = Files::new();
    let giant = "x".repeat(1024 * 1024 - 100);
    let lines = |first: &str| {
        long_history(3, |i| match i {
            0 => format!("O0,C0,2024-05-01,1,\"{first}\"\n"),
            _ => format!("O{i},C{i},2024-05-01,{i}0,y\n"),
        })
    };
    let read = |name: &str, text: &str| {
        let path = f.write(name, text);
        segment(&abc(""), &inputs(path, None, None), "2024-12-31").unwrap()
    };
    let expected = read("small.csv", &lines("note"));
    assert_eq!(columns(&expected, 2), ["ABC,C0", "ABC,C1", "ABC,C2"]);
    assert_eq!(read("giant.csv", &lines(&giant)), expected);
    // Longer than a chunk of the parallel reader: refused, never read out of turn.
    let path = f.write("huge.csv", lines(&"x".repeat(5 * 1024 * 1024)));
    let message = segment(&abc(""), &inputs(path, None, None), "2024-12-31").unwrap_err();
    assert!(
        message.contains("huge.csv: line 2: the record starting on line 2 is longer than 1 MiB"),
        "{message}"
    );
}

/// The error of a run over `path` whose bad cells are collected.
fn collected_error(path: std::path::PathBuf) -> strata_engine::Error {
    let control = strata_engine::progress::Control {
        errors: strata_engine::transactions::ErrorMode::Collect,
        ..strata_engine::progress::Control::silent()
    };
    let config = strata_domain::config::parse_config(&abc("")).unwrap();
    match strata_engine::run::segment(
        config,
        &inputs(path, None, None),
        crate::d("2024-12-31"),
        &control,
    ) {
        Ok(_) => panic!("the run should fail"),
        Err(e) => e,
    }
}

#[test]
fn every_bad_cell_is_listed_when_collected() {
    let f = Files::new();
    let path = f.write(
        "t.csv",
        "order_id,customer_id,date,amount\n\
         1,C1,2024-01-01,10\n\
         2,C2,2024-13-01,10\n\
         3,,2024-01-01,1.23456\n\
         4,C4,2024-01-01\n\
         5,C5,2024-01-01,x\n",
    );
    let strata_engine::Error::Cells(cells) = collected_error(path.clone()) else {
        panic!("the bad cells are collected")
    };
    let found: Vec<String> = cells
        .iter()
        .map(|c| c.to_string().replace(&format!("{}: ", path.display()), ""))
        .map(|c| c.split(": ").take(1).collect())
        .collect();
    assert_eq!(
        found,
        [
            "line 3, column 'date'",
            "line 4, column 'customer_id'",
            "line 4, column 'amount'",
            "line 5",
            "line 6, column 'amount'",
        ]
    );
    // Without collecting, the first bad cell stops the run.
    let first = segment(&abc(""), &inputs(path, None, None), "2024-12-31").unwrap_err();
    assert!(first.contains("line 3, column 'date'"), "{first}");
    assert!(!first.contains("line 4"), "{first}");
}

#[test]
fn collected_cells_stop_at_the_cap() {
    let f = Files::new();
    let mut text = String::from("order_id,customer_id,date,amount\n");
    for i in 0..150 {
        text.push_str(&format!("{i},C{i},someday,1\n"));
    }
    let error = collected_error(f.write("t.csv", &text));
    let strata_engine::Error::Cells(cells) = &error else {
        panic!("the bad cells are collected")
    };
    assert_eq!(cells.len(), strata_engine::error::MAX_COLLECTED_ERRORS);
    assert!(error
        .to_string()
        .ends_with("(stopped at the first 100 problems)"));
}
