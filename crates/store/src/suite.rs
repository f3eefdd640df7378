//! The tests every backend passes: each function takes a fresh, empty store.
//! A backend runs them all with [`store_suite!`](crate::store_suite).

use crate::*;
use std::collections::BTreeMap;
use strata_domain::date::Date;
use strata_domain::money::Amount;

/// Generates one test per suite function for a backend. `$open` is an
/// `async fn(&str) -> Option<S>` giving a fresh store for the named test,
/// or `None` when the backend is missing and the test may skip.
#[macro_export]
macro_rules! store_suite {
    ($open:path) => {
        $crate::store_suite!(@each $open;
            orgs_and_tokens, settings_round_trip, customers_merge_and_page,
            lines_upsert_and_replace_whole_orders, types_versions_and_default,
            rename_and_delete_types, runs_queue_claim_and_lease, finished_runs_replace_results,
            manual_assignments, organisations_are_isolated, snapshot_reads_everything,
            definitions_version_follows_every_change, customer_detail_reads_one_state,
            customer_lines_are_its_own, erasing_a_customer_leaves_nothing_of_it,
            history_records_every_change_with_its_cause, static_members_follow_their_type,
            one_off_runs_keep_their_rows_apart, changes_by_hand_take_effect_at_once,
            retention_bounds_run_rows_and_history, notifications_are_read_per_token);
    };
    (@each $open:path; $($name:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(store) = $open(stringify!($name)).await else { return };
                $crate::suite::$name(&store).await;
            }
        )*
    };
}

/// A change by hand in a type giving one segment per customer.
const HAND: ManualChange<'static> = ManualChange {
    actor: "tester",
    one_per_account: true,
};

/// A change by hand in a group type.
const GROUP_HAND: ManualChange<'static> = ManualChange {
    actor: "tester",
    one_per_account: false,
};

fn day(text: &str) -> Date {
    Date::parse_iso(text).expect("a test date")
}

fn line(customer: &str, order: &str, n: i64, amount: i64) -> StoredLine {
    StoredLine {
        customer_id: customer.into(),
        order_id: order.into(),
        line: n,
        date: day("2026-01-15"),
        amount: Amount::from_units(amount),
        margin: None,
        agency: Some("Lyon".into()),
        brand: None,
        category: None,
        status: None,
        due_date: None,
    }
}

fn customer(id: &str, attributes: &[(&str, &str)]) -> Customer {
    Customer {
        id: id.into(),
        attributes: attributes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    }
}

async fn org(store: &dyn Store, name: &str) -> OrgId {
    store.ensure_org(name).await.expect("an organisation").0.id
}

/// A customer's manual segments, through its detail; the customer must exist.
async fn manual_of(store: &dyn Store, org: OrgId, id: &str) -> Vec<(String, String)> {
    detail(store, org, id).await.manual
}

/// A customer's rows in the latest results; the customer must exist.
async fn results_of(store: &dyn Store, org: OrgId, id: &str) -> Vec<ResultRow> {
    detail(store, org, id).await.results
}

