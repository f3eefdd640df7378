//! Parquet exports with the column types real tools write.

use crate::{abc, columns, inputs, segment, Files};
use arrow_array::builder::{Decimal128Builder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use parquet::arrow::ArrowWriter;
use std::path::PathBuf;
use std::sync::Arc;

fn write(f: &Files, name: &str, columns: Vec<(&str, ArrayRef)>) -> PathBuf {
    let path = f.path(name);
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut writer =
        ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    path
}

fn decimals(values: &[i128], precision: u8, scale: i8) -> ArrayRef {
    let mut builder = Decimal128Builder::new()
        .with_precision_and_scale(precision, scale)
        .unwrap();
    builder.append_slice(values);
    Arc::new(builder.finish())
}

const DAY_MS: i64 = 86_400_000;

#[test]
fn timestamps_decimals_integer_ids_and_dictionaries() {
    let f = Files::new();
    let mut customers = StringDictionaryBuilder::<Int32Type>::new();
    for c in ["C1", "C2", "C3"] {
        customers.append_value(c);
    }
    // 2024-01-01T01:00 at +02:00 is 2023-12-31T23:00 UTC: outside the 2024 calendar year.
    let new_year_utc = 19_723 * DAY_MS;
    let timestamps = TimestampMillisecondArray::from(vec![
        new_year_utc - 3_600_000,
        new_year_utc + DAY_MS,
        new_year_utc + 2 * DAY_MS,
    ])
    .with_timezone("+02:00");
    let path = write(
        &f,
        "t.parquet",
        vec![
            (
                "ORDER_ID",
                Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef,
            ),
            ("customer_id", Arc::new(customers.finish())),
            ("date", Arc::new(timestamps)),
            ("amount", decimals(&[1_000_000, 8_000, 2_050], 10, 2)),
        ],
    );
    let out = segment(
        &abc("interval = \"calendar_year\""),
        &inputs(path, None, None),
        "2024-12-31",
    )
    .unwrap();
    assert_eq!(
        columns(&out, 9),
        ["ABC,C2,A,computed,A,,,,80", "ABC,C3,A,computed,A,,,,20.5"]
    );
}

#[test]
fn text_dates_float_and_integer_amounts() {
    let f = Files::new();
    let path = write(
        &f,
        "floats.parquet",
        vec![
            (
                "order_id",
                Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef,
            ),
            ("customer_id", Arc::new(Int64Array::from(vec![7, 8]))),
            (
                "date",
                Arc::new(StringArray::from(vec!["2024-03-01", "2024-03-02"])),
            ),
            // 1.00005 rounds half to even to 1.0000; 2.00015 to 2.0002.
            (
                "amount",
                Arc::new(Float64Array::from(vec![1.00005, 2.00015])),
            ),
        ],
    );
    let out = segment(&abc(""), &inputs(path, None, None), "2024-12-31").unwrap();
    assert_eq!(
        columns(&out, 9),
        ["ABC,7,A,computed,A,,,,1", "ABC,8,A,computed,A,,,,2.0002"]
    );

    let path = write(
        &f,
        "ints.parquet",
        vec![
            (
                "order_id",
                Arc::new(StringArray::from(vec!["a"])) as ArrayRef,
            ),
            ("customer_id", Arc::new(StringArray::from(vec!["C1"]))),
            ("date", Arc::new(Date32Array::from(vec![19_800]))),
            ("amount", Arc::new(Int64Array::from(vec![12]))),
        ],
    );
    let out = segment(&abc(""), &inputs(path, None, None), "2024-12-31").unwrap();
    assert_eq!(
        columns(&out, 9),
        ["ABC,C1,A,computed,A,,,,12"],
        "integers are currency units, not cents"
    );
}

#[test]
fn too_precise_decimals_and_wrong_types_name_the_row_or_column() {
    let f = Files::new();
    let path = write(
        &f,
        "precise.parquet",
        vec![
            (
                "order_id",
                Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef,
            ),
            ("customer_id", Arc::new(StringArray::from(vec!["C1", "C2"]))),
            ("date", Arc::new(Date32Array::from(vec![19_800, 19_800]))),
            ("amount", decimals(&[1_000_000, 1_234_567], 12, 6)),
        ],
    );
    let message = segment(&abc(""), &inputs(path, None, None), "2024-12-31").unwrap_err();
    assert!(
        message.contains(
            "precise.parquet: row 2, column 'amount': '1234567' has more than 4 decimal places"
        ),
        "{message}"
    );

    let path = write(
        &f,
        "types.parquet",
        vec![
            (
                "order_id",
                Arc::new(StringArray::from(vec!["a"])) as ArrayRef,
            ),
            ("customer_id", Arc::new(StringArray::from(vec!["C1"]))),
            ("date", Arc::new(Float64Array::from(vec![1.0]))),
            ("amount", Arc::new(Int64Array::from(vec![12]))),
        ],
    );
    let message = segment(&abc(""), &inputs(path, None, None), "2024-12-31").unwrap_err();
    assert!(
        message.contains("types.parquet: header, column 'date': expected a DATE, TIMESTAMP or ISO date text, found type Float64"),
        "{message}"
    );
}

#[test]
fn bad_cells_of_parquet_are_collected_too() {
    let f = Files::new();
    let path = write(
        &f,
        "bad.parquet",
        vec![
            (
                "order_id",
                Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef,
            ),
            ("customer_id", Arc::new(StringArray::from(vec!["C1", "C2"]))),
            (
                "date",
                Arc::new(StringArray::from(vec!["2024-03-01", "yesterday"])),
            ),
            ("amount", Arc::new(Float64Array::from(vec![1.0, 2.0]))),
        ],
    );
    let control = strata_engine::progress::Control {
        errors: strata_engine::transactions::ErrorMode::Collect,
        ..strata_engine::progress::Control::silent()
    };
    let error = strata_engine::run::segment(
        strata_domain::config::parse_config(&abc("")).unwrap(),
        &inputs(path, None, None),
        crate::d("2024-12-31"),
        &control,
    )
    .err()
    .expect("the run fails");
    let strata_engine::Error::Cells(cells) = &error else {
        panic!("the bad cells are collected: {error}")
    };
    assert_eq!(cells.len(), 1);
    assert!(error.to_string().contains("row 2"), "{error}");
}

#[test]
fn line_numbers_of_parquet_are_integers_or_text() {
    let f = Files::new();
    let read = |line: ArrayRef| {
        let path = write(
            &f,
            "lines.parquet",
            vec![
                (
                    "order_id",
                    Arc::new(StringArray::from(vec!["a", "a"])) as ArrayRef,
                ),
                ("customer_id", Arc::new(StringArray::from(vec!["C1", "C1"]))),
                (
                    "date",
                    Arc::new(StringArray::from(vec!["2024-03-01", "2024-03-02"])),
                ),
                ("amount", Arc::new(Float64Array::from(vec![1.0, 2.0]))),
                ("line", line),
            ],
        );
        strata_engine::rows::read_all(
            &strata_engine::source::FileLines {
                path,
                decimal: None,
            },
            std::num::NonZeroUsize::MIN,
        )
    };
    let integers = read(Arc::new(Int64Array::from(vec![3, 1]))).unwrap();
    assert_eq!(integers.numbers, Some(vec![3, 1]));
    let texts = read(Arc::new(StringArray::from(vec!["1", "2"]))).unwrap();
    assert_eq!(texts.numbers, Some(vec![1, 2]));
    let error = read(Arc::new(Int64Array::from(vec![Some(1), None]))).unwrap_err();
    assert!(error.to_string().contains("row 2"), "{error}");
    assert!(
        error.to_string().contains("expected a line number"),
        "{error}"
    );
    let error = read(Arc::new(Int64Array::from(vec![1, -4]))).unwrap_err();
    assert!(
        error.to_string().contains("'-4' is not a line number"),
        "{error}"
    );
    let error = read(Arc::new(Float64Array::from(vec![1.0, 2.0]))).unwrap_err();
    assert!(
        error.to_string().contains("expected integers or text"),
        "{error}"
    );
}
