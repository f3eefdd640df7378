//! The report as a person sees it: its numbers equal the CSV outputs, and it
//! renders in a real headless Chromium with the expected marks.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use strata_domain::config::parse_config;
use strata_domain::date::Date;
use strata_engine::output::{write_assignments, AssignmentColumns};
use strata_engine::progress::Control;
use strata_engine::run::{self, parse_period, CompareRun, Inputs, SegmentRun};
use strata_generate::{generate, Format, Shape, Spec};
use strata_report::format::Lang;
use strata_report::{compare_report, segment_report, ReportInfo};

const CONFIG: &str = include_str!("../../../examples/config.toml");

fn data(dir: &Path) -> Inputs {
    let spec = Spec {
        shape: Shape::Classic,
        customers: 400,
        seed: 11,
        end: Date::parse_iso("2024-12-31").unwrap(),
        format: Format::Csv,
    };
    let generated = generate(&spec, dir).unwrap();
    Inputs::files(
        generated.transactions_path,
        Some(generated.customers_path),
        None,
        None,
    )
}

fn segment_run(dir: &Path) -> SegmentRun {
    let inputs = data(dir);
    run::segment(
        parse_config(CONFIG).unwrap(),
        &inputs,
        Date::parse_iso("2024-12-31").unwrap(),
        &Control::silent(),
    )
    .unwrap()
}

/// Sales performance compared between 2023 and 2024.
fn compare_run(dir: &Path) -> CompareRun {
    let inputs = data(dir);
    let periods =
        ["2023-01-01..2023-12-31", "2024-01-01..2024-12-31"].map(|p| parse_period(p).unwrap());
    run::compare(
        parse_config(CONFIG).unwrap(),
        &inputs,
        "Sales performance",
        periods,
        &Control::silent(),
    )
    .unwrap()
}

fn info(lang: Lang, files: &[strata_engine::run::FileInfo]) -> ReportInfo<'_> {
    ReportInfo {
        lang,
        duration: Duration::from_millis(1234),
        files,
    }
}

/// `(type, segment, accounts)` of every segment row of a report.
fn report_rows(html: &str) -> Vec<(String, String, u64)> {
    html.split("<tr class=\"segment-row\"")
        .skip(1)
        .map(|row| {
            let attribute = |name: &str| {
                let start = row.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                row[start..start + row[start..].find('"').unwrap()].to_owned()
            };
            (
                attribute("data-type"),
                attribute("data-segment"),
                attribute("data-accounts").parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn report_counts_equal_the_assignments_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = segment_run(dir.path());
    let html = segment_report(&run, &info(Lang::En, &run.files));
    let mut csv = Vec::new();
    write_assignments(&run, AssignmentColumns::All, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let rows = report_rows(&html);
    assert!(rows.len() > 10, "every type has its table");
    for (type_name, segment, accounts) in rows {
        let in_csv = csv
            .lines()
            .filter(|l| {
                l.starts_with(&format!("{type_name},"))
                    && l.split(',').nth(2) == Some(segment.as_str())
            })
            .count();
        assert_eq!(accounts, in_csv as u64, "{type_name} / {segment}");
    }
    assert!(html.contains("<html lang=\"en\">"));
    for needle in ["src=", "href=", "<script", "@import", "url("] {
        assert!(!html.contains(needle), "self-contained: no {needle}");
    }
    let french = segment_report(&run, &info(Lang::Fr, &run.files));
    assert!(
        french.contains("<html lang=\"fr\">") && french.contains("\u{a0}€"),
        "French amounts end with the euro sign"
    );
}

#[test]
fn pareto_curves_are_drawn_from_a_bounded_number_of_points() {
    let dir = tempfile::tempdir().unwrap();
    let run = segment_run(dir.path());
    let html = segment_report(&run, &info(Lang::En, &run.files));
    for polyline in html.split("<polyline").skip(1) {
        let points = polyline
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert!(points.split(' ').count() <= strata_report::CURVE_POINTS + 2);
    }
}

#[test]
fn compare_report_counts_equal_the_transitions_file() {
    let dir = tempfile::tempdir().unwrap();
    let compare = compare_run(dir.path());
    let html = compare_report(&compare, &info(Lang::En, &compare.files));
    let mut csv = Vec::new();
    strata_engine::output::write_transitions(&compare, &mut csv).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    for movement in ["improved", "declined", "unchanged", "new", "lost"] {
        let in_csv = csv
            .lines()
            .filter(|l| l.ends_with(&format!(",{movement}")))
            .count();
        assert!(
            html.contains(&format!(
                "data-movement=\"{movement}\" data-count=\"{in_csv}\""
            )),
            "{movement}: {in_csv}"
        );
    }
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(name))
                    .find(|p| p.is_file())
            })
        })
}

