//! Times the catalogue index alone over a set of searches, with no server around it:
//! `cargo run --release -p dvc-domain --example search_profile -- catalogue.tsv thesaurus.txt
//! search.txt [suggest.txt] [rounds]`.
//!
//! `catalogue.tsv` holds one procedure a line: code, name, result, field, tier and its agencies'
//! names joined by `|`, tab-separated, as PostgreSQL writes them with
//!
//! ```sql
//! COPY (SELECT p.code, p.name, coalesce(p.result, ''), coalesce(f.name, ''), p.tier,
//!   coalesce((SELECT string_agg(a.name, '|' ORDER BY a.name) FROM procedure_agencies pa
//!             JOIN agencies a ON a.id = pa.agency_id WHERE pa.procedure_id = p.id), '')
//! FROM procedures p LEFT JOIN fields f ON f.id = p.field_id ORDER BY p.code) TO STDOUT
//! ```
//!
//! `thesaurus.txt` is `api/seed/search-thesaurus.txt`; `search.txt` and `suggest.txt` are the
//! bench's paths (`scripts/bench_queries.py`). It prints the index's build time and the mean time
//! of a search and of a suggestion: the index's own cost, without HTTP, JSON or the other work of
//! a server beside it, and a digest of every page and every list of names found (two versions of
//! the index that answer alike print the same digests). With `PAGES=1` it prints each search's
//! page instead; with `SLOWEST=n` it also times each search and each prefix on its own (the mean
//! of five) and prints the percentiles of those times and the `n` slowest of each.

use std::time::Instant;

use dvc_domain::search::{thesaurus, Document, Index, Thesaurus};

const PER_PAGE: usize = 20;

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn documents(text: &str) -> Vec<Document> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let col = |i: usize| cols.get(i).copied().unwrap_or_default().to_string();
            Document {
                code: col(0),
                name: col(1),
                keywords: col(2),
                field: col(3),
                agencies: col(5).split('|').filter(|a| !a.is_empty()).map(str::to_string).collect(),
                facets: vec![format!("tier={}", col(4))],
            }
        })
        .collect()
}

/// A bench path's query: its text, its facets and the offset of its page.
fn query(path: &str) -> (String, Vec<String>, usize) {
    let params = path.split_once('?').map_or("", |p| p.1);
    let mut text = String::new();
    let mut facets = Vec::new();
    let mut offset = 0;
    for (k, v) in form_urlencoded::parse(params.as_bytes()) {
        match k.as_ref() {
            "q" => text = v.into_owned(),
            "tier" => facets.push(format!("tier={v}")),
            "page" => offset = (v.parse::<usize>().unwrap_or(1).max(1) - 1) * PER_PAGE,
            _ => {}
        }
    }
    (text, facets, offset)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [catalogue, words, searches, rest @ ..] = args.as_slice() else {
        eprintln!("usage: search_profile catalogue.tsv thesaurus.txt search.txt [suggest.txt] [rounds]");
        std::process::exit(2);
    };
    let docs = documents(&read(catalogue));
    let entries = thesaurus::parse(&read(words)).unwrap_or_else(|e| panic!("{words}: {}", e.message_en));
    let n = docs.len();
    let started = Instant::now();
    let index = Index::build(docs, Thesaurus::of(&entries));
    println!(
        "{n} procedures, built in {:.1} ms, {} KiB",
        started.elapsed().as_secs_f64() * 1e3,
        index.heap_bytes() / 1024
    );
    let rounds: usize = rest.get(1).and_then(|r| r.parse().ok()).unwrap_or(3);
    let queries: Vec<_> = read(searches).lines().filter(|l| !l.is_empty()).map(query).collect();
    if std::env::var("PAGES").is_ok() {
        for (text, facets, offset) in &queries {
            println!("{text} {facets:?} {offset} {:?}", index.search(text, facets, *offset, PER_PAGE).docs);
        }
        return;
    }
    let slowest: Option<usize> = std::env::var("SLOWEST").ok().and_then(|n| n.parse().ok());
    if let Some(n) = slowest {
        let each = queries.iter().map(|(text, facets, offset)| {
            let shown = format!("{text} {facets:?} page {}", offset / PER_PAGE + 1);
            (shown, time_each(|| index.search(text, facets, *offset, PER_PAGE).docs.len()))
        });
        print_slowest("search", each.collect(), n);
    }
    let mut found = 0usize;
    // What the pages held, in order: two variants of the index that rank alike print the same.
    let mut digest = 0u64;
    let started = Instant::now();
    for _ in 0..rounds {
        for (text, facets, offset) in &queries {
            let page = index.search(text, facets, *offset, PER_PAGE);
            found += page.docs.len();
            for d in page.docs {
                digest = digest.rotate_left(5) ^ d as u64;
            }
        }
    }
    let each = started.elapsed().as_secs_f64() * 1e6 / (rounds * queries.len()) as f64;
    println!("search: {} queries x {rounds}, {each:.1} us each, {found} items, digest {digest:016x}", queries.len());
    if let Some(path) = rest.first() {
        let prefixes: Vec<String> = read(path).lines().filter(|l| !l.is_empty()).map(|l| query(l).0).collect();
        let mut offered = 0usize;
        let mut digest = 0u64;
        let started = Instant::now();
        for _ in 0..rounds {
            for text in &prefixes {
                let names = index.suggest(text, 10);
                offered += names.len();
                for d in names {
                    digest = digest.rotate_left(5) ^ d as u64;
                }
            }
        }
        let each = started.elapsed().as_secs_f64() * 1e6 / (rounds * prefixes.len()) as f64;
        if let Some(n) = slowest {
            let each = prefixes.iter().map(|text| (text.clone(), time_each(|| index.suggest(text, 10).len())));
            print_slowest("suggest", each.collect(), n);
        }
        println!(
            "suggest: {} prefixes x {rounds}, {each:.1} us each, {offered} names, digest {digest:016x}",
            prefixes.len()
        );
    }
}

/// The mean time of five calls, in microseconds.
fn time_each(mut call: impl FnMut() -> usize) -> f64 {
    const TIMES: u32 = 5;
    let started = Instant::now();
    for _ in 0..TIMES {
        std::hint::black_box(call());
    }
    started.elapsed().as_secs_f64() * 1e6 / f64::from(TIMES)
}

/// The percentiles of the times of single calls, and the `n` slowest.
fn print_slowest(what: &str, mut times: Vec<(String, f64)>, n: usize) {
    if times.is_empty() {
        return;
    }
    times.sort_by(|a, b| a.1.total_cmp(&b.1));
    let percentile = |p: f64| times[((times.len() as f64 * p / 100.0) as usize).min(times.len() - 1)].1;
    println!(
        "{what}, one at a time: p50 {:.1} us, p90 {:.1}, p99 {:.1}, max {:.1}",
        percentile(50.0),
        percentile(90.0),
        percentile(99.0),
        percentile(100.0)
    );
    for (shown, us) in times.iter().rev().take(n) {
        println!("  {us:8.1} us  {shown}");
    }
}
