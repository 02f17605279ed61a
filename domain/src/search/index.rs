//! The ranked index of the catalogue's procedures.
//!
//! A query is read into clauses: a phrase of the thesaurus with what it also finds, a word that
//! carries no meaning (which need not match), or one word with the words one typing error away
//! (for words of five letters or more the catalogue does not know). A procedure matches a clause
//! when all the words of one of its alternatives appear in it. It is found when the clauses it
//! matches carry at least half the query's weight (a word weighs its rarity), so a query about
//! nothing in the catalogue finds nothing; it ranks by BM25F over its name, code, keywords, field
//! and agencies (name and code weighted highest), plus the query's words side by side in its name
//! (name bigrams are terms of their own) and the name itself.
//!
//! What a query finds is counted with one bit per procedure; only the best of it is scored, by
//! the threshold algorithm over lists of each term's procedures best first: a page costs about
//! the same however many procedures match. Once a page's worth is scored, a term that no
//! procedure could lack and still beat the worst of them becomes required, and the procedures
//! without it leave the running (their lists skip them), so the lists' bounds fall faster.

use std::borrow::Cow;
use std::collections::HashMap;

use super::analyze::{deletions, distance, one_typo_apart, words, written_words};
use super::bits::Bits;
use super::thesaurus::Thesaurus;

mod build;

/// What the index knows of one procedure.
#[derive(Debug, Clone, Default)]
pub struct Document {
    pub code: String,
    pub name: String,
    /// What else names it (such as the result it gives).
    pub keywords: String,
    /// The name of its field.
    pub field: String,
    /// The names of the agencies that handle it.
    pub agencies: Vec<String>,
    /// What lists filter it by, each as `name=value` (`tier=province`, `agency=H26.00070`).
    pub facets: Vec<String>,
}

const NAME: usize = 0;
const CODE: usize = 1;
const KEYWORDS: usize = 2;
const FIELD: usize = 3;
const AGENCY: usize = 4;
const FIELDS: usize = 5;
/// How much a word counts in each field.
const WEIGHTS: [f32; FIELDS] = [3.0, 4.0, 1.5, 1.0, 0.5];
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// What a match through the thesaurus, or through a typing error, counts against the words typed.
const THESAURUS_MATCH: f32 = 0.9;
const TYPO_MATCH: f32 = 0.7;
/// What a word without meaning in a query counts when it does match.
const STOP_MATCH: f32 = 0.3;
/// What two words of the query side by side in the name count, against their BM25 score.
const SIDE_BY_SIDE: f32 = 1.0;
/// Bonus for a name that is the query itself.
const WHOLE_NAME: f32 = 3.0;
/// The share of the query's weight a procedure must match.
const FLOOR: f32 = 0.5;
/// Typing errors are forgiven in words this long or longer.
pub const TYPO_MIN_CHARS: usize = 5;
/// Codes a query's start of a code finds at most.
pub const CODE_PREFIXES: usize = 200;
/// Words of a query read (the rest are ignored).
pub const MAX_QUERY_WORDS: usize = 16;
/// Terms held by at least this share of the procedures keep a bit set of them.
const BITS_SHARE: usize = 64;
/// The threshold algorithm reads this many entries of each list per round.
const ROUND: usize = 16;

struct Word {
    text: String,
    /// How the catalogue most often writes it (with its marks).
    written: String,
    /// How many procedures hold it.
    docs: u32,
    /// Its rarity (BM25's inverse document frequency).
    idf: f32,
}

/// A word or a name bigram, with the procedures that hold it.
#[derive(Default)]
struct Term {
    /// While the index is built: by procedure, ascending, with the term's score in each.
    postings: Vec<(u32, f32)>,
    /// The procedures, best score first (then shorter name, then code).
    best_first: Vec<u32>,
    bits: Option<Bits>,
    /// For words: the procedures whose name holds it, ascending.
    in_name: Vec<u32>,
    in_name_bits: Option<Bits>,
}

/// The index; build it once per catalogue version, query it from any thread.
pub struct Index {
    n: usize,
    ids: HashMap<String, u32>,
    vocabulary: Vec<Word>,
    bigrams: HashMap<(u32, u32), u32>,
    /// Words first (a word's term is its id), then name bigrams.
    terms: Vec<Term>,
    /// Each procedure's terms (ascending) with their scores: procedure `d` holds
    /// `forward[starts[d]..starts[d + 1]]`.
    forward: Vec<(u32, f32)>,
    starts: Vec<u32>,
    /// By procedure: its name's words, and which distinct name it has.
    names: Vec<Box<[u32]>>,
    name_ids: Vec<u32>,
    whole_names: HashMap<Box<[u32]>, Vec<u32>>,
    /// Procedures shorter names first, then by code; and each procedure's place in that order.
    by_rank: Vec<u32>,
    rank: Vec<u32>,
    /// Procedures by code.
    by_code: Vec<u32>,
    facets: HashMap<String, Bits>,
    /// Words by each of their one-letter-shorter forms (for the typing errors).
    near: HashMap<String, Vec<u32>>,
    /// Words of names, alphabetically (for prefixes), and each word's place there.
    name_words: Vec<u32>,
    name_word_places: Vec<u32>,
    /// Codes' words, alphabetically (for the start of a code, `1.0011`).
    code_words: Vec<u32>,
    thesaurus: Thesaurus,
    /// The rarity of a word no procedure holds.
    unknown_idf: f32,
}

