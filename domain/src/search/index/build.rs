//! How the index is built from the catalogue's procedures: the vocabulary, each word's and each
//! name bigram's procedures with their BM25F scores, the orders procedures are read in, the
//! facets, and the forms one typing error away.

use super::*;

impl Index {
    /// The index of these procedures, with this thesaurus. The documents are consumed as they
    /// are used, so that the build holds little more than the index it makes.
    pub fn build(mut docs: Vec<Document>, thesaurus: Thesaurus) -> Self {
        let n = docs.len();
        let mut facets: HashMap<String, Bits> = HashMap::new();
        for (doc, d) in docs.iter_mut().enumerate() {
            for facet in std::mem::take(&mut d.facets) {
                facets.entry(facet).or_insert_with(|| Bits::empty(n)).insert(doc as u32);
            }
        }
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut texts: Vec<String> = Vec::new();
        let mut written: Vec<HashMap<String, u32>> = Vec::new();
        // First pass: the vocabulary, each field's length, and by word how many procedures hold
        // it (and how many in their name).
        let mut lengths: Vec<[u16; FIELDS]> = Vec::with_capacity(n);
        let mut names: Vec<Box<[u32]>> = Vec::with_capacity(n);
        let mut df: Vec<u32> = Vec::new();
        let mut name_df: Vec<u32> = Vec::new();
        let mut seen: Vec<(u32, u8)> = Vec::new();
        for d in &docs {
            let mut name = Vec::new();
            let len = occurrences(d, &mut seen, |word, as_written| {
                let id = match ids.get(word) {
                    Some(&id) => id,
                    None => {
                        let id = texts.len() as u32;
                        ids.insert(word.to_string(), id);
                        texts.push(word.to_string());
                        df.push(0);
                        name_df.push(0);
                        written.push(HashMap::new());
                        id
                    }
                };
                if let Some(as_written) = as_written {
                    *written[id as usize].entry(as_written).or_default() += 1;
                    name.push(id);
                }
                id
            });
            let mut last = None;
            for &(id, f) in &seen {
                if last != Some(id) {
                    df[id as usize] += 1;
                    // A word's first occurrence is in the name if any is (the name is field 0).
                    if f as usize == NAME {
                        name_df[id as usize] += 1;
                    }
                    last = Some(id);
                }
            }
            lengths.push(len);
            names.push(name.into_boxed_slice());
        }
        let mut average = [0f32; FIELDS];
        for len in &lengths {
            for f in 0..FIELDS {
                average[f] += f32::from(len[f]);
            }
        }
        for a in &mut average {
            *a = if n == 0 || *a == 0.0 { 1.0 } else { *a / n as f32 };
        }
        let norm = |doc: usize, f: usize| 1.0 - B + B * f32::from(lengths[doc][f]) / average[f];
        let words_count = texts.len();
        let mut terms: Vec<Term> = (0..words_count)
            .map(|id| Term {
                postings: Vec::with_capacity(df[id] as usize),
                in_name: Vec::with_capacity(name_df[id] as usize),
                ..Term::default()
            })
            .collect();
        drop(name_df);
        // Second pass: each word's score in each procedure, from its count in each field.
        let mut name_chars: Vec<usize> = Vec::with_capacity(n);
        let mut codes: Vec<String> = Vec::with_capacity(n);
        for (doc, d) in docs.iter_mut().enumerate() {
            occurrences(d, &mut seen, |word, _| ids.get(word).copied().unwrap_or_default());
            name_chars.push(d.name.chars().count());
            codes.push(std::mem::take(&mut d.code));
            let mut i = 0;
            while i < seen.len() {
                let id = seen[i].0;
                let mut c = [0u16; FIELDS];
                while i < seen.len() && seen[i].0 == id {
                    let f = seen[i].1 as usize;
                    c[f] = c[f].saturating_add(1);
                    i += 1;
                }
                let mut weighted = 0f32;
                for f in 0..FIELDS {
                    if c[f] > 0 {
                        weighted += WEIGHTS[f] * f32::from(c[f]) / norm(doc, f);
                    }
                }
                let score = idf(n, df[id as usize] as usize) * weighted / (K1 + weighted);
                let term = &mut terms[id as usize];
                term.postings.push((doc as u32, score));
                if c[NAME] > 0 {
                    term.in_name.push(doc as u32);
                }
            }
        }
        drop(docs);
        drop(seen);
        // Name bigrams: terms of the name field alone.
        let mut bigrams: HashMap<(u32, u32), u32> = HashMap::new();
        let mut bigram_docs: Vec<Vec<(u32, u16)>> = Vec::new();
        for (doc, name) in names.iter().enumerate() {
            for pair in name.windows(2) {
                let next = (words_count + bigram_docs.len()) as u32;
                let id = *bigrams.entry((pair[0], pair[1])).or_insert(next);
                if id == next {
                    bigram_docs.push(Vec::new());
                }
                let list = &mut bigram_docs[id as usize - words_count];
                match list.last_mut() {
                    Some((d, c)) if *d == doc as u32 => *c += 1,
                    _ => list.push((doc as u32, 1)),
                }
            }
        }
        for list in bigram_docs {
            let bigram_idf = idf(n, list.len());
            let postings = list
                .into_iter()
                .map(|(doc, c)| {
                    let weighted = WEIGHTS[NAME] * f32::from(c) / norm(doc as usize, NAME);
                    (doc, SIDE_BY_SIDE * bigram_idf * weighted / (K1 + weighted))
                })
                .collect();
            terms.push(Term { postings, ..Term::default() });
        }
        let mut starts = vec![0u32; n + 1];
        for term in &terms {
            for &(d, _) in &term.postings {
                starts[d as usize + 1] += 1;
            }
        }
        for d in 0..n {
            starts[d + 1] += starts[d];
        }
        let mut forward = vec![(0u32, 0f32); starts[n] as usize];
        let mut next: Vec<u32> = starts[..n].to_vec();
        for (id, term) in terms.iter().enumerate() {
            for &(d, s) in &term.postings {
                forward[next[d as usize] as usize] = (id as u32, s);
                next[d as usize] += 1;
            }
        }
        let mut by_rank: Vec<u32> = (0..n as u32).collect();
        by_rank.sort_by(|&a, &b| {
            let (a, b) = (a as usize, b as usize);
            name_chars[a].cmp(&name_chars[b]).then_with(|| codes[a].cmp(&codes[b]))
        });
        let mut rank = vec![0u32; n];
        for (place, &doc) in by_rank.iter().enumerate() {
            rank[doc as usize] = place as u32;
        }
        for term in &mut terms {
            let mut best = std::mem::take(&mut term.postings);
            if n > 0 && best.len() >= (n / BITS_SHARE).max(64) {
                term.bits = Some(Bits::of(n, best.iter().map(|p| p.0)));
            }
            best.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| rank[a.0 as usize].cmp(&rank[b.0 as usize])));
            // Collected from a borrow: collected in place, the list would keep the pairs' room.
            term.best_first = best.iter().map(|&(d, _)| d).collect();
            term.best_scores = best.iter().map(|&(_, s)| s).collect();
            if n > 0 && term.in_name.len() >= (n / BITS_SHARE).max(64) {
                term.in_name_bits = Some(Bits::of(n, term.in_name.iter().copied()));
            }
        }
        let vocabulary: Vec<Word> = texts
            .into_iter()
            .enumerate()
            .map(|(id, text)| {
                let written = written[id]
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
                    .map(|(w, _)| w.clone())
                    .unwrap_or_else(|| text.clone());
                Word { text, written, docs: df[id], idf: idf(n, df[id] as usize) }
            })
            .collect();
        let mut whole_names: HashMap<Box<[u32]>, Vec<u32>> = HashMap::new();
        let mut name_ids = Vec::with_capacity(n);
        for (doc, name) in names.iter().enumerate() {
            let list = whole_names.entry(name.clone()).or_default();
            list.push(doc as u32);
            name_ids.push(0);
        }
        let mut distinct: HashMap<&[u32], u32> = HashMap::new();
        for (doc, name) in names.iter().enumerate() {
            let next = distinct.len() as u32;
            name_ids[doc] = *distinct.entry(name).or_insert(next);
        }
        let mut by_code: Vec<u32> = (0..n as u32).collect();
        by_code.sort_by(|&a, &b| codes[a as usize].cmp(&codes[b as usize]));
        let mut near: HashMap<String, Vec<u32>> = HashMap::new();
        for (id, w) in vocabulary.iter().enumerate() {
            // Codes (`1.001193`) are not words one mistypes into another: a code one letter off is
            // another procedure's.
            if w.text.chars().count() >= 2 && !is_code(&w.text) {
                for shorter in deletions(&w.text) {
                    let list = near.entry(shorter).or_default();
                    if !list.contains(&(id as u32)) {
                        list.push(id as u32);
                    }
                }
            }
        }
        let mut code_words: Vec<u32> =
            codes.iter().flat_map(|c| words(c)).filter_map(|w| ids.get(&w).copied()).collect();
        code_words.sort_by(|&a, &b| vocabulary[a as usize].text.cmp(&vocabulary[b as usize].text));
        code_words.dedup();
        let mut name_words: Vec<u32> =
            (0..vocabulary.len() as u32).filter(|&id| !terms[id as usize].in_name.is_empty()).collect();
        name_words.sort_by(|&a, &b| vocabulary[a as usize].text.cmp(&vocabulary[b as usize].text));
        let mut name_word_places = vec![u32::MAX; vocabulary.len()];
        for (place, &id) in name_words.iter().enumerate() {
            name_word_places[id as usize] = place as u32;
        }
        let mut name_starts = Vec::with_capacity(n + 1);
        name_starts.push(0u32);
        for name in &names {
            name_starts.push(name_starts[name_starts.len() - 1] + name.len() as u32);
        }
        let name_text = names.concat();
        let lead_places = names
            .iter()
            .map(|name| {
                let place = |i: usize| name.get(i).map_or(u32::MAX, |&w| name_word_places[w as usize]);
                [place(0), place(1)]
            })
            .collect();
        Index {
            n,
            ids,
            vocabulary,
            bigrams,
            terms,
            forward,
            starts,
            name_text,
            name_starts,
            name_ids,
            lead_places,
            whole_names,
            by_rank,
            rank,
            by_code,
            facets,
            near,
            name_words,
            name_word_places,
            code_words,
            thesaurus,
            unknown_idf: idf(n, 1),
        }
    }
}

/// The words of a procedure's fields as `(word, field)`, sorted, into `seen`, each word given
/// its id by `id_of` (with its written form for the words of the name); and each field's length.
fn occurrences(
    d: &Document,
    seen: &mut Vec<(u32, u8)>,
    mut id_of: impl FnMut(&str, Option<String>) -> u32,
) -> [u16; FIELDS] {
    seen.clear();
    let mut len = [0u16; FIELDS];
    let mut name_words = 0usize;
    for (word, as_written) in written_words(&d.name) {
        seen.push((id_of(&word, Some(as_written)), NAME as u8));
        name_words += 1;
    }
    len[NAME] = name_words.min(u16::MAX as usize) as u16;
    let agencies = d.agencies.join(" ");
    for (f, text) in [(CODE, d.code.as_str()), (KEYWORDS, &d.keywords), (FIELD, &d.field), (AGENCY, &agencies)] {
        let ws = words(text);
        len[f] = ws.len().min(u16::MAX as usize) as u16;
        for w in ws {
            seen.push((id_of(&w, None), f as u8));
        }
    }
    seen.sort_unstable();
    len
}
