//! `segment` end to end: windows, line constraints, identities, RFM orders
//! and manual assignments, from files.

use crate::{abc, columns, inputs, segment, Files};

const HEADER: &str = "order_id,customer_id,date,amount,margin,agency,brand\n";

fn transactions(f: &Files, rows: &[&str]) -> std::path::PathBuf {
    f.write("t.csv", format!("{HEADER}{}\n", rows.join("\n")))
}

#[test]
fn rolling_window_from_month_end_and_lines_after_as_of() {
    let f = Files::new();
    // as_of 2023-03-31 minus one month is 2023-02-28: the window is March 1..31.
    let t = transactions(
        &f,
        &[
            "1,FEB,2023-02-28,1000,0,,",
            "2,MAR1,2023-03-01,100,0,,",
            "3,MAR31,2023-03-31,10,0,,",
            "4,APR,2023-04-01,10000,0,,",
        ],
    );
    let config = abc("period_months = 1");
    let out = segment(&config, &inputs(t, None, None), "2023-03-31").unwrap();
    assert_eq!(columns(&out, 3), ["ABC,MAR1,A", "ABC,MAR31,B"]);
}

#[test]
fn calendar_year_window() {
    let f = Files::new();
    let t = transactions(
        &f,
        &[
            "1,OLD,2023-12-31,100,0,,",
            "2,NEW,2024-01-01,10,0,,",
            "3,NEW,2024-06-30,10,0,,",
        ],
    );
    let out = segment(
        &abc("interval = \"calendar_year\""),
        &inputs(t, None, None),
        "2024-06-30",
    )
    .unwrap();
    assert_eq!(columns(&out, 9), ["ABC,NEW,A,computed,A,,,,20"]);
}

#[test]
fn agency_and_brand_constraints_with_customer_agency_fallback() {
    let f = Files::new();
    let t = f.write(
        "t.csv",
        "order_id,customer_id,date,amount,brand\n\
         1,C1,2024-01-10,100,Bosch\n\
         2,C2,2024-01-10,50,bosch\n\
         3,C3,2024-01-10,70,Valeo\n\
         4,C1,2024-01-10,30,Valeo\n",
    );
    let customers = f.write("c.csv", "customer_id,agency\nC1,Lyon\nC2,Paris\nC3,Lyon\n");
    let config = abc("agencies = [\"lyon\"]\nbrands = [\"Bosch\"]");
    let out = segment(&config, &inputs(t, Some(customers), None), "2024-12-31").unwrap();
    // Only C1's Bosch line is in Lyon and of brand Bosch.
    assert_eq!(columns(&out, 9), ["ABC,C1,A,computed,A,,,,100"]);
}

#[test]
fn line_agency_wins_over_the_customer_agency() {
    let f = Files::new();
    let t = transactions(
        &f,
        &[
            "1,C1,2024-01-10,100,0,Paris,",
            "2,C1,2024-01-11,10,0,,",
            "3,C2,2024-01-10,60,0,Lyon,",
        ],
    );
    let customers = f.write("c.csv", "customer_id,agency\nC1,Lyon\nC2,Paris\n");
    let out = segment(
        &abc("agencies = [\"Lyon\"]"),
        &inputs(t, Some(customers), None),
        "2024-12-31",
    )
    .unwrap();
    assert_eq!(
        columns(&out, 9),
        ["ABC,C1,B,computed,B,,,,10", "ABC,C2,A,computed,A,,,,60"]
    );
}

#[test]
fn margin_measure_and_min_sales() {
    let f = Files::new();
    let t = transactions(
        &f,
        &[
            "1,C1,2024-01-10,100,5,,",
            "2,C2,2024-01-10,10,50,,",
            "3,C3,2024-01-10,10,4,,",
        ],
    );
    let out = segment(
        &abc("measure = \"margin\"\nmin_sales = 5"),
        &inputs(t, None, None),
        "2024-12-31",
    )
    .unwrap();
    assert_eq!(
        columns(&out, 9),
        ["ABC,C1,B,computed,B,,,,5", "ABC,C2,A,computed,A,,,,50"]
    );

    let t = f.write(
        "nomargin.csv",
        "order_id,customer_id,date,amount\n1,C1,2024-01-10,1\n",
    );
    let message = segment(
        &abc("measure = \"margin\""),
        &inputs(t, None, None),
        "2024-12-31",
    )
    .unwrap_err();
    assert!(message.contains("nomargin.csv: header: missing column 'margin', required by type 'ABC' (measure = \"margin\")"), "{message}");
}

#[test]
fn customers_only_in_the_customers_file_get_the_default_tier() {
    let f = Files::new();
    let t = transactions(&f, &["1,C1,2024-01-10,100,0,,"]);
    let customers = f.write("c.csv", "customer_id,name\nC1,One\nC9,Nine\n");
    let config = format!(
        "{}[[types.segments]]\nname = \"None\"\ndefault = true\n",
        abc("")
    );
    let out = segment(&config, &inputs(t, Some(customers), None), "2024-12-31").unwrap();
    assert_eq!(
        columns(&out, 10),
        [
            "ABC,C1,A,computed,A,,,,100,0.000000",
            "ABC,C9,None,default,None,,,,0,"
        ]
    );
}