/// One way a clause can be matched: all these words, counting this much.
#[derive(Debug, Clone)]
struct Alternative {
    words: Vec<u32>,
    counts: f32,
}

#[derive(Debug, Clone)]
struct Clause {
    typed: Vec<String>,
    alternatives: Vec<Alternative>,
    optional: bool,
    weight: f32,
}

/// A page of what a query found, and how many it found in all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Found {
    /// Positions of the procedures in the documents the index was built from.
    pub docs: Vec<usize>,
    pub total: usize,
}

/// Whether a word is (the start of) a code, such as `1.001193` or `syn.000001`.
fn is_code(word: &str) -> bool {
    word.contains('.')
}

fn idf(n: usize, df: usize) -> f32 {
    (1.0 + (n as f32 - df as f32 + 0.5) / (df as f32 + 0.5)).ln()
}

/// A query made ready to score procedures.
struct Query {
    clauses: Vec<Clause>,
    /// The name bigrams of what was meant, as terms.
    bigrams: Vec<u32>,
    /// Procedures whose name is the query.
    wholes: Vec<u32>,
    needed: f32,
}

impl Index {
    /// How many procedures it holds.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// About how many bytes it holds on the heap.
    pub fn heap_bytes(&self) -> usize {
        let terms: usize = self
            .terms
            .iter()
            .map(|t| {
                t.best_first.len() * 4
                    + t.in_name.len() * 4
                    + t.bits.as_ref().map_or(0, Bits::bytes)
                    + t.in_name_bits.as_ref().map_or(0, Bits::bytes)
            })
            .sum();
        let names: usize = self.names.iter().map(|n| n.len() * 8 + 16).sum();
        terms + self.forward.len() * 8 + 2 * names + self.facets.values().map(Bits::bytes).sum::<usize>() + self.n * 12
    }

    fn id(&self, word: &str) -> Option<u32> {
        self.ids.get(word).copied()
    }

    /// The term's score in a procedure, if it holds the term.
    fn score(&self, term: u32, doc: u32) -> Option<f32> {
        let own = &self.forward[self.starts[doc as usize] as usize..self.starts[doc as usize + 1] as usize];
        own.binary_search_by_key(&term, |p| p.0).ok().map(|i| own[i].1)
    }

