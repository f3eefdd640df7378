//! `compare`: two periods of one type and the movements between them.

use crate::{abc, compare, inputs, Files};

#[test]
fn movements_between_inclusive_periods() {
    let f = Files::new();
    let t = f.write(
        "t.csv",
        "order_id,customer_id,date,amount\n\
         1,UP,2023-01-01,10\n\
         2,UP,2024-12-31,90\n\
         3,DOWN,2023-12-31,90\n\
         4,DOWN,2024-01-01,10\n\
         5,SAME,2023-06-01,5\n\
         6,SAME,2024-06-01,5\n\
         7,NEW,2024-02-01,1\n\
         8,GONE,2023-02-01,1\n\
         9,NONE,2022-12-31,1\n",
    );
    let overrides_are_ignored = f.write("o.csv", "segment_type,customer_id,segment\nABC,UP,C\n");
    let out = compare(
        &abc(""),
        &inputs(t, None, Some(overrides_are_ignored)),
        "ABC",
        "2023-01-01..2023-12-31",
        "2024-01-01..2024-12-31",
    )
    .unwrap();
    assert_eq!(
        out,
        "customer_id,segment_a,segment_b,movement\n\
         DOWN,A,B,declined\n\
         GONE,C,,lost\n\
         NEW,,C,new\n\
         SAME,B,B,unchanged\n\
         UP,B,A,improved\n"
    );
}

#[test]
fn unknown_type_is_an_error() {
    let f = Files::new();
    let t = f.write(
        "t.csv",
        "order_id,customer_id,date,amount\n1,C1,2024-01-01,1\n",
    );
    let message = compare(
        &abc(""),
        &inputs(t, None, None),
        "Nope",
        "2023-01-01..2023-12-31",
        "2024-01-01..2024-12-31",
    )
    .unwrap_err();
    assert_eq!(message, "unknown type 'Nope' (known: ABC)");
}
