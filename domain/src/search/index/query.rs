//! Reading a query: its clauses (thesaurus phrases, words without meaning, typing errors, starts
//! of codes), every procedure it finds, and a procedure's full score for it.

use super::*;

impl Index {
    /// The words one typing error from `word`, if the catalogue does not know it, it is long
    /// enough for the rule and it is not a code.
    pub(super) fn typo_alternatives(&self, word: &str) -> Vec<u32> {
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
    pub(super) fn codes_starting(&self, word: &str) -> Vec<u32> {
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

    pub(super) fn alternative(&self, phrase: &[String], counts: f32) -> Option<Alternative> {
        let words = phrase.iter().map(|w| self.id(w)).collect::<Option<Vec<u32>>>()?;
        Some(Alternative { words, counts })
    }

    /// How much a phrase weighs: the rarity of its words (a word no procedure holds counts as
    /// one that a single procedure holds).
    pub(super) fn phrase_weight(&self, phrase: &[String]) -> f32 {
        phrase.iter().map(|w| self.id(w).map_or(self.unknown_idf, |id| self.vocabulary[id as usize].idf)).sum()
    }

    /// Reads a query into clauses.
    pub(super) fn plan(&self, query: &[String]) -> Vec<Clause> {
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

    pub(super) fn prepare(&self, query: &[String]) -> Query {
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

    pub(super) fn clause_bits(&self, clause: &Clause) -> Bits {
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
    pub(super) fn found_bits(&self, q: &Query) -> Bits {
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
    pub(super) fn full_score(&self, q: &Query, doc: u32) -> f32 {
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
}