    fn term_bits(&self, term: u32) -> Cow<'_, Bits> {
        let t = &self.terms[term as usize];
        match &t.bits {
            Some(bits) => Cow::Borrowed(bits),
            None => Cow::Owned(Bits::of(self.n, t.best_first.iter().copied())),
        }
    }

    fn name_bits(&self, word: u32) -> Cow<'_, Bits> {
        let t = &self.terms[word as usize];
        match &t.in_name_bits {
            Some(bits) => Cow::Borrowed(bits),
            None => Cow::Owned(Bits::of(self.n, t.in_name.iter().copied())),
        }
    }

    /// The procedures a filter keeps (every facet named), or `None` for no filter.
    fn filter_bits(&self, filter: &[String]) -> Option<Bits> {
        let mut kept: Option<Bits> = None;
        for facet in filter {
            let bits = self.facets.get(facet).cloned().unwrap_or_else(|| Bits::empty(self.n));
            match &mut kept {
                Some(k) => k.and(&bits),
                None => kept = Some(bits),
            }
        }
        kept
    }

    /// The words one typing error from `word`, if the catalogue does not know it, it is long
    /// enough for the rule and it is not a code.
    fn typo_alternatives(&self, word: &str) -> Vec<u32> {
        if self.id(word).is_some() || word.chars().count() < TYPO_MIN_CHARS || is_code(word) {
            return Vec::new();
        }
        let mut found: Vec<u32> = Vec::new();
        let consider = |id: u32, found: &mut Vec<u32>| {
            if !found.contains(&id) && one_typo_apart(word, &self.vocabulary[id as usize].text) {
                found.push(id);
            }
        };
        // A letter missing from what was typed.
        for &id in self.near.get(word).into_iter().flatten() {
            consider(id, &mut found);
        }
        for shorter in deletions(word) {
            // A letter too many (doubled).
            if let Some(id) = self.id(&shorter) {
                consider(id, &mut found);
            }
            // Two letters swapped.
            for &id in self.near.get(&shorter).into_iter().flatten() {
                consider(id, &mut found);
            }
        }
        found.sort_by_key(|&id| std::cmp::Reverse(self.vocabulary[id as usize].docs));
        found
    }

    /// The codes a word not in the catalogue is the start of, when it looks like one (`1.0011`,
    /// `syn.0000`): at most [`CODE_PREFIXES`].
    fn codes_starting(&self, word: &str) -> Vec<u32> {
        if self.id(word).is_some() || !is_code(word) || word.len() < 3 {
            return Vec::new();
        }
        let text = |id: u32| self.vocabulary[id as usize].text.as_str();
        let start = self.code_words.partition_point(|&id| text(id) < word);
        self.code_words[start..]
            .iter()
            .copied()
            .take_while(|&id| text(id).starts_with(word))
            .take(CODE_PREFIXES)
            .collect()
    }

    fn alternative(&self, phrase: &[String], counts: f32) -> Option<Alternative> {
        let words = phrase.iter().map(|w| self.id(w)).collect::<Option<Vec<u32>>>()?;
        Some(Alternative { words, counts })
    }

    /// How much a phrase weighs: the rarity of its words (a word no procedure holds counts as
    /// one that a single procedure holds).
    fn phrase_weight(&self, phrase: &[String]) -> f32 {
        phrase.iter().map(|w| self.id(w).map_or(self.unknown_idf, |id| self.vocabulary[id as usize].idf)).sum()
    }

    /// Reads a query into clauses.
    fn plan(&self, query: &[String]) -> Vec<Clause> {
        let mut clauses: Vec<Clause> = Vec::new();
        let mut i = 0;
        while i < query.len() {
            let rest = &query[i..];
            let rule = self.thesaurus.rules.iter().find(|(term, _)| rest.starts_with(term));
            let stop = self.thesaurus.stop.iter().find(|p| rest.starts_with(p));
            let clause = match (rule, stop) {
                (Some((term, others)), stop) if stop.is_none_or(|s| term.len() >= s.len()) => {
                    let mut alternatives: Vec<Alternative> = self.alternative(term, 1.0).into_iter().collect();
                    alternatives.extend(others.iter().filter_map(|o| self.alternative(o, THESAURUS_MATCH)));
                    let weight = std::iter::once(term)
                        .chain(others)
                        .map(|p| self.phrase_weight(p))
                        .fold(f32::INFINITY, f32::min);
                    Clause { typed: term.clone(), alternatives, optional: false, weight }
                }
                (_, Some(stop)) => Clause {
                    typed: stop.clone(),
                    alternatives: self.alternative(stop, STOP_MATCH).into_iter().collect(),
                    optional: true,
                    weight: self.phrase_weight(stop),
                },
                _ => {
                    let word = &rest[0];
                    let typed = vec![word.clone()];
                    let mut alternatives: Vec<Alternative> = self.alternative(&typed, 1.0).into_iter().collect();
                    let typos = self.typo_alternatives(word);
                    let mut weight = self.phrase_weight(&typed);
                    for id in self.codes_starting(word) {
                        weight = weight.min(self.vocabulary[id as usize].idf);
                        alternatives.push(Alternative { words: vec![id], counts: 1.0 });
                    }
                    for id in typos {
                        weight = weight.min(self.vocabulary[id as usize].idf);
                        alternatives.push(Alternative { words: vec![id], counts: TYPO_MATCH });
                    }
                    Clause { typed, alternatives, optional: false, weight }
                }
            };
            i += clause.typed.len().max(1);
            if !clauses.iter().any(|c| c.typed == clause.typed) {
                clauses.push(clause);
            }
        }
        // A query of nothing but such words means them.
        if clauses.iter().all(|c| c.optional) {
            for c in &mut clauses {
                c.optional = false;
                for a in &mut c.alternatives {
                    a.counts = 1.0;
                }
            }
        }
        clauses
    }

    fn prepare(&self, query: &[String]) -> Query {
        let clauses = self.plan(query);
        let needed = clauses.iter().filter(|c| !c.optional).map(|c| c.weight).sum();
        // The words as meant, in order: each clause by its first alternative that the catalogue
        // knows (what was typed, or what a typing error meant).
        let meant: Vec<u32> =
            clauses.iter().filter_map(|c| c.alternatives.first()).flat_map(|a| a.words.clone()).collect();
        let mut bigrams: Vec<u32> = Vec::new();
        let phrases =
            std::iter::once(&meant).chain(clauses.iter().flat_map(|c| c.alternatives.iter().skip(1).map(|a| &a.words)));
        for phrase in phrases {
            for pair in phrase.windows(2) {
                if let Some(&t) = self.bigrams.get(&(pair[0], pair[1])) {
                    if !bigrams.contains(&t) {
                        bigrams.push(t);
                    }
                }
            }
        }
        let content: Vec<u32> = clauses
            .iter()
            .filter(|c| !c.optional)
            .filter_map(|c| c.alternatives.first())
            .flat_map(|a| a.words.clone())
            .collect();
        let mut whole: Vec<Vec<u32>> = vec![meant, content];
        if let [only] = clauses.as_slice() {
            whole.extend(only.alternatives.iter().map(|a| a.words.clone()));
        }
        let mut wholes: Vec<u32> =
            whole.iter().flat_map(|w| self.whole_names.get(w.as_slice()).into_iter().flatten().copied()).collect();
        wholes.sort_unstable();
        wholes.dedup();
        Query { clauses, bigrams, wholes, needed }
    }

    fn clause_bits(&self, clause: &Clause) -> Bits {
        let mut bits = Bits::empty(self.n);
        for alt in &clause.alternatives {
            let mut words = alt.words.iter();
            let Some(&first) = words.next() else { continue };
            if alt.words.len() == 1 {
                bits.or(&self.term_bits(first));
                continue;
            }
            let mut all = self.term_bits(first).into_owned();
            for &w in words {
                all.and(&self.term_bits(w));
            }
            bits.or(&all);
        }
        bits
    }

    /// Every procedure the query finds: those whose matched clauses carry the floor's share of
    /// its weight.
    fn found_bits(&self, q: &Query) -> Bits {
        let mut required: Vec<(f32, Bits)> =
            q.clauses.iter().filter(|c| !c.optional).map(|c| (c.weight, self.clause_bits(c))).collect();
        required.sort_by(|a, b| b.0.total_cmp(&a.0));
        let threshold = FLOOR * q.needed * (1.0 - 1e-6);
        // The sets of clauses heavy enough: what a procedure must match all of one of.
        let weights: Vec<f32> = required.iter().map(|r| r.0).collect();
        let mut rest: Vec<f32> = vec![0.0; weights.len() + 1];
        for i in (0..weights.len()).rev() {
            rest[i] = rest[i + 1] + weights[i];
        }
        let mut sets: Vec<Vec<usize>> = Vec::new();
        let mut stack: Vec<(usize, f32, Vec<usize>)> = vec![(0, 0.0, Vec::new())];
        while let Some((i, sum, chosen)) = stack.pop() {
            if sets.len() > 64 {
                break;
            }
            if sum >= threshold && !chosen.is_empty() {
                sets.push(chosen);
                continue;
            }
            if i == weights.len() || sum + rest[i] < threshold {
                continue;
            }
            stack.push((i + 1, sum, chosen.clone()));
            let mut with = chosen;
            with.push(i);
            stack.push((i + 1, sum + weights[i], with));
        }
        let mut found = Bits::empty(self.n);
        if sets.len() <= 64 {
            for set in sets {
                let mut all = required[set[0]].1.clone();
                for &i in &set[1..] {
                    all.and(&required[i].1);
                }
                found.or(&all);
            }
        } else {
            // Too many ways to reach the floor: weigh each procedure that matches any clause.
            let mut any = Bits::empty(self.n);
            for r in &required {
                any.or(&r.1);
            }
            for doc in any.iter() {
                let sum: f32 = required.iter().filter(|r| r.1.contains(doc)).map(|r| r.0).sum();
                if sum >= threshold {
                    found.insert(doc);
                }
            }
        }
        found
    }

    /// A procedure's score for a query it matches.
    fn full_score(&self, q: &Query, doc: u32) -> f32 {
        let mut score = 0f32;
        let mut matched = 0f32;
        for clause in &q.clauses {
            let mut best = 0f32;
            for alt in &clause.alternatives {
                let mut sum = 0f32;
                let mut all = true;
                for &w in &alt.words {
                    match self.score(w, doc) {
                        Some(s) => sum += s,
                        None => {
                            all = false;
                            break;
                        }
                    }
                }
                if all {
                    best = best.max(sum * alt.counts);
                }
            }
            if best > 0.0 {
                score += best;
                if !clause.optional {
                    matched += clause.weight;
                }
            }
        }
        for &b in &q.bigrams {
            score += self.score(b, doc).unwrap_or(0.0);
        }
        if q.wholes.binary_search(&doc).is_ok() {
            score += WHOLE_NAME;
        }
        score * (matched / q.needed).min(1.0)
    }

    /// What a query finds among what a filter keeps, uncounted and unscored.
    fn found(&self, query: &[String], filter: &[String]) -> Option<(Query, Bits)> {
        let q = self.prepare(query);
        if q.needed <= 0.0 {
            return None;
        }
        let mut found = self.found_bits(&q);
        if let Some(kept) = self.filter_bits(filter) {
            found.and(&kept);
        }
        Some((q, found))
    }

    /// A page of the procedures a query finds, best first, among those every facet of `filter`
    /// names; with no words, every procedure the filter keeps, by code.
    pub fn search(&self, query: &str, filter: &[String], offset: usize, limit: usize) -> Found {
        let mut query = words(query);
        query.truncate(MAX_QUERY_WORDS);
        if query.is_empty() {
            let kept = self.filter_bits(filter);
            let keeps = |d: u32| kept.as_ref().is_none_or(|k| k.contains(d));
            let total = kept.as_ref().map_or(self.n, Bits::count);
            let docs = self.by_code.iter().copied().filter(|&d| keeps(d)).skip(offset).take(limit);
            return Found { docs: docs.map(|d| d as usize).collect(), total };
        }
        let Some((q, found)) = self.found(&query, filter) else {
            return Found::default();
        };
        let total = found.count();
        let wanted = offset.saturating_add(limit).min(total);
        if wanted == 0 || offset >= total {
            return Found { docs: Vec::new(), total };
        }
        let mut best = if total <= 64 || wanted * 2 >= total {
            let mut all: Vec<Hit> = found.iter().map(|doc| self.hit(&q, doc)).collect();
            let order = |a: &Hit, b: &Hit| a.cmp(b);
            if wanted < all.len() {
                all.select_nth_unstable_by(wanted - 1, order);
                all.truncate(wanted);
            }
            all
        } else {
            self.threshold(&q, &found, wanted)
        };
        best.sort_unstable();
        Found { docs: best.into_iter().skip(offset).take(limit).map(|h| h.doc as usize).collect(), total }
    }

    fn hit(&self, q: &Query, doc: u32) -> Hit {
        Hit { score: self.full_score(q, doc), rank: self.rank[doc as usize], doc }
    }

    /// The `wanted` best procedures of `found` by the threshold algorithm: read the procedures
    /// of each term of the query best first, score each new one in full, and stop when no
    /// procedure not yet read can beat the `wanted`-th best.
    fn threshold(&self, q: &Query, found: &Bits, wanted: usize) -> Vec<Hit> {
        // One list per alternative, of its rarest word (a procedure without it cannot match the
        // alternative), and one per bigram.
        let driver = |a: &Alternative| a.words.iter().copied().min_by_key(|&w| self.terms[w as usize].best_first.len());
        let mut terms: Vec<u32> = q.clauses.iter().flat_map(|c| c.alternatives.iter().filter_map(driver)).collect();
        terms.extend(&q.bigrams);
        terms.sort_unstable();
        terms.dedup();
        let lists: Vec<&[u32]> = terms.iter().map(|&t| self.terms[t as usize].best_first.as_slice()).collect();
        let mut at = vec![0usize; terms.len()];
        // The most a word without a list of its own can add: its best score anywhere.
        let top = |t: u32| self.terms[t as usize].best_first.first().and_then(|&d| self.score(t, d)).unwrap_or(0.0);
        // What a procedure not read yet can score at most from each list (set by `settle`).
        let mut frontier = vec![0f32; terms.len()];
        let place = |t: u32| terms.binary_search(&t).ok();
        let places: Vec<Vec<Vec<Result<usize, f32>>>> = q
            .clauses
            .iter()
            .map(|c| {
                c.alternatives
                    .iter()
                    .map(|a| a.words.iter().map(|&w| place(w).ok_or_else(|| top(w))).collect())
                    .collect()
            })
            .collect();
        let bigram_places: Vec<usize> = q.bigrams.iter().filter_map(|&b| place(b)).collect();
        // The most a procedure not read yet can score when it is in none of the lists `absent`
        // marks: each clause by its best alternative (none if it needs a word such a procedure
        // lacks), and the bigrams. Scores of procedures not read may round differently: a margin.
        let bound = |frontier: &[f32], absent: &[bool]| {
            let most = |i: usize| if absent[i] { 0.0 } else { frontier[i] };
            let mut bound: f32 = bigram_places.iter().map(|&i| most(i)).sum();
            for (clause, places) in q.clauses.iter().zip(&places) {
                let mut best = 0f32;
                for (alt, at) in clause.alternatives.iter().zip(places) {
                    let mut sum = 0f32;
                    for &i in at {
                        let most = match i {
                            Ok(i) => most(i),
                            Err(top) => top,
                        };
                        // A list spent: no procedure left unread holds that word.
                        if most == 0.0 {
                            sum = 0.0;
                            break;
                        }
                        sum += most;
                    }
                    best = best.max(alt.counts * sum);
                }
                bound += best;
            }
            bound * (1.0 + 1e-5)
        };
        let mut seen = Bits::empty(self.n);
        let mut heap: std::collections::BinaryHeap<Hit> = std::collections::BinaryHeap::with_capacity(wanted + 1);
        let mut consider = |doc: u32, heap: &mut std::collections::BinaryHeap<Hit>| {
            if !seen.contains(doc) {
                seen.insert(doc);
                let hit = self.hit(q, doc);
                if heap.len() < wanted {
                    heap.push(hit);
                } else if heap.peek().is_some_and(|worst| hit < *worst) {
                    heap.pop();
                    heap.push(hit);
                }
            }
        };
        for &doc in &q.wholes {
            if found.contains(doc) {
                consider(doc, &mut heap);
            }
        }
        // The procedures still in the running: those found that hold every term no procedure
        // can do without any more (narrowed as the worst of the best rises).
        let mut running: Cow<'_, Bits> = Cow::Borrowed(found);
        // Each list to the next procedure it would give (only those still running count), and
        // what that one scores.
        let settle = |at: &mut [usize], frontier: &mut [f32], running: &Bits| {
            for (i, list) in lists.iter().enumerate() {
                while at[i] < list.len() && !running.contains(list[at[i]]) {
                    at[i] += 1;
                }
                frontier[i] = list.get(at[i]).and_then(|&d| self.score(terms[i], d)).unwrap_or(0.0);
            }
        };
        let mut required = vec![false; terms.len()];
        let mut absent = vec![false; terms.len()];
        loop {
            let mut moved = false;
            for (i, list) in lists.iter().enumerate() {
                let mut read = 0;
                while at[i] < list.len() && read < ROUND {
                    let doc = list[at[i]];
                    at[i] += 1;
                    if running.contains(doc) {
                        consider(doc, &mut heap);
                        read += 1;
                    }
                }
                moved |= read > 0;
            }
            if !moved {
                break;
            }
            settle(&mut at, &mut frontier, &running);
            // A term a procedure cannot lack and still beat the worst of the best found so far
            // is required of every procedure not read yet.
            if let Some(worst) = heap.peek().filter(|_| heap.len() == wanted).map(|w| w.score) {
                let mut narrowed = false;
                for j in 0..terms.len() {
                    if required[j] {
                        continue;
                    }
                    absent[j] = true;
                    if bound(&frontier, &absent) < worst {
                        required[j] = true;
                        narrowed = true;
                        running.to_mut().and(&self.term_bits(terms[j]));
                    }
                    absent[j] = false;
                }
                if narrowed {
                    settle(&mut at, &mut frontier, &running);
                }
            }
            if heap.len() == wanted && heap.peek().is_some_and(|worst| worst.score > bound(&frontier, &absent)) {
                break;
            }
        }
        heap.into_vec()
    }

    /// How many procedures a query finds among those the filter keeps.
    fn count(&self, query: &[String], filter: &[String]) -> usize {
        self.found(query, filter).map_or(0, |(_, found)| found.count())
    }

    /// When a query finds nothing: the query with its unknown words replaced by the closest ones
    /// the catalogue knows (or left out), if that finds something. It keeps the user's way of
    /// writing: words typed without marks stay without, and a word put in is written as the
    /// catalogue writes it only when the query has marks.
    pub fn did_you_mean(&self, query: &str, filter: &[String]) -> Option<String> {
        let mut typed = written_words(query);
        typed.truncate(MAX_QUERY_WORDS);
        let with_marks = typed.iter().any(|(_, written)| !written.is_ascii());
        let known_phrase_word = |w: &String| {
            self.thesaurus.rules.iter().any(|(t, others)| t.contains(w) || others.iter().any(|o| o.contains(w)))
                || self.thesaurus.stop.iter().any(|s| s.contains(w))
        };
        let mut meant: Vec<String> = Vec::new();
        let mut shown: Vec<String> = Vec::new();
        let mut changed = false;
        for (w, written) in typed {
            if self.id(&w).is_some() || known_phrase_word(&w) {
                meant.push(w);
                shown.push(written);
            } else {
                changed = true;
                if let Some(id) = self.closest(&w) {
                    let word = &self.vocabulary[id as usize];
                    meant.push(word.text.clone());
                    shown.push(if with_marks { word.written.clone() } else { word.text.clone() });
                }
            }
        }
        if !changed || meant.is_empty() {
            return None;
        }
        (self.count(&meant, filter) > 0).then(|| shown.join(" "))
    }

    /// The known word closest to `word`: one edit away for short words, two for longer ones;
    /// among equals, the commonest.
    fn closest(&self, word: &str) -> Option<u32> {
        let len = word.chars().count();
        let most = if len <= 4 { 1 } else { 2 };
        // Candidates by deleting letters on both sides (one from the catalogue's word, up to two
        // from the query's): every word one edit away, and most two away.
        let mut shorter: Vec<String> = vec![word.to_string()];
        let once = deletions(word);
        if most == 2 {
            shorter.extend(once.iter().flat_map(|d| deletions(d)));
        }
        shorter.extend(once);
        let mut candidates: Vec<u32> = Vec::new();
        for s in &shorter {
            candidates.extend(self.id(s));
            candidates.extend(self.near.get(s).into_iter().flatten().copied());
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .map(|id| (id, &self.vocabulary[id as usize]))
            .filter(|(_, w)| w.text.chars().all(char::is_alphabetic))
            .map(|(id, w)| (distance(word, &w.text), std::cmp::Reverse(w.docs), id))
            .filter(|(d, _, _)| *d <= most)
            .min()
            .map(|(_, _, id)| id)
    }

    /// Names for search as you type: procedures whose name holds every word typed, the last one
    /// as the start of a word; names that start with what was typed first, then shorter names.
    /// One procedure of each distinct name, `limit` at most.
    pub fn suggest(&self, query: &str, limit: usize) -> Vec<usize> {
        let mut query = words(query);
        query.truncate(MAX_QUERY_WORDS);
        let Some(last) = query.pop() else {
            return Vec::new();
        };
        let start = self.name_words.partition_point(|&id| self.vocabulary[id as usize].text.as_str() < last.as_str());
        let end = start
            + self.name_words[start..]
                .iter()
                .take_while(|&&id| self.vocabulary[id as usize].text.starts_with(&last))
                .count();
        let mut candidates = Bits::empty(self.n);
        for &id in &self.name_words[start..end] {
            let t = &self.terms[id as usize];
            match &t.in_name_bits {
                Some(bits) => candidates.or(bits),
                None => t.in_name.iter().for_each(|&d| candidates.insert(d)),
            }
        }
        for clause in self.plan(&query).iter().filter(|c| !c.optional) {
            let mut in_name = Bits::empty(self.n);
            for alt in &clause.alternatives {
                let mut words = alt.words.iter();
                let Some(&first) = words.next() else { continue };
                let mut all = self.name_bits(first).into_owned();
                for &w in words {
                    all.and(&self.name_bits(w));
                }
                in_name.or(&all);
            }
            candidates.and(&in_name);
        }
        let typed: Vec<Option<u32>> = query.iter().map(|w| self.id(w)).collect();
        let prefixed = start as u32..end as u32;
        let starts_with_typed = |doc: usize| {
            let name = &self.names[doc];
            name.len() > typed.len()
                && typed.iter().zip(name.iter()).all(|(t, w)| *t == Some(*w))
                && prefixed.contains(&self.name_word_places[name[typed.len()] as usize])
        };
        // Names that begin with what was typed first, then by place (shorter names first): read
        // in that order, or, when few procedures qualify, sort just those.
        let mut names: Vec<u32> = Vec::new();
        let mut out = Vec::new();
        let mut offer = |doc: usize, out: &mut Vec<usize>| {
            if out.len() < limit && !names.contains(&self.name_ids[doc]) {
                names.push(self.name_ids[doc]);
                out.push(doc);
            }
        };
        let count = candidates.count();
        if count * 16 >= self.n {
            for first in [true, false] {
                for &doc in &self.by_rank {
                    if out.len() >= limit {
                        return out;
                    }
                    if candidates.contains(doc) && starts_with_typed(doc as usize) == first {
                        offer(doc as usize, &mut out);
                    }
                }
            }
            return out;
        }
        let mut keys: Vec<u64> = candidates
            .iter()
            .map(|d| (u64::from(!starts_with_typed(d as usize)) << 32) | u64::from(self.rank[d as usize]))
            .collect();
        keys.sort_unstable();
        for key in keys {
            offer(self.by_rank[(key & u64::from(u32::MAX)) as usize] as usize, &mut out);
        }
        out
    }
}

