//! Charts as SVG: data in, markup out. No IO and no styling beyond inline
//! attributes, so the same charts serve the report and, later, the web pages.
//! Every mark carries a class (`band`, `cell`, `flow`, `bar`) so tests and
//! style sheets can find it.

use std::fmt::Write;

/// Colour-blind-safe categorical colours (Okabe and Ito), readable in print.
pub const PALETTE: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999",
];

/// Escapes text for XML and HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A shaded range of the x axis, from 0 to 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    /// The label written in the band.
    pub label: String,
    /// Where the band starts, 0 to 1.
    pub from: f64,
    /// Where it ends, 0 to 1.
    pub to: f64,
    /// Its colour (`#rrggbb`), else one of the palette's.
    pub color: Option<String>,
}

const W: f64 = 640.0;
const H: f64 = 360.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 44.0;

/// A cumulative curve (both axes 0 to 1) over shaded bands with labelled
/// boundaries: the Pareto curve.
pub fn curve(
    points: &[(f64, f64)],
    bands: &[Band],
    x_title: &str,
    y_title: &str,
    percent: impl Fn(f64) -> String,
) -> String {
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let x = |v: f64| LEFT + v.clamp(0.0, 1.0) * pw;
    let y = |v: f64| TOP + (1.0 - v.clamp(0.0, 1.0)) * ph;
    let mut svg = format!(
        r#"<svg class="chart curve" viewBox="0 0 {W} {H}" xmlns="http://www.w3.org/2000/svg" role="img">"#
    );
    for (i, band) in bands.iter().enumerate() {
        let color = band.color.as_deref().unwrap_or(PALETTE[i % PALETTE.len()]);
        let color = escape(color);
        let _ = write!(
            svg,
            r#"<rect class="band" x="{:.1}" y="{TOP}" width="{:.1}" height="{ph}" fill="{color}" fill-opacity="0.18"><title>{}</title></rect>"#,
            x(band.from),
            (x(band.to) - x(band.from)).max(0.5),
            escape(&band.label)
        );
        let _ = write!(
            svg,
            r#"<text class="band-label" x="{:.1}" y="{:.1}" text-anchor="middle" font-size="13" font-weight="bold">{}</text>"#,
            (x(band.from) + x(band.to)) / 2.0,
            TOP + 16.0,
            escape(&band.label)
        );
        if i > 0 {
            let _ = write!(
                svg,
                r##"<line class="boundary" x1="{0:.1}" x2="{0:.1}" y1="{TOP}" y2="{1}" stroke="#333" stroke-dasharray="4 3"/><text x="{0:.1}" y="{2:.1}" font-size="10" text-anchor="middle">{3}</text>"##,
                x(band.from),
                TOP + ph,
                TOP + ph + 12.0,
                escape(&percent(band.from))
            );
        }
    }
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" y1="{0}" x2="{1}" y2="{0}" stroke="#000"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{0}" stroke="#000"/>"##,
        TOP + ph,
        LEFT + pw
    );
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"#,
            LEFT - 4.0,
            y(tick) + 3.0,
            escape(&percent(tick))
        );
    }
    let path: Vec<String> = points
        .iter()
        .map(|&(px, py)| format!("{:.1},{:.1}", x(px), y(py)))
        .collect();
    let _ = write!(
        svg,
        r##"<polyline class="line" points="{}" fill="none" stroke="#000" stroke-width="2"/>"##,
        path.join(" ")
    );
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">{}</text><text x="14" y="{:.1}" font-size="12" text-anchor="middle" transform="rotate(-90 14 {:.1})">{}</text></svg>"#,
        LEFT + pw / 2.0,
        H - 8.0,
        escape(x_title),
        TOP + ph / 2.0,
        TOP + ph / 2.0,
        escape(y_title)
    );
    svg
}

