//! `strata serve` end to end: the real binary on a free port, over SQLite
//! and over PostgreSQL, against `strata segment` on the same files.

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use strata_testkit::Files;

const AS_OF: &str = "2026-06-30";

/// A running server, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn strata() -> Command {
    Command::cargo_bin("strata").expect("the strata binary")
}

/// `--data DIR` or `--database URL`.
fn storage_args(storage: &[String]) -> Vec<String> {
    storage.to_vec()
}

fn start(storage: &[String]) -> Server {
    start_with(storage, &[])
}

fn start_with(storage: &[String], extra: &[&str]) -> Server {
    let mut child = strata()
        .arg("serve")
        .args(storage_args(storage))
        .args(extra)
        .args(["--listen", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("strata serve starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let base = loop {
        let line = lines
            .next()
            .expect("strata serve says where it listens")
            .expect("readable stderr");
        if let Some(rest) = line.strip_prefix("strata serve: ") {
            break rest
                .split_whitespace()
                .next()
                .expect("an address")
                .to_owned();
        }
    };
    // Keep draining the log so that the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Server { child, base }
}

fn token(storage: &[String], org: &str, role: &str) -> String {
    let out = strata()
        .args(["token", "create", "--org", org, "--role", role])
        .args(storage_args(storage))
        .output()
        .expect("strata token create runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .lines()
        .last()
        .expect("the token on the last line")
        .to_owned()
}

/// A client of one organisation.
struct Client<'a> {
    server: &'a Server,
    token: String,
}

impl Client<'_> {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.server.base);
        let request =
            ureq::request(method, &url).set("Authorization", &format!("Bearer {}", self.token));
        let response = match body {
            Some(body) => request.send_json(body),
            None => request.call(),
        };
        let response = match response {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = response.status();
        let text = response.into_string().expect("a body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Sends a file as the body, as `curl --data-binary @FILE` does.
    fn call_raw(&self, method: &str, path: &str, body: &[u8]) -> (u16, Value) {
        let url = format!("{}{path}", self.server.base);
        let response = ureq::request(method, &url)
            .set("Authorization", &format!("Bearer {}", self.token))
            .send_bytes(body);
        let response = match response {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        let status = response.status();
        let text = response.into_string().expect("a body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Posts a file and expects success.
    fn send(&self, path: &str, body: &[u8]) -> Value {
        let (status, value) = self.call_raw("POST", path, body);
        assert_eq!(status, 200, "POST {path}: {value}");
        value
    }

    fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {value}"
        );
        value
    }

    /// Waits for a run to end and returns it.
    fn wait(&self, id: i64) -> Value {
        for _ in 0..600 {
            let run = self.ok("GET", &format!("/api/v1/runs/{id}"), None);
            if !matches!(run["status"].as_str(), Some("queued" | "running")) {
                return run;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("run {id} did not end in a minute");
    }

    /// Every member of a segment, from the JSON lines export.
    fn members(&self, type_name: &str, segment: &str) -> BTreeSet<String> {
        let path = format!(
            "/api/v1/segment-types/{}/segments/{}/members?format=jsonl",
            encode(type_name),
            encode(segment)
        );
        let url = format!("{}{path}", self.server.base);
        let text = ureq::get(&url)
            .set("Authorization", &format!("Bearer {}", self.token))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .into_string()
            .expect("a body");
        text.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("a JSON line");
                assert_eq!(v["segment"], segment);
                v["customer_id"].as_str().expect("an id").to_owned()
            })
            .collect()
    }

    /// Every customer of a segment, through the customer pages.
    fn listed(&self, type_name: &str, segment: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!(
                "/api/v1/customers?segment_type={}&segment={}&limit=500",
                encode(type_name),
                encode(segment)
            );
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = self.ok("GET", &path, None);
            for c in page["customers"].as_array().expect("customers") {
                out.insert(c["customer_id"].as_str().expect("an id").to_owned());
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return out,
            }
        }
    }
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A CSV file as JSON objects, keeping only the given columns.
fn csv_objects(path: &Path, keep: &[&str]) -> Vec<Value> {
    let mut reader = csv::Reader::from_path(path).expect("a CSV file");
    let headers = reader.headers().expect("headers").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("a record");
            let mut object = serde_json::Map::new();
            for (h, v) in headers.iter().zip(r.iter()) {
                if (keep.is_empty() || keep.contains(&h)) && !v.is_empty() {
                    object.insert(h.to_owned(), Value::String(v.to_owned()));
                }
            }
            Value::Object(object)
        })
        .collect()
}

/// Lines in batches of about 5,000 that never split an order: a batch
/// without line numbers replaces the orders it holds.
fn batches(lines: &[Value]) -> Vec<Vec<Value>> {
    let mut out: Vec<Vec<Value>> = vec![Vec::new()];
    let key = |l: &Value| (l["customer_id"].clone(), l["order_id"].clone());
    for line in lines {
        let current = out.last_mut().expect("a batch");
        if current.len() >= 5000 && current.last().map(key) != Some(key(line)) {
            out.push(Vec::new());
        }
        out.last_mut().expect("a batch").push(line.clone());
    }
    out
}

const LINE_FIELDS: [&str; 10] = [
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
];

/// The whole scenario on one backend.
fn scenario(files: &Files, storage: &[String]) {
    let data = files.path("data");
    let out = strata()
        .args(["generate", "--customers", "400", "--out"])
        .arg(&data)
        .output()
        .expect("strata generate runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/config.toml");
    let config: Value = toml::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();

    let acme_token = token(storage, "acme", "editor");
    let acme_admin = token(storage, "acme", "admin");
    let other_token = token(storage, "other", "admin");
    let server = start(storage);
    let acme = Client {
        server: &server,
        token: acme_token,
    };
    let admin = Client {
        server: &server,
        token: acme_admin,
    };
    let other = Client {
        server: &server,
        token: other_token,
    };

    // Settings and types, from the example configuration, by the command
    // line; the editor may not change settings, the admin may.
    let apply = |token: &str| {
        strata()
            .args(["config", "apply"])
            .arg(&config_path)
            .args(["--server", &server.base, "--token", token])
            .output()
            .unwrap()
    };
    let refused = apply(&acme.token);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("403"));
    let applied = apply(&admin.token);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let types = config["types"].as_array().unwrap().clone();
    let names: Vec<String> = types
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect();
    for name in &names {
        let path = format!("/api/v1/segment-types/{}", encode(name));
        let body = acme.ok("GET", &path, None);
        let (status, again) = acme.call("PUT", &path, Some(body.clone()));
        assert_eq!(status, 200, "GET's form is PUT's form: {again}");
        assert_eq!(again, body);
    }
    let exported = strata()
        .args([
            "config",
            "export",
            "--server",
            &server.base,
            "--token",
            &acme.token,
        ])
        .output()
        .unwrap();
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    // Static member lists are sets: the server keeps them apart from the
    // definitions, in its own order.
    let parsed = |text: &str| {
        let mut config = strata_domain::config::parse_config(text).unwrap();
        for segment in config.types.iter_mut().flat_map(|t| t.segments.iter_mut()) {
            segment.include.sort();
            segment.exclude.sort();
        }
        config
    };
    let original = parsed(&std::fs::read_to_string(&config_path).unwrap());
    let round_trip = parsed(&String::from_utf8(exported.stdout).unwrap());
    assert_eq!(
        round_trip, original,
        "export gives back the applied configuration"
    );

    // Customers and lines, as the files the command line reads.
    let customers_csv = std::fs::read(data.join("customers.csv")).unwrap();
    let lines_csv = std::fs::read(data.join("transactions.csv")).unwrap();
    let imported = acme.send("/api/v1/imports/customers", &customers_csv);
    assert_eq!(imported["changed"], 400, "{imported}");
    let imported = acme.send("/api/v1/imports/transactions", &lines_csv);
    assert!(imported["changed"].as_u64().unwrap() > 1000, "{imported}");
    let lines = csv_objects(&data.join("transactions.csv"), &LINE_FIELDS);

    // A bad file is refused whole, every bad line listed, nothing stored.
    let mut bad_file = lines_csv.clone();
    bad_file.extend_from_slice(b"O9,NEW1,2026-01-01,12.5,,,,,,,\nO9,NEW2,31/12/2026,1,,,,,,,\nO9,NEW3,2026-01-01,abc,,,,,,,\n");
    let (status, body) = acme.call_raw("POST", "/api/v1/imports/transactions", &bad_file);
    assert_eq!(status, 422, "{body}");
    let n_lines = lines.len() as u64;
    let rows: Vec<(u64, &str)> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_u64().unwrap(), r["column"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [(n_lines + 3, "date"), (n_lines + 4, "amount")]);
    assert_eq!(
        acme.call("GET", "/api/v1/customers/NEW1", None).0,
        404,
        "nothing stored"
    );

    // A bad batch is refused whole, every bad row listed.
    let mut bad = lines[..3].to_vec();
    bad[0]["amount"] = json!(12.5);
    bad[2]["date"] = json!("31/12/2026");
    bad.push(json!({"customer_id": "NEW", "order_id": "X", "date": "2026-01-01", "amount": "1"}));
    let (status, body) = acme.call("POST", "/api/v1/transactions", Some(Value::Array(bad)));
    assert_eq!(status, 422, "{body}");
    let rows: Vec<(u64, &str)> = body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["row"].as_u64().unwrap(), r["column"].as_str().unwrap()))
        .collect();
    assert_eq!(rows, [(0, "amount"), (2, "date")]);
    assert_eq!(
        acme.call("GET", "/api/v1/customers/NEW", None).0,
        404,
        "nothing stored"
    );

    // Run every type, and compare with `strata segment` on the same files.
    let (status, run) = acme.call(
        "POST",
        "/api/v1/runs",
        Some(json!({"types": names, "as_of": AS_OF})),
    );
    assert_eq!(status, 202, "{run}");
    let run = acme.wait(run["id"].as_i64().unwrap());
    assert_eq!(run["status"], "succeeded", "{run}");
    let file_lines = std::fs::read_to_string(data.join("transactions.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(run["report"]["lines"], json!(file_lines), "{run}");
    let cli_out = files.path("cli-out");
    let out = strata()
        .args(["segment", "--no-report", "--as-of", AS_OF, "--transactions"])
        .arg(data.join("transactions.csv"))
        .arg("--customers")
        .arg(data.join("customers.csv"))
        .arg("--config")
        .arg(&config_path)
        .arg("--out")
        .arg(&cli_out)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut expected: std::collections::BTreeMap<(String, String), BTreeSet<String>> =
        Default::default();
    // The figures of each row, as `strata segment` wrote them.
    let mut figures: std::collections::BTreeMap<(String, String), Value> = Default::default();
    let mut reader = csv::Reader::from_path(cli_out.join("assignments.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    for r in reader.records() {
        let r = r.unwrap();
        expected
            .entry((r[0].to_owned(), r[2].to_owned()))
            .or_default()
            .insert(r[1].to_owned());
        let row: serde_json::Map<String, Value> = header
            .iter()
            .zip(r.iter())
            .skip(6)
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_owned(), json!(v)))
            .collect();
        figures
            .entry((r[1].to_owned(), r[0].to_owned()))
            .or_insert_with(|| json!({}))[&r[2]] = Value::Object(row);
    }
    // A few customers' figures, every type: the server's rows are the file's.
    for customer in figures
        .keys()
        .map(|(c, _)| c.clone())
        .collect::<BTreeSet<_>>()
        .iter()
        .step_by(97)
    {
        let detail = acme.ok(
            "GET",
            &format!("/api/v1/customers/{}", encode(customer)),
            None,
        );
        for ty in detail["segments"].as_array().unwrap() {
            let name = ty["segment_type"].as_str().unwrap().to_owned();
            let want = figures
                .get(&(customer.clone(), name.clone()))
                .cloned()
                .unwrap_or_else(|| json!({}));
            assert_eq!(ty["figures"], want, "{customer} in {name}");
        }
    }
    assert!(expected.len() > 5, "the example gives many segments");
    let ((first_type, first_segment), first_members) = expected.iter().next().unwrap();
    assert_eq!(&acme.listed(first_type, first_segment), first_members);
    for ((type_name, segment), members) in &expected {
        assert_eq!(
            &acme.members(type_name, segment),
            members,
            "{type_name} / {segment}"
        );
    }

    one_off_runs_match_the_command_line(&acme, files, &data, &config_path, &names);

    // The same file again, or the same lines as JSON, change nothing.
    let again = acme.send("/api/v1/imports/transactions", &lines_csv);
    assert_eq!(again["changed"], 0, "{again}");
    let again = acme.send("/api/v1/imports/customers", &customers_csv);
    assert_eq!(again["changed"], 0, "{again}");
    for batch in batches(&lines) {
        let done = acme.ok("POST", "/api/v1/transactions", Some(Value::Array(batch)));
        assert_eq!(done["changed"], 0);
    }

    // A manual tier wins until cleared.
    let first = expected
        .iter()
        .find(|((t, s), _)| t == &names[0] && s == "C")
        .map(|(_, m)| m.iter().next().unwrap().clone())
        .expect("a C customer");
    let path = format!("/api/v1/segment-types/{}/manual/{first}", encode(&names[0]));
    acme.ok("PUT", &path, Some(json!({"segment": "A"})));
    let effective = |c: &Client| {
        let customer = c.ok("GET", &format!("/api/v1/customers/{first}"), None);
        customer["segments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["segment_type"] == names[0].as_str())
            .unwrap()["effective"]
            .clone()
    };
    assert_eq!(effective(&acme), json!(["A"]));
    acme.ok("DELETE", &path, None);
    assert_eq!(effective(&acme), json!(["C"]));

    // Another organisation sees nothing and changes nothing.
    let run_id = run["id"].as_i64().unwrap();
    for path in [
        format!("/api/v1/customers/{first}"),
        format!("/api/v1/runs/{run_id}"),
        format!("/api/v1/segment-types/{}", encode(&names[0])),
    ] {
        assert_eq!(other.call("GET", &path, None).0, 404, "{path}");
    }
    assert_eq!(
        other.call("PUT", &path, Some(json!({"segment": "A"}))).0,
        404
    );
    assert_eq!(
        other
            .call("POST", &format!("/api/v1/runs/{run_id}/cancel"), None)
            .0,
        404
    );
    let page = other.ok("GET", "/api/v1/customers", None);
    assert_eq!(page["customers"], json!([]));
    let mut theirs = types[0].clone();
    theirs["period_months"] = json!(6);
    let path = format!("/api/v1/segment-types/{}", encode(&names[0]));
    let (status, _) = other.call("PUT", &path, Some(theirs));
    assert_eq!(
        status, 201,
        "a separate type in the caller's own organisation"
    );
    assert_eq!(other.ok("GET", &path, None)["period_months"], 6);
    assert_eq!(acme.ok("GET", &path, None)["period_months"], 12);
    assert_eq!(acme.call("GET", "/api/v1/customers", None).0, 200);
    assert_eq!(
        Client {
            server: &server,
            token: "strata_wrong".into()
        }
        .call("GET", "/api/v1/customers", None)
        .0,
        401
    );
}

/// Runs the command line on the generated files with the example
/// configuration; returns its output folder.
fn cli(files: &Files, data: &Path, config: &Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let out_dir = files.path(name);
    let out = strata()
        .args(args)
        .args(["--no-report", "--transactions"])
        .arg(data.join("transactions.csv"))
        .arg("--customers")
        .arg(data.join("customers.csv"))
        .arg("--config")
        .arg(config)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out_dir
}

/// A one-off period run and a comparison on the stored lines give, row for
/// row, the files `strata segment --period` and `strata compare` write on
/// the same data; neither changes the types' members.
fn one_off_runs_match_the_command_line(
    acme: &Client,
    files: &Files,
    data: &Path,
    config: &Path,
    names: &[String],
) {
    let (period_a, period_b) = ("2024-07-01..2025-06-30", "2025-07-01..2026-06-30");
    let sizes = |c: &Client| {
        c.ok(
            "GET",
            &format!("/api/v1/segment-types/{}/sizes", encode(&names[0])),
            None,
        )
    };
    let sizes_before = sizes(acme);
    let text = |path: &str| {
        let (status, body) = acme.call("GET", path, None);
        assert_eq!(status, 200, "{path}: {body}");
        body.as_str().expect("a CSV body").to_owned()
    };

    // Groups that read other types' segments: those are classified over
    // the same period too, as the command line does.
    let groups = &names[3];
    let (status, run) = acme.call(
        "POST",
        &format!("/api/v1/segment-types/{}/runs", encode(groups)),
        Some(json!({"period": period_b})),
    );
    assert_eq!(status, 202, "{run}");
    assert_eq!(
        (run["kind"].as_str(), run["periods"].clone()),
        (Some("period"), json!([period_b]))
    );
    let run = acme.wait(run["id"].as_i64().unwrap());
    assert_eq!(run["status"], "succeeded", "{run}");
    let served = text(&format!("/api/v1/runs/{}/rows", run["id"]));
    let out = cli(
        files,
        data,
        config,
        "cli-period",
        &["segment", "--period", period_b],
    );
    let written = std::fs::read_to_string(out.join("assignments.csv")).unwrap();
    let mut lines = written.lines();
    let mut expected = vec![lines.next().unwrap()];
    expected.extend(lines.filter(|l| l.starts_with(&format!("{groups},"))));
    assert!(expected.len() > 20, "the period run has rows");
    assert_eq!(served.lines().collect::<Vec<_>>(), expected);
    let counted: u64 = run["report"]["types"][0]["counts"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(counted as usize, expected.len() - 1, "{run}");

    // Tiers compared over two years.
    let tiers = &names[0];
    let (status, run) = acme.call(
        "POST",
        &format!("/api/v1/segment-types/{}/compare", encode(tiers)),
        Some(json!({"period_a": period_a, "period_b": period_b})),
    );
    assert_eq!(status, 202, "{run}");
    let run = acme.wait(run["id"].as_i64().unwrap());
    assert_eq!(run["status"], "succeeded", "{run}");
    let served = text(&format!("/api/v1/runs/{}/rows", run["id"]));
    let out = cli(
        files,
        data,
        config,
        "cli-compare",
        &[
            "compare",
            "--type",
            tiers,
            "--period-a",
            period_a,
            "--period-b",
            period_b,
        ],
    );
    let written = std::fs::read_to_string(out.join("transitions.csv")).unwrap();
    assert!(written.lines().count() > 20, "the comparison has rows");
    assert_eq!(served, written);
    let lost = text(&format!("/api/v1/runs/{}/rows?movement=lost", run["id"]));
    let expected_lost: Vec<&str> = written.lines().filter(|l| l.ends_with(",lost")).collect();
    assert_eq!(lost.lines().skip(1).collect::<Vec<_>>(), expected_lost);
    assert_eq!(
        run["report"]["movements"]["lost"],
        json!(expected_lost.len()),
        "{run}"
    );
    let periods = run["report"]["periods"].as_array().unwrap();
    assert_eq!(periods.len(), 2);
    assert_eq!(periods[0]["period"], period_a);

    // Neither one-off run is one of the type's runs.
    assert_eq!(sizes(acme), sizes_before);
}

/// Waits until a run is running (it must not end first).
fn wait_running(client: &Client, id: i64) {
    for _ in 0..3000 {
        let run = client.ok("GET", &format!("/api/v1/runs/{id}"), None);
        match run["status"].as_str() {
            Some("running") => return,
            Some("queued") => std::thread::sleep(std::time::Duration::from_millis(5)),
            _ => panic!("run {id} ended before it could be stopped: {run}"),
        }
    }
    panic!("run {id} never started");
}

/// SIGTERM and `kill -9` in the middle of a run: the first exits 0 and
/// cancels the run, the second loses it; either way the previous results
/// stay in force, and the next run succeeds.
fn interruptions(files: &Files, storage: &[String]) {
    let data = files.path("data");
    let out = strata()
        .args(["generate", "--customers", "20000", "--out"])
        .arg(&data)
        .output()
        .expect("strata generate runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = token(storage, "acme", "editor");
    // A short lease, so that a killed run is found quickly; long enough
    // for a debug build on two busy cores to renew it.
    let extra = ["--lease-seconds", "3"];
    let mut server = start_with(storage, &extra);
    fn client<'a>(server: &'a Server, token: &str) -> Client<'a> {
        Client {
            server,
            token: token.to_owned(),
        }
    }
    let abc = json!({"method": "pareto", "segments": [
        {"name": "A", "share": 80}, {"name": "B", "share": 15}, {"name": "C", "share": 5}]});
    client(&server, &token).ok("PUT", "/api/v1/segment-types/ABC", Some(abc));
    client(&server, &token).send(
        "/api/v1/imports/transactions",
        &std::fs::read(data.join("transactions.csv")).unwrap(),
    );
    let run = |server: &Server, as_of: &str| {
        let (status, run) = client(server, &token).call(
            "POST",
            "/api/v1/runs",
            Some(json!({"types": ["ABC"], "as_of": as_of})),
        );
        assert_eq!(status, 202, "{run}");
        run["id"].as_i64().unwrap()
    };
    let first = run(&server, "2026-06-30");
    let done = client(&server, &token).wait(first);
    assert_eq!(done["status"], "succeeded", "{done}");
    let before = client(&server, &token).members("ABC", "A");
    assert!(!before.is_empty());

    let stopped = run(&server, "2025-06-30");
    wait_running(&client(&server, &token), stopped);
    let pid = server.child.id().to_string();
    let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(sent.success());
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "SIGTERM exits 0: {exit:?}");
    server = start_with(storage, &extra);
    assert_eq!(client(&server, &token).wait(stopped)["status"], "cancelled");
    assert_eq!(client(&server, &token).members("ABC", "A"), before);

    let killed = run(&server, "2025-06-30");
    wait_running(&client(&server, &token), killed);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    server = start_with(storage, &extra);
    let lost = client(&server, &token).wait(killed);
    assert_eq!(lost["status"], "failed", "{lost}");
    assert!(
        lost["error"].as_str().unwrap().contains("interrupted"),
        "{lost}"
    );
    assert_eq!(client(&server, &token).members("ABC", "A"), before);

    let last = run(&server, "2025-06-30");
    let done = client(&server, &token).wait(last);
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_ne!(client(&server, &token).members("ABC", "A"), before);
}