/// A scored procedure; the better sorts first (higher score, then its place among all).
#[derive(Debug, Clone, Copy)]
struct Hit {
    score: f32,
    rank: u32,
    doc: u32,
}

impl PartialEq for Hit {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Hit {}

impl PartialOrd for Hit {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Hit {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.score.total_cmp(&self.score).then(self.rank.cmp(&other.rank))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::thesaurus::{parse, Thesaurus};
    use super::*;

    fn doc(code: &str, name: &str) -> Document {
        let tier = if code.starts_with('2') { "tier=province" } else { "tier=commune" };
        Document {
            code: code.into(),
            name: name.into(),
            facets: vec![format!("code={code}"), tier.into()],
            ..Default::default()
        }
    }

    fn catalogue() -> Vec<Document> {
        vec![
            doc("1.001193", "Đăng ký khai sinh"),
            doc("1.004884", "Đăng ký lại khai sinh"),
            doc("1.000656", "Đăng ký khai tử"),
            doc("1.004194", "Đăng ký tạm trú"),
            doc("1.002804", "Đổi Giấy phép lái xe do ngành Giao thông vận tải cấp"),
            doc("1.000307", "Cấp lại thẻ bảo hiểm y tế do bị mất, hỏng"),
            doc("2.001610", "Đăng ký thành lập doanh nghiệp tư nhân"),
        ]
    }