/// Renders a page in headless Chromium: the screenshot, and the DOM after load.
fn render(browser: &Path, page: &Path, png: &Path) -> String {
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--window-size=1200,2600",
    ];
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());
    let shot = Command::new(browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        shot.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let dom = Command::new(browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    assert!(dom.status.success());
    String::from_utf8(dom.stdout).unwrap()
}

#[test]
fn reports_render_in_a_real_browser() {
    let Some(browser) = chromium() else {
        strata_testkit::missing_dependency(
            "reports_render_in_a_real_browser",
            "Chromium on PATH (apt-get install chromium)",
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let run = segment_run(dir.path());
    let page = dir.path().join("report.html");
    std::fs::write(&page, segment_report(&run, &info(Lang::Fr, &run.files))).unwrap();
    let png = dir.path().join("report.png");
    let dom = render(&browser, &page, &png);
    let png_bytes = std::fs::read(&png).unwrap();
    assert!(
        png_bytes.starts_with(b"\x89PNG") && png_bytes.len() > 10_000,
        "a real picture was rendered"
    );
    let count = |class: &str| dom.matches(&format!("class=\"{class}\"")).count();
    // Pareto bands: one per tier holding ranked customers, in both Pareto types.
    let tiers_with_customers: usize = run
        .types
        .iter()
        .map(|t| {
            let mut tiers: Vec<u16> = t.ranked.iter().map(|r| r.1).collect();
            tiers.dedup();
            tiers.len()
        })
        .sum();
    assert_eq!(count("band"), tiers_with_customers);
    assert_eq!(count("cell"), 25, "the 5 x 5 RFM grid");
    assert_eq!(count("bar"), 6, "one bar per marketing group");
    assert_eq!(count("chart curve"), 2);

    let compare = compare_run(dir.path());
    let page = dir.path().join("compare.html");
    std::fs::write(
        &page,
        compare_report(&compare, &info(Lang::En, &compare.files)),
    )
    .unwrap();
    let dom = render(&browser, &page, &dir.path().join("compare.png"));
    let count = |class: &str| dom.matches(&format!("class=\"{class}\"")).count();
    let n = compare.matrix.counts.len();
    assert_eq!(count("cell"), n * n, "the transition matrix");
    let links = compare
        .matrix
        .counts
        .iter()
        .flatten()
        .filter(|&&c| c > 0)
        .count();
    assert_eq!(count("flow"), links, "one band per non-empty movement");
    assert_eq!(count("movement"), 5);
}

#[test]
fn segments_are_drawn_in_their_own_colour() {
    let dir = tempfile::tempdir().unwrap();
    let run = segment_run(dir.path());
    let html = segment_report(&run, &info(Lang::En, &run.files));
    // examples/config.toml colours one rules group and one Pareto tier.
    let coloured: Vec<&str> = run
        .config
        .types
        .iter()
        .flat_map(|t| t.segments.iter().filter_map(|s| s.color.as_deref()))
        .collect();
    assert!(!coloured.is_empty());
    for color in coloured {
        assert!(
            html.contains(&format!(r#"fill="{color}""#)),
            "{color} is drawn"
        );
    }
}

#[test]
fn built_in_rfm_segments_show_their_label_and_keep_their_name_in_data() {
    let dir = tempfile::tempdir().unwrap();
    let run = segment_run(dir.path());
    let french = segment_report(&run, &info(Lang::Fr, &run.files));
    // examples/config.toml has an RFM type with the built-in segments.
    assert!(
        french.contains(">En hibernation<"),
        "French label in a cell"
    );
    assert!(
        french.contains("data-segment=\"hibernating\""),
        "stable name in data"
    );
    assert!(!french.contains(">hibernating<"));
    let english = segment_report(&run, &info(Lang::En, &run.files));
    assert!(english.contains(">Hibernating<"));
}
