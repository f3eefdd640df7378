//! CSV exports as ERPs write them, and the errors people get for bad ones.

use crate::{abc, columns, inputs, segment, Fixture};

#[test]
fn french_exports_with_bom_semicolons_decimal_commas_and_quotes() {
    let f = Fixture::new();
    let transactions = f.file(
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

    let transactions = f.file(
        "t2.csv",
        "\u{feff} Order_ID ;Customer_ID;DATE;Amount;Libellé\n\
         1;C1;2024-05-01;1000,50;\"Garage \"\"Dupont\"\"; Lyon\"\n\
         2;C2;2024-05-02;12,5;x\n\
         3;C3;2024-05-03;7.25;y\n",
    );
    let out = segment(&abc(""), &inputs(transactions, None, None), "2024-12-31").unwrap();
    assert_eq!(
        columns(&out, 7),
        [
            "ABC,C1,A,computed,A,,1000.5",
            "ABC,C2,C,computed,C,,12.5",
            "ABC,C3,C,computed,C,,7.25"
        ]
    );
}

#[test]
fn quoted_fields_with_commas_in_comma_files() {
    let f = Fixture::new();
    let transactions = f.file(
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
    let f = Fixture::new();
    let header = "order_id,customer_id,date,amount\n";
    let cases = [
        (
            "1,C1,2024-13-01,10\n",
            "line 2, column 'date': expected a date YYYY-MM-DD, found '2024-13-01'",
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
        let path = f.file(&format!("bad{i}.csv"), &format!("{header}{body}"));
        let message = segment(&abc(""), &inputs(path, None, None), "2024-12-31").unwrap_err();
        assert!(
            message.contains(&format!("bad{i}.csv: {expected}")),
            "case {i}: {message}"
        );
    }
    let path = f.file(
        "missing.csv",
        "order_id,customer,date,amount\n1,C1,2024-01-01,1\n",
    );
    let message = segment(&abc(""), &inputs(path, None, None), "2024-12-31").unwrap_err();
    assert!(
        message.contains("missing.csv: header: missing required column 'customer_id' (found: order_id, customer, date, amount)"),
        "{message}"
    );
}