    fn index() -> Index {
        let entries = parse(
            "gplx = giấy phép lái xe\nbhyt = bảo hiểm y tế\ndky = đăng ký\nbáo tử => khai tử\nmất => cấp lại\nstop: làm | xin | thủ tục | ở đâu",
        )
        .unwrap();
        Index::build(catalogue(), Thesaurus::of(&entries))
    }

    fn codes(ix: &Index, q: &str) -> Vec<String> {
        let docs = catalogue();
        ix.search(q, &[], 0, 10).docs.into_iter().map(|d| docs[d].code.clone()).collect()
    }

    #[test]
    fn the_name_itself_comes_first() {
        let ix = index();
        assert_eq!(codes(&ix, "dang ky khai sinh")[..2], ["1.001193", "1.004884"]);
        assert_eq!(codes(&ix, "ĐĂNG KÍ KHAI SINH")[0], "1.001193");
        assert_eq!(codes(&ix, "1.000656"), ["1.000656"]);
        assert_eq!(codes(&ix, "1.0011"), ["1.001193"], "the start of a code");
        assert_eq!(codes(&ix, "1.00").len(), 6);
    }

    #[test]
    fn abbreviations_everyday_words_and_words_that_mean_nothing() {
        let ix = index();
        assert_eq!(codes(&ix, "doi gplx")[0], "1.002804");
        assert_eq!(codes(&ix, "dky tam tru o dau")[0], "1.004194");
        assert_eq!(codes(&ix, "bao tu")[0], "1.000656");
        assert_eq!(codes(&ix, "lam the bhyt bi mat")[0], "1.000307");
        assert_eq!(codes(&ix, "xin thu tuc dang ky tam tru")[0], "1.004194");
        assert!(codes(&ix, "thu tuc").is_empty(), "alone, they are the query (and name nothing here)");
    }

