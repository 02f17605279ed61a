//! A small SVG bar chart of monthly dossier counts, readable without JavaScript or fonts beyond
//! the viewer's sans-serif.

use std::fmt::Write;

use chrono::NaiveDate;
use dvc_persistence::statistics::MonthCounts;

const WIDTH: i64 = 880;
const HEIGHT: i64 = 420;
const LEFT: i64 = 60;
const RIGHT: i64 = 20;
const TOP: i64 = 70;
const BOTTOM: i64 = 60;

/// The series drawn, with their colours (colour-blind safe) and Vietnamese labels.
const SERIES: [(&str, &str); 3] = [("#0072B2", "Tiếp nhận"), ("#009E73", "Đúng hạn"), ("#D55E00", "Trễ hạn")];

/// Escapes text for SVG content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A "nice" upper bound for the axis: 1, 2 or 5 times a power of ten, at least `max`.
fn nice_ceiling(max: i64) -> i64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if step * m >= max {
                return (step * m).max(1);
            }
        }
        step *= 10;
    }
}

/// Draws received / on-time / late per month as grouped bars with an axis, legend and a
/// `<title>` on every bar for screen readers and hover.
pub fn monthly_svg(agency: &str, from: NaiveDate, to: NaiveDate, months: &[MonthCounts]) -> String {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let max = months.iter().map(|m| m.received.max(m.on_time).max(m.late)).max().unwrap_or(0);
    let ceiling = nice_ceiling(max);
    let y = |v: i64| TOP + plot_h - v * plot_h / ceiling;
    let title = format!("{} — {} đến {}", escape(agency), from.format("%d/%m/%Y"), to.format("%d/%m/%Y"));
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="t d" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(s, r#"<title id="t">Hồ sơ theo tháng: {title}</title>"#);
    let _ = write!(
        s,
        r#"<desc id="d">Số hồ sơ tiếp nhận, giải quyết đúng hạn và trễ hạn mỗi tháng. Monthly dossiers received, finished on time and late.</desc>"#
    );
    let _ = write!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    let _ = write!(s, r#"<text x="{LEFT}" y="24" font-size="16" font-weight="bold">{title}</text>"#);
    for (i, (colour, label)) in SERIES.iter().enumerate() {
        let x = LEFT + i as i64 * 130;
        let _ = write!(
            s,
            r#"<rect x="{x}" y="36" width="12" height="12" fill="{colour}"/><text x="{}" y="47">{label}</text>"#,
            x + 18
        );
    }
    for k in 0..=4 {
        let v = ceiling * k / 4;
        let yy = y(v);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" y1="{yy}" x2="{}" y2="{yy}" stroke="#dddddd"/><text x="{}" y="{}" text-anchor="end">{v}</text>"##,
            LEFT + plot_w,
            LEFT - 6,
            yy + 4
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" y1="{}" x2="{}" y2="{}" stroke="#333333"/>"##,
        TOP + plot_h,
        LEFT + plot_w,
        TOP + plot_h
    );
    if months.is_empty() {
        let _ = write!(s, r#"<text x="{}" y="{}" text-anchor="middle">Không có dữ liệu</text>"#, WIDTH / 2, HEIGHT / 2);
    }
    let slot = plot_w / months.len().max(1) as i64;
    let bar = (slot / 4).max(1);
    for (i, m) in months.iter().enumerate() {
        let x0 = LEFT + i as i64 * slot + (slot - 3 * bar) / 2;
        for (j, (value, (colour, label))) in [m.received, m.on_time, m.late].iter().zip(SERIES).enumerate() {
            let top = y(*value);
            let _ = write!(
                s,
                r#"<rect x="{}" y="{top}" width="{bar}" height="{}" fill="{colour}"><title>{} {}: {value}</title></rect>"#,
                x0 + j as i64 * bar,
                TOP + plot_h - top,
                label,
                escape(&m.month),
            );
        }
        if months.len() <= 24 || i % (months.len() / 12).max(1) == 0 {
            let _ = write!(
                s,
                r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
                LEFT + i as i64 * slot + slot / 2,
                TOP + plot_h + 18,
                escape(&m.month)
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_a_nice_axis() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(17), 20);
        assert_eq!(nice_ceiling(120), 200);
        let months = vec![
            MonthCounts { month: "2026-10".into(), received: 4, on_time: 2, late: 1 },
            MonthCounts { month: "2026-11".into(), received: 5, on_time: 0, late: 0 },
        ];
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date");
        let svg = monthly_svg("Sở <Tư pháp> & Co", d("2026-10-01"), d("2026-11-30"), &months);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Sở &lt;Tư pháp&gt; &amp; Co"));
        assert!(svg.contains("Tiếp nhận 2026-11: 5"));
        // received 5 of a ceiling of 5 fills the plot height.
        assert!(svg.contains(&format!("height=\"{}\"", HEIGHT - TOP - BOTTOM)));
    }
}
