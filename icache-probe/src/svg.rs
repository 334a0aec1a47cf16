//! `--svg FILE`: a plain SVG plot, two panels: (a) `clear_cache` latency
//! against range size; (b) `pipeline_flush_mt` latency against other
//! running threads and against concurrent callers.

use std::fmt::Write as _;

/// One line of a panel.
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Stroke colour.
    pub color: &'static str,
    /// Dashed line.
    pub dashed: bool,
    /// (x, y) points, y in nanoseconds.
    pub points: Vec<(f64, f64)>,
    /// Points drawn hollow (below the clock's resolution); may be empty.
    pub hollow: Vec<bool>,
}

/// One panel: a log-scale y axis (ns) and a log2 or linear x axis.
pub struct Panel {
    /// Shown above the panel.
    pub title: String,
    /// Below the x axis.
    pub x_label: String,
    /// x axis in powers of two, ticks labelled as byte sizes.
    pub x_log2_bytes: bool,
    /// The lines.
    pub series: Vec<Series>,
    /// Shown in the panel when it has no data.
    pub empty_note: String,
    /// A line under the legend (may be empty).
    pub footnote: String,
}

const H: f64 = 480.0;
const PW: f64 = 450.0; // plot area of one panel
const PH: f64 = 300.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `1 ns`, `10 µs`, ...
fn ns_label(ns: f64) -> String {
    let (v, unit) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    if v >= 1.0 {
        format!("{v:.0} {unit}")
    } else {
        format!("{v} {unit}")
    }
}

fn bytes_label(b: f64) -> String {
    let b = b as u64;
    if b >= 1 << 20 && b % (1 << 20) == 0 {
        format!("{} MiB", b >> 20)
    } else if b >= 1 << 10 && b % (1 << 10) == 0 {
        format!("{} KiB", b >> 10)
    } else {
        format!("{b} B")
    }
}

/// The whole document: the panels side by side, each with its own x
/// variable.
pub fn render(title: &str, subtitle: &str, panels: &[Panel]) -> String {
    #[allow(non_snake_case)]
    let W = 80.0 + panels.len().max(1) as f64 * (PW + 110.0) - 30.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="24" text-anchor="middle" font-size="16" font-weight="bold">{}</text>"#,
        W / 2.0,
        esc(title)
    );
    let _ = writeln!(
        s,
        r##"<text x="{}" y="44" text-anchor="middle" fill="#444">{}</text>"##,
        W / 2.0,
        esc(subtitle)
    );
    for (i, p) in panels.iter().enumerate() {
        panel(&mut s, 80.0 + i as f64 * (PW + 110.0), 80.0, p);
    }
    s.push_str("</svg>\n");
    s
}

fn legend_y(y0: f64, i: usize) -> f64 {
    y0 + PH + 54.0 + i as f64 * 16.0
}