    #[test]
    fn one_typing_error_in_a_long_word() {
        let ix = index();
        assert_eq!(codes(&ix, "dang ky khai sinhh")[0], "1.001193");
        assert_eq!(codes(&ix, "thanh lap doanh ngheip")[0], "2.001610");
        // Not in a short word: "khia" is no word of the catalogue, and outweighs what matched.
        assert!(codes(&ix, "khia sinh").is_empty());
        // Nor in a code: one a digit off is another procedure's.
        assert!(codes(&ix, "1.001139").is_empty(), "two digits swapped");
        assert!(codes(&ix, "1.0011933").is_empty(), "a digit doubled");
        assert!(codes(&ix, "1.00193").is_empty(), "a digit missing");
    }

    #[test]
    fn a_query_about_nothing_here_finds_nothing() {
        let ix = index();
        assert!(codes(&ix, "mua ve may bay").is_empty());
        assert!(codes(&ix, "qwerty").is_empty());
        assert!(codes(&ix, "dang ky xyzzy plugh").is_empty(), "two common words do not carry two unknown ones");
    }

    #[test]
    fn suggestions_for_what_found_nothing() {
        let ix = index();
        assert_eq!(ix.did_you_mean("khia sinh", &[]).as_deref(), Some("khai sinh"));
        assert_eq!(ix.did_you_mean("dang ki tam truu xyzzy", &[]).as_deref(), Some("dang ki tam tru"));
        assert_eq!(ix.did_you_mean("Đăng ký tạm truu", &[]).as_deref(), Some("đăng ký tạm trú"), "marks as written");
        assert_eq!(ix.did_you_mean("dang ky khai sinh", &[]), None, "nothing to correct");
        assert_eq!(ix.did_you_mean("qwerty", &[]), None);
    }