/// A heat map: one `cell` per value, darker for larger values, with each
/// cell's text written over it.
pub fn heatmap(
    rows: &[String],
    columns: &[String],
    values: &[Vec<u64>],
    texts: &[Vec<String>],
    corner: &str,
) -> String {
    let cell_w = 96.0;
    let cell_h = 46.0;
    let left = 120.0;
    let top = 28.0;
    let width = left + cell_w * columns.len() as f64 + 8.0;
    let height = top + cell_h * rows.len() as f64 + 8.0;
    let max = values.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let mut svg = format!(
        r#"<svg class="chart heatmap" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img">"#
    );
    let _ = write!(
        svg,
        r#"<text x="4" y="18" font-size="11" font-style="italic">{}</text>"#,
        escape(corner)
    );
    for (j, c) in columns.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="18" font-size="12" text-anchor="middle">{}</text>"#,
            left + cell_w * (j as f64 + 0.5),
            escape(c)
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let y = top + cell_h * i as f64;
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{}</text>"#,
            left - 6.0,
            y + cell_h / 2.0 + 4.0,
            escape(r)
        );
        for (j, &v) in values[i].iter().enumerate() {
            let x = left + cell_w * j as f64;
            // A single blue hue, light to dark: readable in grey print and by colour-blind readers.
            let intensity = (v as f64 / max).sqrt();
            let lightness = 96.0 - 58.0 * intensity;
            let ink = if lightness < 60.0 { "#fff" } else { "#000" };
            let _ = write!(
                svg,
                r##"<rect class="cell" x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="hsl(210, 70%, {lightness:.0}%)" stroke="#fff"/>"##,
                cell_w - 1.0,
                cell_h - 1.0
            );
            for (k, line) in texts[i][j].lines().enumerate() {
                let _ = write!(
                    svg,
                    r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="{ink}">{}</text>"#,
                    x + cell_w / 2.0,
                    y + 15.0 + 12.0 * k as f64,
                    escape(line)
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A flow chart: nodes of the first period on the left, of the second on the
/// right, one `flow` band per non-empty link with a width proportional to
/// its count.
pub fn flow(
    left: &[(String, u64)],
    right: &[(String, u64)],
    links: &[(usize, usize, u64)],
    colors: &[Option<String>],
) -> String {
    // The node `i` (a segment, on both sides) in its own colour, else the palette's.
    let color = |i: usize| {
        escape(
            colors
                .get(i)
                .and_then(Option::as_deref)
                .unwrap_or(PALETTE[i % PALETTE.len()]),
        )
    };
    let height = 420.0;
    let width = 640.0;
    let node_w = 14.0;
    let gap = 8.0;
    let total = left
        .iter()
        .map(|n| n.1)
        .sum::<u64>()
        .max(right.iter().map(|n| n.1).sum::<u64>())
        .max(1) as f64;
    let layout = |nodes: &[(String, u64)]| -> Vec<(f64, f64)> {
        let used = height - gap * (nodes.len().saturating_sub(1)) as f64 - 20.0;
        let mut y = 10.0;
        nodes
            .iter()
            .map(|(_, n)| {
                let h = *n as f64 / total * used;
                let slot = (y, h);
                y += h + gap;
                slot
            })
            .collect()
    };
    let (lpos, rpos) = (layout(left), layout(right));
    let (lx, rx) = (150.0, width - 150.0);
    let mut svg = format!(
        r#"<svg class="chart flow-chart" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img">"#
    );
    let mut l_used = vec![0.0; left.len()];
    let mut r_used = vec![0.0; right.len()];
    let used = height - 20.0;
    let scale = |n: u64| {
        n as f64 / total * (used - gap * (left.len().max(right.len()).saturating_sub(1)) as f64)
    };
    for &(a, b, n) in links.iter().filter(|l| l.2 > 0) {
        let h = scale(n);
        let y0 = lpos[a].0 + l_used[a];
        let y1 = rpos[b].0 + r_used[b];
        l_used[a] += h;
        r_used[b] += h;
        let (x0, x1) = (lx + node_w, rx);
        let mid = (x0 + x1) / 2.0;
        let _ = write!(
            svg,
            r#"<path class="flow" d="M{x0:.1},{y0:.1} C{mid:.1},{y0:.1} {mid:.1},{y1:.1} {x1:.1},{y1:.1} L{x1:.1},{:.1} C{mid:.1},{:.1} {mid:.1},{:.1} {x0:.1},{:.1} Z" fill="{}" fill-opacity="0.45"><title>{} → {}: {n}</title></path>"#,
            y1 + h,
            y1 + h,
            y0 + h,
            y0 + h,
            color(a),
            escape(&left[a].0),
            escape(&right[b].0)
        );
    }
    for (side, nodes, pos, x) in [(0, left, &lpos, lx), (1, right, &rpos, rx)] {
        for (i, ((name, n), (y, h))) in nodes.iter().zip(pos.iter()).enumerate() {
            let _ = write!(
                svg,
                r##"<rect class="node" x="{x:.1}" y="{y:.1}" width="{node_w}" height="{:.1}" fill="{}"/>"##,
                h.max(1.0),
                color(i)
            );
            let (tx, anchor) = if side == 0 {
                (x - 6.0, "end")
            } else {
                (x + node_w + 6.0, "start")
            };
            let _ = write!(
                svg,
                r#"<text x="{tx:.1}" y="{:.1}" font-size="12" text-anchor="{anchor}">{} ({n})</text>"#,
                y + h / 2.0 + 4.0,
                escape(name)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One bar of [`bars`].
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// The label left of the bar.
    pub label: String,
    /// Its length, relative to the largest.
    pub value: f64,
    /// The text right of the bar.
    pub text: String,
    /// Its colour (`#rrggbb`), else one of the palette's.
    pub color: Option<String>,
}

/// Horizontal bars, one `bar` per item, lengths proportional to the values.
pub fn bars(items: &[Bar]) -> String {
    let row_h = 26.0;
    let left = 180.0;
    let width = 640.0;
    let height = row_h * items.len() as f64 + 8.0;
    let max = items.iter().map(|i| i.value).fold(0.0, f64::max).max(1e-9);
    let mut svg = format!(
        r#"<svg class="chart bars" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" role="img">"#
    );
    for (i, bar) in items.iter().enumerate() {
        let (label, text) = (&bar.label, &bar.text);
        let y = 4.0 + row_h * i as f64;
        let w = (bar.value / max * (width - left - 120.0)).max(1.0);
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{}</text><rect class="bar" x="{left}" y="{y:.1}" width="{w:.1}" height="{:.1}" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
            left - 6.0,
            y + 15.0,
            escape(label),
            row_h - 6.0,
            escape(bar.color.as_deref().unwrap_or(PALETTE[i % PALETTE.len()])),
            left + w + 6.0,
            y + 15.0,
            escape(text)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(svg: &str, class: &str) -> usize {
        svg.matches(&format!("class=\"{class}\"")).count()
    }

    #[test]
    fn curve_draws_one_band_per_tier_and_escapes_labels() {
        let bands = vec![
            Band {
                label: "A & co".into(),
                from: 0.0,
                to: 0.2,
                color: Some("#c9a227".into()),
            },
            Band {
                label: "B".into(),
                from: 0.2,
                to: 1.0,
                color: None,
            },
        ];
        let svg = curve(
            &[(0.0, 0.0), (0.2, 0.8), (1.0, 1.0)],
            &bands,
            "customers",
            "sales",
            |v| format!("{:.0}%", v * 100.0),
        );
        assert_eq!(count(&svg, "band"), 2);
        assert_eq!(count(&svg, "boundary"), 1);
        assert!(svg.contains("A &amp; co"));
        assert!(
            svg.contains(r##"fill="#c9a227""##),
            "a segment's own colour"
        );
        assert!(
            svg.contains(&format!(r#"fill="{}""#, PALETTE[1])),
            "else the palette's"
        );
        assert!(svg.contains(">20%</text>"), "the boundary is labelled");
    }

    #[test]
    fn heatmap_flow_and_bars_draw_one_mark_per_datum() {
        let labels = |n: usize| (0..n).map(|i| i.to_string()).collect::<Vec<_>>();
        let values = vec![vec![1, 2, 3], vec![0, 5, 6]];
        let texts = vec![vec![String::new(); 3]; 2];
        assert_eq!(
            count(
                &heatmap(&labels(2), &labels(3), &values, &texts, ""),
                "cell"
            ),
            6
        );
        let nodes = vec![("a".to_owned(), 3), ("b".to_owned(), 2)];
        let svg = flow(
            &nodes,
            &nodes,
            &[(0, 0, 2), (0, 1, 1), (1, 1, 1), (1, 0, 0)],
            &[None, Some("#c9a227".to_owned())],
        );
        assert_eq!(count(&svg, "flow"), 3, "empty links draw nothing");
        assert_eq!(
            svg.matches(r##"fill="#c9a227""##).count(),
            3,
            "b's two nodes and its flow"
        );
        let bar = |label: &str, value: f64, color: Option<&str>| Bar {
            label: label.into(),
            value,
            text: value.to_string(),
            color: color.map(str::to_owned),
        };
        let drawn = bars(&[bar("x", 1.0, Some("#c9a227")), bar("y", 2.0, None)]);
        assert_eq!(count(&drawn, "bar"), 2);
        assert!(
            drawn.contains(r##"fill="#c9a227""##)
                && drawn.contains(&format!(r#"fill="{}""#, PALETTE[1]))
        );
    }
}