#[test]
fn vat_identity_pools_accounts_and_gives_every_account_the_group_tier() {
    let f = Files::new();
    let t = transactions(
        &f,
        &[
            "1,C1,2024-01-10,45,0,,",
            "2,C2,2024-01-10,40,0,,",
            "3,C3,2024-01-10,15,0,,",
        ],
    );
    let customers = f.write("c.csv", "customer_id,vat\nC1,FR 123\nC2,fr123\nC3,\n");
    let out = segment(
        &abc("identity = \"vat\""),
        &inputs(t, Some(customers), None),
        "2024-12-31",
    )
    .unwrap();
    assert_eq!(
        columns(&out, 10),
        [
            "ABC,C1,A,computed,A,,,,85,0.000000",
            "ABC,C2,A,computed,A,,,,85,0.000000",
            "ABC,C3,B,computed,B,,,,15,0.850000"
        ]
    );
}

const RFM: &str = "[[types]]\nname = \"RFM\"\nmethod = \"rfm\"\nbins = 3\nrecency_days = [10, 100]\nfrequency = [2, 3]\nmonetary = [50, 100]\n\
[[types.segments]]\nname = \"best\"\nr = [3, 3]\n[[types.segments]]\nname = \"rest\"\ndefault = true\n";

#[test]
fn rfm_orders_are_netted_and_returns_do_not_count() {
    let f = Files::new();
    let t = transactions(
        &f,
        &[
            // C1: order 1 has two lines (net 60, date = latest line), order 2 is a return.
            "1,C1,2024-12-20,50,0,,",
            "1,C1,2024-12-25,10,0,,",
            "2,C1,2024-12-30,-20,0,,",
            // C2: the same order id as C1's, but another customer's order.
            "1,C2,2024-01-01,500,0,,",
            // C3: only a credit note: no RFM segment.
            "9,C3,2024-12-01,-5,0,,",
        ],
    );
    let out = segment(RFM, &inputs(t, None, None), "2024-12-31").unwrap();
    let header = out.lines().next().unwrap();
    assert!(
        header.ends_with("recency_days,frequency,monetary,r,f,m"),
        "{header}"
    );
    let rows: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(
        rows,
        [
            "RFM,C1,best,computed,best,,,,,,6,1,40,3,1,1",
            "RFM,C2,rest,default,rest,,,,,,365,1,500,1,1,3"
        ]
    );
}

#[test]
fn overrides_win_and_excluded_tiers_leave_the_ranking() {
    let f = Files::new();
    let t = transactions(
        &f,
        &[
            "1,C1,2024-01-10,1000,0,,",
            "2,C2,2024-01-10,10,0,,",
            "3,C3,2024-01-10,1,0,,",
        ],
    );
    let config = format!(
        "{}[[types.segments]]\nname = \"VIP\"\nexcluded = true\n",
        abc("")
    );
    let overrides = f.write(
        "o.csv",
        "segment_type,customer_id,segment\nABC,C1,VIP\nABC,C3,A\n",
    );
    let out = segment(&config, &inputs(t, None, Some(overrides)), "2024-12-31").unwrap();
    assert_eq!(
        columns(&out, 10),
        [
            "ABC,C1,VIP,manual,,VIP,,,1000,",
            "ABC,C2,A,computed,A,,,,10,0.000000",
            "ABC,C3,A,manual,B,A,,,1,0.909090",
        ]
    );
}

#[test]
fn bad_overrides_name_the_line() {
    let f = Files::new();
    let t = transactions(&f, &["1,C1,2024-01-10,1000,0,,"]);
    let cases = [
        ("XYZ,C1,A", "line 2, column 'segment_type': unknown segment type 'XYZ' (known: ABC)"),
        ("ABC,C1,Z", "line 2, column 'segment': unknown segment 'Z' in type 'ABC' (known: A, B, C)"),
        ("ABC,C404,A", "line 2, column 'customer_id': unknown customer 'C404'"),
        ("ABC,C1,A\nABC,C1,B", "line 3, column 'customer_id': duplicate override of customer 'C1' in type 'ABC' (first at line 2)"),
    ];
    for (i, (rows, expected)) in cases.iter().enumerate() {
        let o = f.write(
            &format!("o{i}.csv"),
            format!("segment_type,customer_id,segment\n{rows}\n"),
        );
        let message =
            segment(&abc(""), &inputs(t.clone(), None, Some(o)), "2024-12-31").unwrap_err();
        assert!(
            message.contains(&format!("o{i}.csv: {expected}")),
            "case {i}: {message}"
        );
    }
}

#[test]
fn configuration_problems_are_all_reported() {
    let f = Files::new();
    let t = transactions(&f, &["1,C1,2024-01-10,1000,0,,"]);
    let config =
        abc("").replace("share = 5", "share = 4") + "[[types]]\nname = \"X\"\nmethod = \"magic\"\n";
    let message = segment(&config, &inputs(t, None, None), "2024-12-31").unwrap_err();
    assert!(
        message.contains("the shares of the non-excluded segments total 99, expected exactly 100"),
        "{message}"
    );
    assert!(
        message.contains("unknown method 'magic', expected pareto, rfm or rules"),
        "{message}"
    );
}