    #[test]
    fn filters_and_pages() {
        let ix = index();
        let docs = catalogue();
        let only_second = ix.search("khai sinh", &["code=1.004884".into()], 0, 10);
        assert_eq!(only_second, Found { docs: vec![1], total: 1 });
        assert_eq!(ix.search("dang ky", &["tier=province".into()], 0, 10), Found { docs: vec![6], total: 1 });
        assert_eq!(ix.search("dang ky", &["tier=province".into(), "code=1.004884".into()], 0, 10).total, 0);
        assert_eq!(ix.search("dang ky", &["tier=nowhere".into()], 0, 10).total, 0);
        let all = ix.search("dang ky", &[], 0, 100);
        let second_page = ix.search("dang ky", &[], 2, 2);
        assert_eq!(second_page.total, all.total);
        assert_eq!(second_page.docs, all.docs[2..4]);
        let by_code = ix.search("", &[], 0, 3);
        assert_eq!(by_code.total, 7);
        assert_eq!(
            by_code.docs.iter().map(|&d| docs[d].code.as_str()).collect::<Vec<_>>(),
            ["1.000307", "1.000656", "1.001193"]
        );
    }

    #[test]
    fn search_as_you_type() {
        let ix = index();
        let docs = catalogue();
        let names = |q: &str| ix.suggest(q, 10).into_iter().map(|d| docs[d].name.clone()).collect::<Vec<_>>();
        assert_eq!(names("dang ky kh"), ["Đăng ký khai tử", "Đăng ký khai sinh", "Đăng ký lại khai sinh"]);
        assert_eq!(names("DĂNG KÍ T")[0], "Đăng ký tạm trú");
        assert_eq!(names("dky ta"), ["Đăng ký tạm trú"]);
        assert!(names("zz").is_empty());
        assert_eq!(ix.suggest("d", 2).len(), 2);
    }