fn panel(s: &mut String, x0: f64, y0: f64, p: &Panel) {
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle" font-size="14">{}</text>"#,
        x0 + PW / 2.0,
        y0 - 12.0,
        esc(&p.title)
    );
    let _ = writeln!(
        s,
        r##"<rect x="{x0}" y="{y0}" width="{PW}" height="{PH}" fill="none" stroke="#888"/>"##
    );
    let pts: Vec<(f64, f64)> = p.series.iter().flat_map(|r| r.points.clone()).collect();
    if pts.is_empty() {
        let _ = writeln!(
            s,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#666">{}</text>"##,
            x0 + PW / 2.0,
            y0 + PH / 2.0,
            esc(&p.empty_note)
        );
        return;
    }
    // y: log10, whole decades around the data; values <= 0 sit on the floor.
    let pos: Vec<f64> = pts.iter().map(|p| p.1).filter(|&y| y > 0.0).collect();
    let ymin_v = pos.iter().copied().fold(f64::INFINITY, f64::min);
    let ymax_v = pos.iter().copied().fold(0.0, f64::max);
    let (lo, hi) = if pos.is_empty() {
        (-1.0, 1.0)
    } else {
        let lo = ymin_v.max(0.01).log10().floor();
        let hi = ymax_v.max(0.01).log10().ceil().max(lo + 1.0);
        (lo, hi)
    };
    let fy = |y: f64| {
        let l = if y > 0.0 { y.log10().clamp(lo, hi) } else { lo };
        y0 + PH - (l - lo) / (hi - lo) * PH
    };
    // x: log2 for sizes, linear otherwise.
    let tx = |x: f64| if p.x_log2_bytes { x.max(1.0).log2() } else { x };
    let xs: Vec<f64> = pts.iter().map(|p| tx(p.0)).collect();
    let (mut xlo, mut xhi) = (
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    if xhi - xlo < 1.0 {
        xlo -= 0.5;
        xhi += 0.5;
    }
    let pad = (xhi - xlo) * 0.05;
    let (xlo, xhi) = (xlo - pad, xhi + pad);
    let fx = |x: f64| x0 + (tx(x) - xlo) / (xhi - xlo) * PW;

    // Grid and y labels: one per decade.
    for d in lo as i32..=hi as i32 {
        let v = 10f64.powi(d);
        let y = fy(v);
        let _ = writeln!(
            s,
            r##"<line x1="{x0}" y1="{y:.1}" x2="{}" y2="{y:.1}" stroke="#e4e4e4"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            x0 + PW,
            x0 - 6.0,
            y + 4.0,
            ns_label(v)
        );
    }
    // x ticks: the data's x values.
    let mut ticks: Vec<f64> = pts.iter().map(|p| p.0).collect();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    let step = ticks.len().div_ceil(12).max(1);
    for t in ticks.iter().step_by(step) {
        let x = fx(*t);
        let label = if p.x_log2_bytes {
            bytes_label(*t)
        } else {
            format!("{t}")
        };
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{y0}" x2="{x:.1}" y2="{}" stroke="#f0f0f0"/><text x="{x:.1}" y="{}" text-anchor="middle">{}</text>"##,
            y0 + PH,
            y0 + PH + 16.0,
            esc(&label)
        );
    }
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        x0 + PW / 2.0,
        y0 + PH + 36.0,
        esc(&p.x_label)
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate({},{}) rotate(-90)" text-anchor="middle">per call (log scale)</text>"#,
        x0 - 58.0,
        y0 + PH / 2.0
    );
    // Lines, markers, legend.
    for (i, r) in p.series.iter().enumerate() {
        if r.points.is_empty() {
            continue;
        }
        let path: Vec<String> = r
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", fx(x), fy(y)))
            .collect();
        let dash = if r.dashed {
            r#" stroke-dasharray="5,4""#
        } else {
            ""
        };
        let _ = writeln!(
            s,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2"{dash}/>"#,
            path.join(" "),
            r.color
        );
        for (n, &(x, y)) in r.points.iter().enumerate() {
            let fill = if r.hollow.get(n) == Some(&true) {
                "white"
            } else {
                r.color
            };
            let _ = writeln!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{fill}" stroke="{}"><title>{}: {}</title></circle>"#,
                fx(x),
                fy(y),
                r.color,
                esc(&r.name),
                ns_label(y).replace(" ", "\u{a0}")
            );
        }
        let ly = legend_y(y0, i);
        let _ = writeln!(
            s,
            r#"<line x1="{x0}" y1="{:.1}" x2="{}" y2="{:.1}" stroke="{}" stroke-width="2"{dash}/><text x="{}" y="{:.1}">{}</text>"#,
            ly - 4.0,
            x0 + 24.0,
            ly - 4.0,
            r.color,
            x0 + 30.0,
            ly,
            esc(&r.name)
        );
    }
    if !p.footnote.is_empty() {
        let _ = writeln!(
            s,
            r##"<text x="{x0}" y="{:.1}" fill="#555">{}</text>"##,
            legend_y(y0, p.series.len()),
            esc(&p.footnote)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_escapes() {
        let a = Panel {
            title: "a <b>".into(),
            x_label: "range".into(),
            x_log2_bytes: true,
            series: vec![Series {
                name: "p50".into(),
                color: "#1f77b4",
                dashed: false,
                points: vec![(64.0, 1.0), (1024.0, 0.0), (1048576.0, 12345.0)],
                hollow: vec![false, true, false],
            }],
            empty_note: String::new(),
            footnote: "hollow: below the clock".into(),
        };
        let b = Panel {
            title: "b".into(),
            x_label: "threads".into(),
            x_log2_bytes: false,
            series: vec![],
            empty_note: "nothing measured".into(),
            footnote: String::new(),
        };
        let svg = render("t & u", "cmd", &[a, b]);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("a &lt;b&gt;") && svg.contains("t &amp; u"));
        assert!(svg.contains("1 MiB") && svg.contains("nothing measured"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn labels() {
        assert_eq!(ns_label(1000.0), "1 µs");
        assert_eq!(ns_label(0.1), "0.1 ns");
        assert_eq!(bytes_label(4096.0), "4 KiB");
    }
}