async fn detail(store: &dyn Store, org: OrgId, id: &str) -> CustomerDetail {
    store
        .customer_detail(org, id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no customer {id}"))
}

/// A whole snapshot, read in batches of two lines, its lines sorted by
/// customer, order and line.
async fn snapshot(store: &dyn Store, org: OrgId) -> (SnapshotHead, Vec<StoredLine>) {
    let (head_tx, head_rx) = tokio::sync::oneshot::channel();
    let (lines_tx, mut lines_rx) = tokio::sync::mpsc::channel::<LineBatch>(1);
    let collect = async {
        let mut lines = Vec::new();
        while let Some(batch) = lines_rx.recv().await {
            assert!(batch.len() <= 2, "a batch of {} lines", batch.len());
            lines.extend((0..batch.len()).map(|i| batch.line(i)));
        }
        lines
    };
    let (read, mut lines) = tokio::join!(store.snapshot(org, 2, head_tx, lines_tx), collect);
    read.unwrap();
    lines.sort_by(|a, b| {
        (&a.customer_id, &a.order_id, a.line).cmp(&(&b.customer_id, &b.order_id, b.line))
    });
    (head_rx.await.unwrap(), lines)
}

fn page(limit: u32) -> CustomerQuery {
    CustomerQuery {
        limit,
        ..CustomerQuery::default()
    }
}

/// Organisations are created once; tokens are found by hash only, listed
/// and revoked within their organisation.
pub async fn orgs_and_tokens(store: &dyn Store) {
    let (acme, created) = store.ensure_org("acme").await.unwrap();
    assert!(created);
    let (again, created) = store.ensure_org("acme").await.unwrap();
    assert!(!created);
    assert_eq!(again, acme);
    let other = org(store, "other").await;
    assert_ne!(other, acme.id);

    let (secret, hash) = new_token();
    let token = store
        .create_token(&NewToken {
            org: acme.id,
            role: Role::Editor,
            label: "crm sync".into(),
            hash: hash.clone(),
        })
        .await
        .unwrap();
    let found = store.token_by_hash(&hash_token(&secret)).await.unwrap();
    assert_eq!(found.as_ref(), Some(&token));
    assert_eq!(found.unwrap().role, Role::Editor);
    assert_eq!(
        store
            .token_by_hash(&hash_token("strata_nope"))
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.tokens(acme.id).await.unwrap(), vec![token.clone()]);
    assert!(store.tokens(other).await.unwrap().is_empty());
    assert!(!store.delete_token(other, token.id).await.unwrap());
    assert!(store.delete_token(acme.id, token.id).await.unwrap());
    assert_eq!(store.token_by_hash(&hash).await.unwrap(), None);
}

/// Settings are stored as given and read back.
pub async fn settings_round_trip(store: &dyn Store) {
    let acme = org(store, "acme").await;
    assert_eq!(store.settings(acme).await.unwrap(), Default::default());
    let settings = strata_domain::config::input::SettingsInput {
        currency: Some("CHF".into()),
        time_zone: Some("Europe/Zurich".into()),
        attributes: [("region".to_owned(), "text".to_owned())].into(),
        closed_statuses: Some(vec!["done".into()]),
    };
    store.set_settings(acme, &settings).await.unwrap();
    assert_eq!(store.settings(acme).await.unwrap(), settings);
}

/// Upserts keep absent attributes, count only real changes, and pages
/// follow customer ids; search ignores case and accents.
pub async fn customers_merge_and_page(store: &dyn Store) {
    let acme = org(store, "acme").await;
    let batch = [
        customer("C2", &[("name", "Société Générale"), ("city", "Lyon")]),
        customer("C1", &[("name", "Alpha"), ("email", "a@example.com")]),
        customer("C3", &[]),
    ];
    assert_eq!(store.upsert_customers(acme, &batch).await.unwrap(), 3);
    let version = store.data_version(acme).await.unwrap();
    assert_eq!(store.upsert_customers(acme, &batch).await.unwrap(), 0);
    assert_eq!(store.data_version(acme).await.unwrap(), version);
    assert_eq!(
        store
            .upsert_customers(acme, &[customer("C2", &[("city", "Paris")])])
            .await
            .unwrap(),
        1
    );
    assert!(store.data_version(acme).await.unwrap() > version);
    let twice = [
        customer("C4", &[("name", "Delta")]),
        customer("C4", &[("vat", "FR4")]),
    ];
    let beta = org(store, "beta").await;
    assert_eq!(
        store.upsert_customers(beta, &twice).await.unwrap(),
        1,
        "a customer listed twice changes once"
    );
    assert_eq!(
        store.customer(beta, "C4").await.unwrap().unwrap(),
        customer("C4", &[("name", "Delta"), ("vat", "FR4")])
    );
    let c2 = store.customer(acme, "C2").await.unwrap().unwrap();
    assert_eq!(
        c2.attributes,
        customer("C2", &[("city", "Paris"), ("name", "Société Générale")]).attributes
    );
    let first = store.customers(acme, &page(2)).await.unwrap();
    assert_eq!(
        first.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["C1", "C2"]
    );
    let rest = store
        .customers(
            acme,
            &CustomerQuery {
                after: Some("C2".into()),
                ..page(2)
            },
        )
        .await
        .unwrap();
    assert_eq!(
        rest.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["C3"]
    );
    for (q, expected) in [
        ("SOCIETE", vec!["C2"]),
        ("example", vec!["C1"]),
        ("c", vec!["C1", "C2", "C3"]),
        ("paris", vec![]),
    ] {
        let found = store
            .customers(
                acme,
                &CustomerQuery {
                    search: Some(search_query(q)),
                    ..page(10)
                },
            )
            .await
            .unwrap();
        assert_eq!(
            found.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            expected,
            "search {q:?}"
        );
    }
    assert_eq!(store.customer(acme, "C9").await.unwrap(), None);
    assert_eq!(
        store.attribute_names(acme).await.unwrap(),
        ["city", "email", "name"]
    );
    let other = org(store, "other").await;
    assert!(store.attribute_names(other).await.unwrap().is_empty());
}

/// Lines are identified by customer, order and line: sending them again
/// changes nothing; an import of whole orders removes the lines it no
/// longer has; a customer known only from lines exists without attributes.
pub async fn lines_upsert_and_replace_whole_orders(store: &dyn Store) {
    let acme = org(store, "acme").await;
    let three = LineImport {
        lines: vec![
            line("C1", "O1", 1, 10),
            line("C1", "O1", 2, 20),
            line("C1", "O1", 3, 30),
            line("C2", "O2", 1, 5),
        ],
        whole_orders: true,
    };
    assert_eq!(store.import_lines(acme, &three).await.unwrap(), 4);
    let version = store.data_version(acme).await.unwrap();
    assert_eq!(store.import_lines(acme, &three).await.unwrap(), 0);
    assert_eq!(store.data_version(acme).await.unwrap(), version);
    assert_eq!(
        store.customer(acme, "C2").await.unwrap(),
        Some(customer("C2", &[]))
    );

    let one = LineImport {
        lines: vec![line("C1", "O1", 1, 10)],
        whole_orders: true,
    };
    assert_eq!(store.import_lines(acme, &one).await.unwrap(), 2);
    let mut changed = line("C2", "O2", 1, 6);
    changed.margin = Some(Amount(12_345));
    let keyed = LineImport {
        lines: vec![changed.clone(), line("C2", "O2", 7, 1)],
        whole_orders: false,
    };
    assert_eq!(store.import_lines(acme, &keyed).await.unwrap(), 2);
    let (head, lines) = snapshot(store, acme).await;
    assert_eq!(
        lines,
        vec![line("C1", "O1", 1, 10), changed, line("C2", "O2", 7, 1)]
    );
    assert!(head.data_version > version);
}

/// A type's version grows only when its definition changes; one type at
/// most is the default.
pub async fn types_versions_and_default(store: &dyn Store) {
    let acme = org(store, "acme").await;
    let put = |name: &str, share: u32, is_default: bool| PutType {
        name: name.into(),
        definition: serde_json::json!({"name": name, "method": "pareto", "share": share}),
        is_default,
        actor: "tester".into(),
    };
    let (abc, change) = store.put_type(acme, &put("ABC", 80, true)).await.unwrap();
    assert_eq!(
        (abc.version, change, abc.is_default),
        (1, Change::Created, true)
    );
    let (same, change) = store.put_type(acme, &put("ABC", 80, true)).await.unwrap();
    assert_eq!((same.version, change), (1, Change::Unchanged));
    let (changed, change) = store.put_type(acme, &put("ABC", 70, true)).await.unwrap();
    assert_eq!((changed.version, change), (2, Change::Updated));
    store.put_type(acme, &put("RFM", 1, true)).await.unwrap();
    let types = store.types(acme).await.unwrap();
    assert_eq!(
        types
            .iter()
            .map(|t| (t.name.as_str(), t.is_default, t.version))
            .collect::<Vec<_>>(),
        [("ABC", false, 2), ("RFM", true, 1)]
    );
}

/// Renaming moves manual assignments and rewrites the referencing types;
/// deleting removes a type with its manual assignments.
pub async fn rename_and_delete_types(store: &dyn Store) {
    let acme = org(store, "acme").await;
    store
        .upsert_customers(acme, &[customer("C1", &[])])
        .await
        .unwrap();
    for name in ["ABC", "VIP"] {
        store
            .put_type(
                acme,
                &PutType {
                    name: name.into(),
                    definition: serde_json::json!({"name": name}),
                    is_default: false,
                    actor: "tester".into(),
                },
            )
            .await
            .unwrap();
    }
    store
        .set_manual(acme, "ABC", "C1", &["A".into()], HAND)
        .await
        .unwrap();
    let rename = RenameType {
        from: "ABC".into(),
        to: "Tiers".into(),
        definition: serde_json::json!({"name": "Tiers"}),
        rewritten: vec![(
            "VIP".into(),
            serde_json::json!({"name": "VIP", "reads": "Tiers"}),
        )],
        actor: "tester".into(),
    };
    store.rename_type(acme, &rename).await.unwrap();
    let types = store.types(acme).await.unwrap();
    assert_eq!(
        types
            .iter()
            .map(|t| (t.name.as_str(), t.version))
            .collect::<Vec<_>>(),
        [("Tiers", 2), ("VIP", 2)]
    );
    assert_eq!(types[1].definition["reads"], "Tiers");
    assert_eq!(
        manual_of(store, acme, "C1").await,
        [("Tiers".to_owned(), "A".to_owned())]
    );
    let clash = RenameType {
        from: "Tiers".into(),
        to: "VIP".into(),
        definition: serde_json::json!({"name": "VIP"}),
        rewritten: vec![],
        actor: "tester".into(),
    };
    assert!(matches!(
        store.rename_type(acme, &clash).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.delete_type(acme, "Tiers", "tester").await.unwrap());
    assert!(!store.delete_type(acme, "Tiers", "tester").await.unwrap());
    assert!(manual_of(store, acme, "C1").await.is_empty());
    // The audit follows the type through its rename, up to its deletion.
    let audit = |name: &'static str| async move {
        store
            .type_changes(acme, name)
            .await
            .unwrap()
            .into_iter()
            .map(|c| {
                let name = |v: &Option<serde_json::Value>| {
                    v.as_ref()
                        .map(|d| d["name"].as_str().unwrap_or("").to_owned())
                };
                (c.action.as_str(), c.actor, name(&c.before), name(&c.after))
            })
            .collect::<Vec<_>>()
    };
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(
        audit("Tiers").await,
        [
            ("created", "tester".to_owned(), None, some("ABC")),
            ("renamed", "tester".to_owned(), some("ABC"), some("Tiers")),
            ("deleted", "tester".to_owned(), some("Tiers"), None),
        ]
    );
    assert_eq!(
        audit("VIP").await,
        [
            ("created", "tester".to_owned(), None, some("VIP")),
            ("updated", "tester".to_owned(), some("VIP"), some("VIP")),
        ]
    );
    assert!(audit("ABC").await.is_empty());
}

/// A run is queued once per types and date; a worker claims it with a
/// lease it renews; only expired leases are failed on start.
pub async fn runs_queue_claim_and_lease(store: &dyn Store) {
    let acme = org(store, "acme").await;
    let new = |types: &[&str], as_of: &str| NewRun {
        kind: RunKind::Segment,
        types: types.iter().map(|t| (*t).to_owned()).collect(),
        as_of: day(as_of),
        actor: "tester".into(),
    };
    let (run, created) = store
        .create_run(acme, &new(&["ABC"], "2026-06-30"))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(run.status, RunStatus::Queued);
    let (same, created) = store
        .create_run(acme, &new(&["ABC"], "2026-06-30"))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(same.id, run.id);
    assert!(matches!(
        store.create_run(acme, &new(&["ABC"], "2026-07-31")).await,
        Err(StoreError::Conflict(_))
    ));
    let (other, _) = store
        .create_run(acme, &new(&["RFM"], "2026-07-31"))
        .await
        .unwrap();

    let soon = chrono::Utc::now() + chrono::Duration::seconds(30);
    let claimed = store.claim_run("worker-1", soon).await.unwrap().unwrap();
    assert_eq!((claimed.id, claimed.status), (run.id, RunStatus::Running));
    assert_eq!(
        store.renew_lease(run.id, "worker-1", soon).await.unwrap(),
        Some(false)
    );
    assert_eq!(
        store.renew_lease(run.id, "worker-2", soon).await.unwrap(),
        None
    );
    assert!(store.cancel_run(acme, run.id).await.unwrap());
    assert_eq!(
        store.renew_lease(run.id, "worker-1", soon).await.unwrap(),
        Some(true)
    );

    let past = chrono::Utc::now() - chrono::Duration::seconds(1);
    let second = store.claim_run("worker-2", past).await.unwrap().unwrap();
    assert_eq!(second.id, other.id);
    assert_eq!(store.claim_run("worker-3", soon).await.unwrap(), None);
    // The process holding the run knows it is alive.
    assert_eq!(
        store
            .fail_expired_runs(chrono::Utc::now(), "worker-2")
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .fail_expired_runs(chrono::Utc::now(), "worker-9")
            .await
            .unwrap(),
        1
    );
    let failed = store.run(acme, other.id).await.unwrap().unwrap();
    assert_eq!(failed.status, RunStatus::Failed);
    assert!(failed.error.unwrap().contains("interrupted"));
    assert_eq!(
        store.run(acme, run.id).await.unwrap().unwrap().status,
        RunStatus::Running
    );

    store
        .end_run(run.id, RunStatus::Cancelled, None)
        .await
        .unwrap();
    assert_eq!(
        store.run(acme, run.id).await.unwrap().unwrap().status,
        RunStatus::Cancelled
    );
    assert!(!store.cancel_run(acme, run.id).await.unwrap());
}

fn result_row(type_name: &str, customer: &str, segment: &str) -> ResultRow {
    ResultRow {
        type_name: type_name.into(),
        customer_id: customer.into(),
        segment: segment.into(),
        source: "computed".into(),
        auto_segment: Some(segment.into()),
        auto_source: Some("computed".into()),
        manual_segment: None,
        figures: BTreeMap::from([("eligible_sales".to_owned(), "12.5".to_owned())]),
    }
}

/// A finished run's rows replace the type's previous ones at once; a run
/// whose lease another process holds cannot store anything.
pub async fn finished_runs_replace_results(store: &dyn Store) {
    let acme = org(store, "acme").await;
    store
        .upsert_customers(
            acme,
            &[
                customer("C1", &[("name", "Alpha")]),
                customer("C2", &[]),
                customer("C3", &[]),
            ],
        )
        .await
        .unwrap();
    let soon = chrono::Utc::now() + chrono::Duration::seconds(30);
    let mut run_ids = Vec::new();
    // The third run: C1 gone, C2 the same, C3 new.
    for (as_of, rows, changed) in [
        (
            "2026-01-31",
            vec![result_row("ABC", "C1", "A"), result_row("ABC", "C2", "B")],
            2,
        ),
        (
            "2026-02-15",
            vec![result_row("ABC", "C2", "B"), result_row("ABC", "C3", "A")],
            2,
        ),
        ("2026-02-28", vec![result_row("ABC", "C2", "A")], 2),
    ] {
        let (run, _) = store
            .create_run(
                acme,
                &NewRun {
                    kind: RunKind::Segment,
                    types: vec!["ABC".into()],
                    as_of: day(as_of),
                    actor: "tester".into(),
                },
            )
            .await
            .unwrap();
        store.claim_run("w", soon).await.unwrap().unwrap();
        let results = RunResults {
            report: RunReport {
                types: vec![TypeReport {
                    name: "ABC".into(),
                    version: 1,
                    ..TypeReport::default()
                }],
                lines: 12,
                ..RunReport::default()
            },
            types: vec![("ABC".into(), 1, rows)],
            groups: Vec::new(),
            data_version: 3,
        };
        assert!(matches!(
            store
                .finish_run(run.id, "someone else", results.clone())
                .await,
            Err(StoreError::Conflict(_))
        ));
        store
            .finish_run(run.id, "w", results.clone())
            .await
            .unwrap();
        let done = store.run(acme, run.id).await.unwrap().unwrap();
        assert_eq!(done.status, RunStatus::Succeeded);
        let mut report = results.report;
        report.types[0].changed = changed;
        assert_eq!(done.report, Some(report), "run as of {as_of}");
        run_ids.push(run.id);
    }
    let last_two: Vec<i64> = store
        .succeeded_runs(acme, 2)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(last_two, run_ids[1..]);
    assert_eq!(
        store.latest_results(acme).await.unwrap(),
        [TypeState {
            type_name: "ABC".into(),
            run_id: run_ids[2],
            version: 1,
            data_version: 3
        }]
    );
    assert_eq!(
        store.assignments(acme, "ABC").await.unwrap(),
        [Assignment {
            customer_id: "C2".into(),
            segment: "A".into(),
            source: "computed".into(),
            auto_segment: Some("A".into()),
            auto_source: Some("computed".into()),
        }]
    );
    assert!(results_of(store, acme, "C1").await.is_empty());
    let members = store
        .members(
            acme,
            &MembersQuery {
                type_name: "ABC".into(),
                segment: "A".into(),
                after: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].row, result_row("ABC", "C2", "A"));
}

/// Manual segments replace each other, clear, and drop with their segment.
pub async fn manual_assignments(store: &dyn Store) {
    let acme = org(store, "acme").await;
    store
        .upsert_customers(acme, &[customer("C1", &[])])
        .await
        .unwrap();
    store
        .set_manual(acme, "Groups", "C1", &["X".into(), "Y".into()], GROUP_HAND)
        .await
        .unwrap();
    store
        .set_manual(acme, "ABC", "C1", &["A".into()], HAND)
        .await
        .unwrap();
    store
        .set_manual(acme, "ABC", "C1", &["B".into()], HAND)
        .await
        .unwrap();
    let pairs = |v: &[(&str, &str)]| {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        manual_of(store, acme, "C1").await,
        pairs(&[("ABC", "B"), ("Groups", "X"), ("Groups", "Y")])
    );
    assert_eq!(
        store
            .drop_manual_outside(acme, "Groups", &["Y".into()], HAND)
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.clear_manual(acme, "ABC", HAND).await.unwrap(), 1);
    assert_eq!(
        manual_of(store, acme, "C1").await,
        pairs(&[("Groups", "Y")])
    );
    store
        .set_manual(acme, "Groups", "C1", &[], GROUP_HAND)
        .await
        .unwrap();
    assert!(manual_of(store, acme, "C1").await.is_empty());
}

/// Nothing of one organisation is visible to another.
pub async fn organisations_are_isolated(store: &dyn Store) {
    let acme = org(store, "acme").await;
    let other = org(store, "other").await;
    store
        .upsert_customers(acme, &[customer("C1", &[("name", "Alpha")])])
        .await
        .unwrap();
    store
        .import_lines(
            acme,
            &LineImport {
                lines: vec![line("C1", "O1", 1, 10)],
                whole_orders: true,
            },
        )
        .await
        .unwrap();
    store
        .put_type(
            acme,
            &PutType {
                name: "ABC".into(),
                definition: serde_json::json!({}),
                is_default: true,
                actor: "tester".into(),
            },
        )
        .await
        .unwrap();
    store
        .set_manual(acme, "ABC", "C1", &["A".into()], HAND)
        .await
        .unwrap();
    let (run, _) = store
        .create_run(
            acme,
            &NewRun {
                kind: RunKind::Segment,
                types: vec!["ABC".into()],
                as_of: day("2026-01-31"),
                actor: "tester".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(store.customer(other, "C1").await.unwrap(), None);
    assert!(store.customers(other, &page(10)).await.unwrap().is_empty());
    assert!(store.types(other).await.unwrap().is_empty());
    assert!(store.customer_detail(other, "C1").await.unwrap().is_none());
    assert_eq!(store.run(other, run.id).await.unwrap(), None);
    assert!(!store.cancel_run(other, run.id).await.unwrap());
    assert!(!store.delete_type(other, "ABC", "tester").await.unwrap());
    let (head, lines) = snapshot(store, other).await;
    assert!(lines.is_empty() && head.customers.is_empty() && head.manual.is_empty());
    let (separate, _) = store
        .put_type(
            other,
            &PutType {
                name: "ABC".into(),
                definition: serde_json::json!({"x": 1}),
                is_default: true,
                actor: "tester".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(separate.version, 1);
    assert_eq!(
        store.types(acme).await.unwrap()[0].definition,
        serde_json::json!({})
    );
}

/// A snapshot holds the customers with attributes, every line (in batches
/// of the size asked, in order) and every manual assignment.
pub async fn snapshot_reads_everything(store: &dyn Store) {
    let acme = org(store, "acme").await;
    store
        .upsert_customers(acme, &[customer("C1", &[("vat", "FR1")])])
        .await
        .unwrap();
    let mut full = line("C2", "O1", 1, 10);
    full.margin = Some(Amount(-5));
    full.brand = Some("Acme".into());
    full.category = Some("Tools".into());
    full.status = Some("open".into());
    full.due_date = Some(day("2026-03-01"));
    store
        .import_lines(
            acme,
            &LineImport {
                lines: vec![full.clone()],
                whole_orders: false,
            },
        )
        .await
        .unwrap();
    store
        .set_manual(acme, "ABC", "C2", &["A".into()], HAND)
        .await
        .unwrap();
    let mut more = vec![full.clone()];
    for n in 2..=4 {
        more.push(line("C3", "O9", n, n));
    }
    store
        .import_lines(
            acme,
            &LineImport {
                lines: more.clone(),
                whole_orders: false,
            },
        )
        .await
        .unwrap();
    let (head, lines) = snapshot(store, acme).await;
    assert_eq!(head.customers, [customer("C1", &[("vat", "FR1")])]);
    assert_eq!(lines, more, "every line, in batches");
    assert_eq!(
        head.manual,
        [("ABC".to_owned(), "C2".to_owned(), "A".to_owned())]
    );
}

/// The definitions' version grows with every change of the settings or of
/// a type (created, changed, made default, renamed, deleted) and only then.
pub async fn definitions_version_follows_every_change(store: &dyn Store) {
    let acme = org(store, "acme").await;
    let other = org(store, "other").await;
    let version = || async { store.definitions(acme).await.unwrap().config_version };
    let mut seen = version().await;
    let mut grew = |now: i64, what: &str| {
        assert!(now > seen, "{what}: version {now} after {seen}");
        seen = now;
    };
    let put = |name: &str, share: u32, is_default: bool| PutType {
        name: name.into(),
        definition: serde_json::json!({"name": name, "share": share}),
        is_default,
        actor: "tester".into(),
    };
    store.put_type(acme, &put("ABC", 80, false)).await.unwrap();
    grew(version().await, "created");
    store.put_type(acme, &put("ABC", 70, false)).await.unwrap();
    grew(version().await, "changed");
    store.put_type(acme, &put("ABC", 70, true)).await.unwrap();
    grew(version().await, "made default");
    let settings = SettingsInput {
        currency: Some("EUR".into()),
        ..SettingsInput::default()
    };
    store.set_settings(acme, &settings).await.unwrap();
    grew(version().await, "settings");
    let rename = RenameType {
        from: "ABC".into(),
        to: "Tiers".into(),
        definition: serde_json::json!({"name": "Tiers"}),
        rewritten: vec![],
        actor: "tester".into(),
    };
    store.rename_type(acme, &rename).await.unwrap();
    grew(version().await, "renamed");
    store.delete_type(acme, "Tiers", "tester").await.unwrap();
    grew(version().await, "deleted");
    let before = version().await;
    store.put_type(other, &put("ABC", 80, false)).await.unwrap();
    store
        .upsert_customers(acme, &[customer("C1", &[])])
        .await
        .unwrap();
    store
        .set_manual(acme, "ABC", "C1", &["A".into()], HAND)
        .await
        .unwrap();
    assert_eq!(version().await, before, "data and other organisations");
    let definitions = store.definitions(acme).await.unwrap();
    assert_eq!(definitions.settings, settings);
    assert!(definitions.types.is_empty());
}

/// A customer's detail: attributes, its rows of every type by type then
/// segment, its manual segments; nothing of another customer or
/// organisation.
pub async fn customer_detail_reads_one_state(store: &dyn Store) {
    let acme = org(store, "acme").await;
    let other = org(store, "other").await;
    store
        .upsert_customers(
            acme,
            &[customer("C1", &[("name", "Alpha")]), customer("C2", &[])],
        )
        .await
        .unwrap();
    store
        .upsert_customers(other, &[customer("C3", &[])])
        .await
        .unwrap();
    let soon = chrono::Utc::now() + chrono::Duration::seconds(30);
    let (run, _) = store
        .create_run(
            acme,
            &NewRun {
                kind: RunKind::Segment,
                types: vec!["Groups".into(), "ABC".into()],
                as_of: day("2026-01-31"),
                actor: "tester".into(),
            },
        )
        .await
        .unwrap();
    store.claim_run("w", soon).await.unwrap().unwrap();
    let results = RunResults {
        types: vec![
            (
                "Groups".into(),
                1,
                vec![
                    result_row("Groups", "C1", "Y"),
                    result_row("Groups", "C1", "X"),
                ],
            ),
            (
                "ABC".into(),
                1,
                vec![result_row("ABC", "C1", "A"), result_row("ABC", "C2", "B")],
            ),
        ],
        ..RunResults::default()
    };
    store.finish_run(run.id, "w", results).await.unwrap();
    store
        .set_manual(acme, "Groups", "C1", &["Z".into()], GROUP_HAND)
        .await
        .unwrap();
    store
        .set_manual(acme, "ABC", "C1", &["B".into()], HAND)
        .await
        .unwrap();
    store
        .set_manual(acme, "ABC", "C2", &["C".into()], HAND)
        .await
        .unwrap();
    let detail = store.customer_detail(acme, "C1").await.unwrap().unwrap();
    assert_eq!(detail.customer, customer("C1", &[("name", "Alpha")]));
    // The rows hold the manual segments at once, beside the computed ones.
    let by_hand = ResultRow {
        segment: "B".into(),
        source: "manual".into(),
        manual_segment: Some("B".into()),
        ..result_row("ABC", "C1", "A")
    };
    let manual_group = ResultRow {
        source: "manual".into(),
        auto_segment: None,
        auto_source: None,
        manual_segment: Some("Z".into()),
        figures: BTreeMap::new(),
        ..result_row("Groups", "C1", "Z")
    };
    assert_eq!(
        detail.results,
        [
            by_hand,
            result_row("Groups", "C1", "X"),
            result_row("Groups", "C1", "Y"),
            manual_group
        ]
    );
    assert_eq!(
        detail.manual,
        [
            ("ABC".to_owned(), "B".to_owned()),
            ("Groups".to_owned(), "Z".to_owned())
        ]
    );
    assert_eq!(
        detail.as_of,
        [
            ("ABC".to_owned(), day("2026-01-31")),
            ("Groups".to_owned(), day("2026-01-31"))
        ]
    );
    assert_eq!(
        detail.config_version,
        store.definitions(acme).await.unwrap().config_version
    );
    assert!(store.customer_detail(acme, "C3").await.unwrap().is_none());
    assert!(store.customer_detail(other, "C1").await.unwrap().is_none());
    assert!(store.customer_detail(acme, "C9").await.unwrap().is_none());
}

/// A customer's lines are its own, in order, in its organisation.
pub async fn customer_lines_are_its_own(store: &dyn Store) {
    let acme = org(store, "acme").await;
    let other = org(store, "other").await;
    let mut dated = line("C1", "O1", 2, 20);
    dated.margin = Some(Amount::from_units(3));
    dated.due_date = Some(day("2026-02-01"));
    let mine = vec![line("C1", "O0", 1, 5), line("C1", "O1", 1, 10), dated];
    let mut lines = vec![mine[2].clone(), line("C2", "O2", 1, 7), mine[0].clone()];
    lines.push(mine[1].clone());
    store
        .import_lines(
            acme,
            &LineImport {
                lines,
                whole_orders: false,
            },
        )
        .await
        .unwrap();
    store
        .import_lines(
            other,
            &LineImport {
                lines: vec![line("C1", "O9", 1, 99)],
                whole_orders: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(store.customer_lines(acme, "C1").await.unwrap(), mine);
    assert_eq!(
        store.customer_lines(other, "C1").await.unwrap(),
        [line("C1", "O9", 1, 99)]
    );
    assert!(store.customer_lines(acme, "C9").await.unwrap().is_empty());
}

/// Erasing a customer removes its attributes, lines, result rows and
/// manual assignments, and nothing of anyone else.
pub async fn erasing_a_customer_leaves_nothing_of_it(store: &dyn Store) {
    let acme = org(store, "acme").await;
    let other = org(store, "other").await;
    for org in [acme, other] {
        store
            .upsert_customers(
                org,
                &[customer("C1", &[("email", "a@b.c")]), customer("C2", &[])],
            )
            .await
            .unwrap();
        store
            .import_lines(
                org,
                &LineImport {
                    lines: vec![
                        line("C1", "O1", 1, 10),
                        line("C1", "O2", 1, 5),
                        line("C2", "O3", 1, 7),
                    ],
                    whole_orders: false,
                },
            )
            .await
            .unwrap();
    }
    let soon = chrono::Utc::now() + chrono::Duration::seconds(30);
    let (run, _) = store
        .create_run(
            acme,
            &NewRun {
                kind: RunKind::Segment,
                types: vec!["ABC".into()],
                as_of: day("2026-01-31"),
                actor: "tester".into(),
            },
        )
        .await
        .unwrap();
    store.claim_run("w", soon).await.unwrap().unwrap();
    let results = RunResults {
        types: vec![(
            "ABC".into(),
            1,
            vec![result_row("ABC", "C1", "A"), result_row("ABC", "C2", "B")],
        )],
        ..RunResults::default()
    };
    store.finish_run(run.id, "w", results).await.unwrap();
    store
        .set_manual(acme, "ABC", "C1", &["B".into()], HAND)
        .await
        .unwrap();
    let version = store.data_version(acme).await.unwrap();
    assert_eq!(
        store
            .erase_customer(acme, "C1", "tester", &[])
            .await
            .unwrap(),
        Some(Erased {
            lines: 2,
            results: 1,
            manual: 1
        })
    );
    assert!(store.data_version(acme).await.unwrap() > version);
    assert_eq!(store.customer(acme, "C1").await.unwrap(), None);
    assert!(store.customer_lines(acme, "C1").await.unwrap().is_empty());
    assert!(store.customer_detail(acme, "C1").await.unwrap().is_none());
    let (head, lines) = snapshot(store, acme).await;
    assert!(head.customers.iter().all(|c| c.id != "C1"));
    assert!(head.manual.is_empty());
    assert!(lines.iter().all(|l| l.customer_id != "C1"));
    assert_eq!(
        results_of(store, acme, "C2").await,
        [result_row("ABC", "C2", "B")]
    );
    assert_eq!(store.customer_lines(other, "C1").await.unwrap().len(), 2);
    assert_eq!(
        store
            .erase_customer(acme, "C1", "tester", &[])
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .erase_customer(acme, "C9", "tester", &[])
            .await
            .unwrap(),
        None
    );
    // A run that read its snapshot before the erasure stores no row of it.
    let (run, _) = store
        .create_run(
            acme,
            &NewRun {
                kind: RunKind::Segment,
                types: vec!["ABC".into()],
                as_of: day("2026-02-28"),
                actor: "tester".into(),
            },
        )
        .await
        .unwrap();
    store.claim_run("w", soon).await.unwrap().unwrap();
    let results = RunResults {
        types: vec![(
            "ABC".into(),
            1,
            vec![result_row("ABC", "C1", "A"), result_row("ABC", "C2", "A")],
        )],
        data_version: version,
        ..RunResults::default()
    };
    store.finish_run(run.id, "w", results).await.unwrap();
    assert_eq!(
        results_of(store, acme, "C2").await,
        [result_row("ABC", "C2", "A")]
    );
    let members = store
        .members(
            acme,
            &MembersQuery {
                type_name: "ABC".into(),
                segment: "A".into(),
                after: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(members.len(), 1, "{members:?}");
    let named = HistoryQuery {
        customer: Some("C1".into()),
        limit: 10,
        ..HistoryQuery::default()
    };
    assert_eq!(store.history(acme, &named).await.unwrap(), []);
}

/// A run of `types` by `actor` storing `rows`, `groups` the group types.
async fn finished_run(
    store: &dyn Store,
    org: OrgId,
    actor: &str,
    results: Vec<(&str, Vec<ResultRow>)>,
    groups: &[&str],
) -> i64 {
    let soon = chrono::Utc::now() + chrono::Duration::seconds(30);
    let (run, _) = store
        .create_run(
            org,
            &NewRun {
                kind: RunKind::Segment,
                types: results.iter().map(|(t, _)| (*t).to_owned()).collect(),
                as_of: day("2026-01-31"),
                actor: actor.into(),
            },
        )
        .await
        .unwrap();
    store.claim_run("w", soon).await.unwrap().unwrap();
    let results = RunResults {
        report: RunReport {
            types: results
                .iter()
                .map(|(t, _)| TypeReport {
                    name: (*t).to_owned(),
                    ..TypeReport::default()
                })
                .collect(),
            ..RunReport::default()
        },
        types: results
            .into_iter()
            .map(|(t, rows)| (t.to_owned(), 1, rows))
            .collect(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        data_version: store.data_version(org).await.unwrap(),
    };
    store.finish_run(run.id, "w", results).await.unwrap();
    run.id
}

/// Entries as `customer type old>new cause actor`, with the run when there is one.
async fn entries(store: &dyn Store, org: OrgId, query: HistoryQuery) -> Vec<String> {
    store
        .history(
            org,
            &HistoryQuery {
                limit: 100,
                ..query
            },
        )
        .await
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {} {}>{} {}{} {}",
                e.customer_id,
                e.segment_type,
                e.old_segment.as_deref().unwrap_or("-"),
                e.new_segment.as_deref().unwrap_or("-"),
                e.cause.as_str(),
                e.run_id.map_or_else(String::new, |r| format!("#{r}")),
                e.actor
            )
        })
        .collect()
}

/// Runs, manual changes and erasures record each change of effective
/// segments once, with its cause and actor; a manual segment a later run
/// confirms records nothing new.
pub async fn history_records_every_change_with_its_cause(store: &dyn Store) {
    let acme = org(store, "acme").await;
    let other = org(store, "other").await;
    let ids = ["C1", "C2", "C3"].map(|c| customer(c, &[]));
    store.upsert_customers(acme, &ids).await.unwrap();
    let first = finished_run(
        store,
        acme,
        "alice",
        vec![
            (
                "ABC",
                vec![result_row("ABC", "C1", "A"), result_row("ABC", "C2", "B")],
            ),
            (
                "Groups",
                vec![
                    result_row("Groups", "C1", "X"),
                    result_row("Groups", "C1", "Y"),
                ],
            ),
        ],
        &["Groups"],
    )
    .await;
    let after_run = store.membership_version(acme).await.unwrap();
    assert!(after_run > 0);
    assert_eq!(store.membership_version(other).await.unwrap(), 0);
    store
        .set_manual(
            acme,
            "ABC",
            "C2",
            &["A".into()],
            ManualChange {
                actor: "bob",
                one_per_account: true,
            },
        )
        .await
        .unwrap();
    assert!(store.membership_version(acme).await.unwrap() > after_run);
    let mut confirmed = result_row("ABC", "C2", "A");
    confirmed.source = "manual".into();
    confirmed.auto_segment = Some("B".into());
    let second = finished_run(
        store,
        acme,
        "alice",
        vec![
            (
                "ABC",
                vec![
                    result_row("ABC", "C1", "A"),
                    confirmed,
                    result_row("ABC", "C3", "C"),
                ],
            ),
            (
                "Groups",
                vec![
                    result_row("Groups", "C1", "Y"),
                    result_row("Groups", "C1", "Z"),
                ],
            ),
        ],
        &["Groups"],
    )
    .await;
    let report = store
        .run(acme, second)
        .await
        .unwrap()
        .unwrap()
        .report
        .unwrap();
    let changed: Vec<u64> = report.types.iter().map(|t| t.changed).collect();
    // C3 entered ABC (C2's manual A is confirmed); C1 moved in Groups.
    assert_eq!(changed, [1, 1]);
    store
        .clear_manual(
            acme,
            "ABC",
            ManualChange {
                actor: "carol",
                one_per_account: true,
            },
        )
        .await
        .unwrap();
    let all = entries(store, acme, HistoryQuery::default()).await;
    assert_eq!(
        all,
        [
            format!("C1 ABC ->A run#{first} alice"),
            format!("C2 ABC ->B run#{first} alice"),
            format!("C1 Groups ->X run#{first} alice"),
            format!("C1 Groups ->Y run#{first} alice"),
            "C2 ABC B>A manual bob".to_owned(),
            format!("C3 ABC ->C run#{second} alice"),
            format!("C1 Groups X>- run#{second} alice"),
            format!("C1 Groups ->Z run#{second} alice"),
            "C2 ABC A>B manual carol".to_owned(),
        ]
    );
    let c2 = HistoryQuery {
        customer: Some("C2".into()),
        ..HistoryQuery::default()
    };
    assert_eq!(entries(store, acme, c2.clone()).await.len(), 3);
    let segment_a = HistoryQuery {
        segment: Some(("ABC".into(), "A".into())),
        ..HistoryQuery::default()
    };
    assert_eq!(
        entries(store, acme, segment_a).await,
        [
            format!("C1 ABC ->A run#{first} alice"),
            "C2 ABC B>A manual bob".to_owned(),
            "C2 ABC A>B manual carol".to_owned(),
        ]
    );
    // Pages follow ids; time bounds select by when.
    let page = store
        .history(
            acme,
            &HistoryQuery {
                limit: 2,
                ..c2.clone()
            },
        )
        .await
        .unwrap();
    let rest = store
        .history(
            acme,
            &HistoryQuery {
                limit: 10,
                after: Some(page[1].id),
                ..c2.clone()
            },
        )
        .await
        .unwrap();
    assert_eq!((page.len(), rest.len()), (2, 1));
    let later = HistoryQuery {
        from: Some(chrono::Utc::now() + chrono::Duration::seconds(60)),
        ..HistoryQuery::default()
    };
    assert!(entries(store, acme, later).await.is_empty());
    let earlier = HistoryQuery {
        to: Some(chrono::Utc::now() - chrono::Duration::seconds(60)),
        ..HistoryQuery::default()
    };
    assert!(entries(store, acme, earlier).await.is_empty());
    assert!(entries(store, other, HistoryQuery::default())
        .await
        .is_empty());

    // Erasure: the entries keep a tombstone in place of the id.
    store
        .erase_customer(acme, "C1", "dpo", &["Groups".to_owned()])
        .await
        .unwrap();
    let all = entries(store, acme, HistoryQuery::default()).await;
    assert!(all.iter().all(|e| !e.starts_with("C1 ")), "{all:?}");
    let tombstone = all[0].split(' ').next().unwrap().to_owned();
    assert!(tombstone.starts_with("erased-"), "{tombstone}");
    let erased = HistoryQuery {
        customer: Some(tombstone.clone()),
        ..HistoryQuery::default()
    };
    let theirs = entries(store, acme, erased).await;
    assert_eq!(theirs.len(), 5 + 3, "{theirs:?}");
    assert_eq!(
        theirs[5..],
        [
            format!("{tombstone} ABC A>- deletion dpo"),
            format!("{tombstone} Groups Y>- deletion dpo"),
            format!("{tombstone} Groups Z>- deletion dpo"),
        ]
    );
}

/// Static members move with their type, go with a segment, a type or an
/// erased customer, and e-mails find accounts ignoring case.
pub async fn static_members_follow_their_type(store: &dyn Store) {
    let acme = org(store, "acme").await;
    let other = org(store, "other").await;
    store
        .upsert_customers(
            acme,
            &[
                customer("C1", &[("email", " Fan@X.com")]),
                customer("C2", &[("email", "fan@x.com")]),
            ],
        )
        .await
        .unwrap();
    store
        .upsert_customers(other, &[customer("C3", &[("email", "fan@x.com")])])
        .await
        .unwrap();
    assert_eq!(
        store.customers_by_email(acme, "FAN@x.com ").await.unwrap(),
        ["C1", "C2"]
    );
    let change = ListChange {
        include: vec!["C1".into(), "fan@x.com".into()],
        exclude: vec!["C9".into()],
        unlist: vec![],
    };
    store
        .change_list(acme, "VIP", "Big", &change)
        .await
        .unwrap();
    store
        .change_list(
            acme,
            "VIP",
            "Small",
            &ListChange {
                include: vec!["C2".into()],
                ..ListChange::default()
            },
        )
        .await
        .unwrap();
    // C9 back in, C1 off the include list only.
    store
        .change_list(
            acme,
            "VIP",
            "Big",
            &ListChange {
                include: vec!["C9".into()],
                exclude: vec![],
                unlist: vec!["C1".into()],
            },
        )
        .await
        .unwrap();
    let entries = |org| async move {
        store
            .list_entries(org)
            .await
            .unwrap()
            .into_iter()
            .map(|e| {
                format!(
                    "{} {} {} {}",
                    e.type_name,
                    e.segment,
                    if e.exclude { "-" } else { "+" },
                    e.entry
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        entries(acme).await,
        ["VIP Big + C9", "VIP Big + fan@x.com", "VIP Small + C2"]
    );
    assert!(entries(other).await.is_empty());
    for name in ["VIP", "ABC"] {
        store
            .put_type(
                acme,
                &PutType {
                    name: name.into(),
                    definition: serde_json::json!({"name": name}),
                    is_default: false,
                    actor: "tester".into(),
                },
            )
            .await
            .unwrap();
    }
    store
        .rename_type(
            acme,
            &RenameType {
                from: "VIP".into(),
                to: "Best".into(),
                definition: serde_json::json!({"name": "Best"}),
                rewritten: vec![],
                actor: "tester".into(),
            },
        )
        .await
        .unwrap();
    store
        .drop_manual_outside(acme, "Best", &["Big".to_owned()], GROUP_HAND)
        .await
        .unwrap();
    assert_eq!(
        entries(acme).await,
        ["Best Big + C9", "Best Big + fan@x.com"]
    );
    store.erase_customer(acme, "C9", "dpo", &[]).await.unwrap();
    store
        .change_list(
            acme,
            "Best",
            "Big",
            &ListChange {
                include: vec!["C2".into()],
                ..ListChange::default()
            },
        )
        .await
        .unwrap();
    store.erase_customer(acme, "C2", "dpo", &[]).await.unwrap();
    assert_eq!(
        entries(acme).await,
        ["Best Big + C9", "Best Big + fan@x.com"]
    );
    assert!(store.delete_type(acme, "Best", "tester").await.unwrap());
    assert!(entries(acme).await.is_empty());
}

/// A one-off run (a period, a comparison) is queued beside a segment run
/// of the same type, keeps its kind, stores its rows with itself and
/// changes no type's results; erasing a customer takes its rows too.
pub async fn one_off_runs_keep_their_rows_apart(store: &dyn Store) {
    let acme = org(store, "acme").await;
    let other = org(store, "other").await;
    store
        .import_lines(
            acme,
            &LineImport {
                lines: vec![line("C1", "O1", 1, 10), line("C2", "O2", 1, 5)],
                whole_orders: true,
            },
        )
        .await
        .unwrap();
    let window = |a: &str, b: &str| strata_domain::date::Window::new(day(a), day(b));
    let periods = [
        window("2025-01-01", "2025-12-31"),
        window("2026-01-01", "2026-12-31"),
    ];
    let new = |kind: RunKind| NewRun {
        kind,
        types: vec!["RFM".into()],
        as_of: day("2026-12-31"),
        actor: "tester".into(),
    };
    let (segment, _) = store
        .create_run(acme, &new(RunKind::Segment))
        .await
        .unwrap();
    let (compare, created) = store
        .create_run(acme, &new(RunKind::Compare(periods)))
        .await
        .unwrap();
    assert!(created, "a comparison does not wait for the segment run");
    assert_eq!(compare.kind, RunKind::Compare(periods));
    let (again, created) = store
        .create_run(acme, &new(RunKind::Compare(periods)))
        .await
        .unwrap();
    assert_eq!((again.id, created), (compare.id, false));
    let (period, created) = store
        .create_run(acme, &new(RunKind::Period(periods[0])))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(
        store.run(acme, period.id).await.unwrap().unwrap().kind,
        RunKind::Period(periods[0])
    );

    let soon = chrono::Utc::now() + chrono::Duration::seconds(30);
    for expected in [segment.id, compare.id] {
        assert_eq!(
            store.claim_run("w", soon).await.unwrap().unwrap().id,
            expected
        );
    }
    let row = |customer: &str, key: &str| RunRow {
        customer_id: customer.into(),
        key: key.into(),
        line: format!("{customer},x,{key}"),
    };
    let rows = vec![
        row("C1", "improved"),
        row("C2", "lost"),
        row("C3", "improved"),
    ];
    let results = OneOffResults {
        report: RunReport {
            movements: BTreeMap::from([("improved".to_owned(), 2), ("lost".to_owned(), 1)]),
            ..RunReport::default()
        },
        rows: rows.clone(),
        data_version: store.data_version(acme).await.unwrap(),
    };
    assert!(matches!(
        store
            .finish_one_off(compare.id, "someone else", results.clone())
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .finish_one_off(compare.id, "w", results)
        .await
        .unwrap();
    let finished = store.run(acme, compare.id).await.unwrap().unwrap();
    assert_eq!(finished.status, RunStatus::Succeeded);
    assert_eq!(finished.report.unwrap().movements["improved"], 2);
    assert!(store.latest_results(acme).await.unwrap().is_empty());

    let page = |key: Option<&str>, after: i64, limit: u32| RunRowsQuery {
        run: compare.id,
        key: key.map(str::to_owned),
        after,
        limit,
    };
    let first = store.run_rows(acme, &page(None, 0, 2)).await.unwrap();
    assert_eq!(first, vec![(1, rows[0].clone()), (2, rows[1].clone())]);
    let next = store.run_rows(acme, &page(None, 2, 2)).await.unwrap();
    assert_eq!(next, vec![(3, rows[2].clone())]);
    let improved = store
        .run_rows(acme, &page(Some("improved"), 0, 10))
        .await
        .unwrap();
    assert_eq!(improved, vec![(1, rows[0].clone()), (3, rows[2].clone())]);
    assert!(store
        .run_rows(other, &page(None, 0, 10))
        .await
        .unwrap()
        .is_empty());

    store
        .erase_customer(acme, "C1", "tester", &[])
        .await
        .unwrap()
        .unwrap();
    let left = store.run_rows(acme, &page(None, 0, 10)).await.unwrap();
    assert_eq!(left, vec![(2, rows[1].clone()), (3, rows[2].clone())]);
}

/// The members of a segment as `customer:source:auto_segment/auto_source`.
async fn members_of(store: &dyn Store, org: OrgId, type_name: &str, segment: &str) -> Vec<String> {
    store
        .members(
            org,
            &MembersQuery {
                type_name: type_name.into(),
                segment: segment.into(),
                after: None,
                limit: 100,
            },
        )
        .await
        .unwrap()
        .iter()
        .map(|m| {
            let r = &m.row;
            format!(
                "{}:{}:{}/{}",
                r.customer_id,
                r.source,
                r.auto_segment.as_deref().unwrap_or("-"),
                r.auto_source.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

/// A manual segment set or cleared, and rows replaced after a static list
/// changed, show in the members at once, not at the next run; clearing a
/// manual segment gives back what the run gave, source included.
pub async fn changes_by_hand_take_effect_at_once(store: &dyn Store) {
    let acme = org(store, "acme").await;
    store
        .upsert_customers(acme, &[customer("C1", &[]), customer("C2", &[])])
        .await
        .unwrap();
    let mut fallback = result_row("ABC", "C1", "C");
    fallback.source = "default".into();
    fallback.auto_source = Some("default".into());
    let included = |customer: &str| ResultRow {
        source: "include".into(),
        auto_source: Some("include".into()),
        figures: BTreeMap::new(),
        ..result_row("Groups", customer, "X")
    };
    finished_run(
        store,
        acme,
        "tester",
        vec![
            ("ABC", vec![fallback.clone(), result_row("ABC", "C2", "A")]),
            ("Groups", vec![included("C1")]),
        ],
        &["Groups"],
    )
    .await;
    store
        .set_manual(acme, "ABC", "C1", &["A".into()], HAND)
        .await
        .unwrap();
    assert_eq!(
        members_of(store, acme, "ABC", "A").await,
        ["C1:manual:C/default", "C2:computed:A/computed"]
    );
    assert!(members_of(store, acme, "ABC", "C").await.is_empty());
    let kept = &results_of(store, acme, "C1").await[0];
    assert_eq!(kept.figures, fallback.figures, "the row keeps its figures");
    store.clear_manual(acme, "ABC", HAND).await.unwrap();
    assert_eq!(results_of(store, acme, "C1").await[0], fallback);
    assert_eq!(
        members_of(store, acme, "ABC", "C").await,
        ["C1:default:C/default"]
    );
    // Groups: a manual group joins at once and leaves at once.
    store
        .set_manual(acme, "Groups", "C2", &["Y".into()], GROUP_HAND)
        .await
        .unwrap();
    assert_eq!(
        members_of(store, acme, "Groups", "Y").await,
        ["C2:manual:-/-"]
    );
    store
        .set_manual(acme, "Groups", "C2", &[], GROUP_HAND)
        .await
        .unwrap();
    assert!(members_of(store, acme, "Groups", "Y").await.is_empty());
    // A static list changed: the engine's new rows for C1 and C2 replace theirs.
    store
        .replace_customer_rows(acme, "Groups", "C1", &[], GROUP_HAND, Cause::List)
        .await
        .unwrap();
    store
        .replace_customer_rows(
            acme,
            "Groups",
            "C2",
            &[included("C2")],
            GROUP_HAND,
            Cause::List,
        )
        .await
        .unwrap();
    assert_eq!(
        members_of(store, acme, "Groups", "X").await,
        ["C2:include:X/include"]
    );
    let listed = entries(
        store,
        acme,
        HistoryQuery {
            segment_type: Some("Groups".into()),
            ..HistoryQuery::default()
        },
    )
    .await;
    assert!(
        listed.ends_with(&[
            "C1 Groups X>- list tester".to_owned(),
            "C2 Groups ->X list tester".to_owned()
        ]),
        "{listed:?}"
    );
}

/// Only the latest `keep_runs` runs of a type keep their rows, and
/// history only its last `history_days` days; by default runs keep 24 and
/// history everything.
pub async fn retention_bounds_run_rows_and_history(store: &dyn Store) {
    let acme = org(store, "acme").await;
    let other = org(store, "other").await;
    assert_eq!(store.retention(acme).await.unwrap(), Retention::default());
    assert_eq!(Retention::default().keep_runs, 24);
    let window = strata_domain::date::Window::new(day("2026-01-01"), day("2026-12-31"));
    let soon = chrono::Utc::now() + chrono::Duration::seconds(30);
    let mut ids = Vec::new();
    for org_id in [acme, acme, acme, other] {
        let (run, _) = store
            .create_run(
                org_id,
                &NewRun {
                    kind: RunKind::Period(window),
                    types: vec!["RFM".into()],
                    as_of: day(&format!("2026-12-{:02}", ids.len() + 1)),
                    actor: "tester".into(),
                },
            )
            .await
            .unwrap();
        store.claim_run("w", soon).await.unwrap().unwrap();
        let results = OneOffResults {
            report: RunReport::default(),
            rows: vec![RunRow {
                customer_id: "C1".into(),
                key: "A".into(),
                line: "C1,A".into(),
            }],
            data_version: 0,
        };
        store.finish_one_off(run.id, "w", results).await.unwrap();
        ids.push(run.id);
    }
    finished_run(
        store,
        acme,
        "tester",
        vec![("ABC", vec![result_row("ABC", "C1", "A")])],
        &[],
    )
    .await;
    let rows_of = |org_id: OrgId, run: i64| async move {
        let query = RunRowsQuery {
            run,
            key: None,
            after: 0,
            limit: 10,
        };
        store.run_rows(org_id, &query).await.unwrap().len()
    };
    let now = chrono::Utc::now();
    // Defaults prune nothing.
    assert_eq!(store.prune(acme, now).await.unwrap(), Pruned::default());
    let kept = Retention {
        keep_runs: 2,
        history_days: Some(1),
    };
    store.set_retention(acme, &kept).await.unwrap();
    assert_eq!(store.retention(acme).await.unwrap(), kept);
    assert_eq!(store.retention(other).await.unwrap(), Retention::default());
    let everything = HistoryQuery {
        limit: 100,
        ..HistoryQuery::default()
    };
    assert_eq!(store.history(acme, &everything).await.unwrap().len(), 1);
    // Today's history is younger than a day; two days on, it is not.
    assert_eq!(
        store.prune(acme, now).await.unwrap(),
        Pruned {
            runs: 1,
            history: 0
        }
    );
    assert_eq!(
        [
            rows_of(acme, ids[0]).await,
            rows_of(acme, ids[1]).await,
            rows_of(acme, ids[2]).await
        ],
        [0, 1, 1]
    );
    assert_eq!(
        rows_of(other, ids[3]).await,
        1,
        "another organisation keeps its own"
    );
    let pruned = |id: i64| async move { store.run(acme, id).await.unwrap().unwrap().rows_pruned };
    assert_eq!([pruned(ids[0]).await, pruned(ids[1]).await], [true, false]);
    let later = now + chrono::Duration::days(2);
    assert_eq!(store.prune(acme, later).await.unwrap().history, 1);
    assert!(store.history(acme, &everything).await.unwrap().is_empty());
}

/// Notifications come newest first, each token marks its own read, and a
/// type's `notify` follows it; nothing crosses organisations.
pub async fn notifications_are_read_per_token(store: &dyn Store) {
    let acme = org(store, "acme").await;
    let other = org(store, "other").await;
    store
        .put_type(
            acme,
            &PutType {
                name: "ABC".into(),
                definition: serde_json::json!({"name": "ABC", "method": "rfm"}),
                is_default: false,
                actor: "tester".into(),
            },
        )
        .await
        .unwrap();
    assert!(!store.types(acme).await.unwrap()[0].notify);
    assert!(store.set_notify(acme, "ABC", true).await.unwrap());
    assert!(store.types(acme).await.unwrap()[0].notify);
    assert!(!store.set_notify(acme, "Nope", true).await.unwrap());
    assert!(!store.set_notify(other, "ABC", true).await.unwrap());

    let first = store
        .add_notification(acme, 7, RunStatus::Succeeded, &serde_json::json!({"n": 1}))
        .await
        .unwrap();
    let second = store
        .add_notification(acme, 8, RunStatus::Failed, &serde_json::json!({"n": 2}))
        .await
        .unwrap();
    let list = |token: i64, unread_only: bool| async move {
        store
            .notifications(
                acme,
                &NotificationQuery {
                    token,
                    unread_only,
                    before: None,
                    limit: 10,
                },
            )
            .await
            .unwrap()
            .iter()
            .map(|n| (n.id, n.run_id, n.status, n.read))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(1, false).await,
        [
            (second, 8, RunStatus::Failed, false),
            (first, 7, RunStatus::Succeeded, false)
        ]
    );
    assert!(store.mark_read(acme, first, 1).await.unwrap());
    assert!(
        store.mark_read(acme, first, 1).await.unwrap(),
        "twice is fine"
    );
    assert!(!store.mark_read(other, first, 1).await.unwrap());
    assert!(!store.mark_read(acme, second + 100, 1).await.unwrap());
    assert_eq!(list(1, true).await, [(second, 8, RunStatus::Failed, false)]);
    assert_eq!(
        list(2, true).await.len(),
        2,
        "another token has read nothing"
    );
    let page = store
        .notifications(
            acme,
            &NotificationQuery {
                token: 1,
                unread_only: false,
                before: Some(second),
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (page.len(), page[0].read, &page[0].body),
        (1, true, &serde_json::json!({"n": 1}))
    );
    let none = NotificationQuery {
        token: 1,
        unread_only: false,
        before: None,
        limit: 10,
    };
    assert!(store.notifications(other, &none).await.unwrap().is_empty());
}