    /// A catalogue large enough for the threshold algorithm, with names that repeat as real
    /// catalogues' do (one procedure at many agencies).
    fn many() -> Vec<Document> {
        let verbs = ["Cấp", "Cấp lại", "Gia hạn", "Đăng ký", "Thu hồi", "Xác nhận"];
        let objects = [
            "giấy phép xây dựng",
            "giấy phép lái xe",
            "chứng chỉ hành nghề",
            "giấy chứng nhận đăng ký",
            "thẻ bảo hiểm y tế",
        ];
        let qualifiers =
            ["nhà ở riêng lẻ", "cho người nước ngoài", "hộ kinh doanh", "tàu cá", "cơ sở karaoke", "hợp tác xã"];
        let agencies =
            ["Sở Xây dựng Hà Nội", "Sở Tư pháp Hà Nội", "Bộ Công Thương", "Ủy ban nhân dân phường Hoàn Kiếm"];
        let mut seed = 2026u64;
        let mut next = |m: usize| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as usize % m
        };
        (0..3000)
            .map(|i| {
                let name = format!(
                    "{} {} {}",
                    verbs[next(verbs.len())],
                    objects[next(objects.len())],
                    qualifiers[next(qualifiers.len())]
                );
                let tier = if i % 3 == 0 { "tier=commune" } else { "tier=province" };
                Document {
                    code: format!("SYN.{i:06}"),
                    name,
                    keywords: if i % 2 == 0 { "Văn bản chấp thuận".into() } else { "Giấy phép".into() },
                    field: ["Xây dựng", "Hộ tịch", "Giao thông"][i % 3].into(),
                    agencies: vec![agencies[next(agencies.len())].into()],
                    facets: vec![tier.into()],
                }
            })
            .collect()
    }

    #[test]
    fn the_threshold_algorithm_finds_what_scoring_everything_finds() {
        let entries = parse("gplx = giấy phép lái xe\nstop: cho | làm").unwrap();
        let ix = Index::build(many(), Thesaurus::of(&entries));
        let queries = [
            "giay phep",
            "cap lai giay phep",
            "giấy phép xây dựng nhà ở",
            "gplx tau ca",
            "the bao hiem y te",
            "dang ky ho kinh doanh",
            "xac nhan chung chi",
            "hanh nghe",
            "cap giay chung nhan dang ky",
            "thu hoi giay phep lai xe cho nguoi nuoc ngoai",
            "gia han",
            "so xay dung",
            "giay phep xay dungg",
        ];
        let mut by_threshold = 0;
        for query in queries {
            for filter in [vec![], vec!["tier=province".to_string()]] {
                for (offset, limit) in [(0, 20), (20, 20), (40, 20), (0, 100)] {
                    let words = words(query);
                    let (q, found) = ix.found(&words, &filter).unwrap();
                    let mut all: Vec<Hit> = found.iter().map(|d| ix.hit(&q, d)).collect();
                    all.sort_unstable();
                    let expected: Vec<usize> = all.iter().skip(offset).take(limit).map(|h| h.doc as usize).collect();
                    let got = ix.search(query, &filter, offset, limit);
                    assert_eq!(got.total, all.len(), "{query}");
                    if got.total > 64 && 2 * (offset + limit) < got.total {
                        by_threshold += 1;
                    }
                    assert_eq!(got.docs, expected, "{query} {filter:?} {offset}+{limit}");
                }
            }
        }
        assert!(by_threshold >= 60, "most pages go through the threshold algorithm: {by_threshold}");
    }
}
