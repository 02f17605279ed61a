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
mod query;
mod suggest;
mod threshold;

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
/// When no more than this many procedures are left in the running, the threshold algorithm scores
/// them all instead of reading on.
const SCORE_ALL: usize = 256;

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
    /// Their scores, in the same order (what the threshold algorithm's bounds read).
    best_scores: Vec<f32>,
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
    /// By procedure: its name's words, all in one array in procedure order (which search as you
    /// type reads in that order), procedure `d`'s from `name_starts[d]` to `name_starts[d + 1]`;
    /// and which distinct name it has.
    name_text: Vec<u32>,
    name_starts: Vec<u32>,
    name_ids: Vec<u32>,
    /// By procedure: the places among `name_words` of its name's first two words (`u32::MAX`
    /// for none), what search as you type reads of every procedure it considers: in one array in
    /// procedure order, it decides most of them without reading their names.
    lead_places: Vec<[u32; 2]>,
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
                t.best_first.len() * 8
                    + t.in_name.len() * 4
                    + t.bits.as_ref().map_or(0, Bits::bytes)
                    + t.in_name_bits.as_ref().map_or(0, Bits::bytes)
            })
            .sum();
        let names: usize = self.whole_names.keys().map(|n| n.len() * 4 + 16).sum();
        terms
            + self.forward.len() * 8
            + self.name_text.len() * 4
            + names
            + self.facets.values().map(Bits::bytes).sum::<usize>()
            + self.n * 12
            + self.name_starts.len() * 4
            + self.lead_places.len() * 8
    }

    /// The words of a procedure's name.
    fn name(&self, doc: usize) -> &[u32] {
        &self.name_text[self.name_starts[doc] as usize..self.name_starts[doc + 1] as usize]
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
mod tests;