#[test]
fn serve_on_sqlite_survives_sigterm_and_kill() {
    let files = Files::new();
    let storage = vec![
        "--data".to_owned(),
        files.path("strata-data").display().to_string(),
    ];
    interruptions(&files, &storage);
}

#[test]
fn serve_on_postgres_survives_sigterm_and_kill() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(url) = runtime.block_on(strata_testkit::postgres::fresh_database(
        "serve",
        "serve_on_postgres_survives_sigterm_and_kill",
    )) else {
        return;
    };
    let files = Files::new();
    interruptions(&files, &["--database".to_owned(), url]);
}

#[test]
fn serve_on_sqlite_matches_segment() {
    let files = Files::new();
    let storage = vec![
        "--data".to_owned(),
        files.path("strata-data").display().to_string(),
    ];
    scenario(&files, &storage);
}

#[test]
fn serve_on_postgres_matches_segment() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(url) = runtime.block_on(strata_testkit::postgres::fresh_database(
        "serve",
        "serve_on_postgres_matches_segment",
    )) else {
        return;
    };
    let files = Files::new();
    scenario(&files, &["--database".to_owned(), url]);
}

/// `strata backup` copies a SQLite store into a new file that serves as a
/// store, never overwrites one, and sends PostgreSQL users to pg_dump.
#[test]
fn backup_copies_a_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").display().to_string();
    token(&["--data".into(), data.clone()], "acme", "admin");
    let copy = dir.path().join("copy.db");
    let backup = |args: &[&str]| strata().arg("backup").args(args).output().unwrap();
    let out = backup(&["--data", &data, "--to", copy.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again = backup(&["--data", &data, "--to", copy.to_str().unwrap()]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));
    let postgres = backup(&["--database", "postgres://nowhere/x", "--to", "x.db"]);
    assert!(!postgres.status.success());
    assert!(String::from_utf8_lossy(&postgres.stderr).contains("pg_dump"));
    // Restoring is serving a folder that holds the copy as strata.db.
    let restored = dir.path().join("restored");
    std::fs::create_dir(&restored).unwrap();
    std::fs::copy(&copy, restored.join("strata.db")).unwrap();
    let out = strata()
        .args([
            "token", "create", "--org", "acme", "--role", "viewer", "--data",
        ])
        .arg(&restored)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("created the organisation"),
        "the copy holds the organisation"
    );
}
