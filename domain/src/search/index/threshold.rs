//! The best procedures of what a query found, without scoring them all: the threshold algorithm
//! over each term's procedures best first, with terms made required as the best found rise.

use super::*;

impl Index {
    /// The `wanted` best procedures of `found` by the threshold algorithm: read the procedures
    /// of each term of the query best first, score each new one in full, and stop when no
    /// procedure not yet read can beat the `wanted`-th best.
    pub(super) fn threshold(&self, q: &Query, found: &Bits, wanted: usize) -> Vec<Hit> {
        // One list per alternative, of its rarest word (a procedure without it cannot match the
        // alternative), and one per bigram.
        let driver = |a: &Alternative| a.words.iter().copied().min_by_key(|&w| self.terms[w as usize].best_first.len());
        let mut terms: Vec<u32> = q.clauses.iter().flat_map(|c| c.alternatives.iter().filter_map(driver)).collect();
        terms.extend(&q.bigrams);
        terms.sort_unstable();
        terms.dedup();
        let lists: Vec<&[u32]> = terms.iter().map(|&t| self.terms[t as usize].best_first.as_slice()).collect();
        let scores: Vec<&[f32]> = terms.iter().map(|&t| self.terms[t as usize].best_scores.as_slice()).collect();
        let mut at = vec![0usize; terms.len()];
        // The most a word without a list of its own can add: its best score anywhere.
        let top = |t: u32| self.terms[t as usize].best_scores.first().copied().unwrap_or(0.0);
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
                frontier[i] = scores[i].get(at[i]).copied().unwrap_or(0.0);
            }
        };
        let mut required = vec![false; terms.len()];
        let mut absent = vec![false; terms.len()];
        let mut batch: Vec<u32> = Vec::with_capacity(ROUND * lists.len());
        // A batch of procedures, their terms read together first.
        let mut score_all = |batch: &[u32], heap: &mut std::collections::BinaryHeap<Hit>| {
            self.warm(batch);
            for &doc in batch {
                consider(doc, heap);
            }
        };
        loop {
            batch.clear();
            for (i, list) in lists.iter().enumerate() {
                // Each entry is written, and kept by counting it when it is in the running: no
                // branch on that, which the processor cannot guess.
                let mut read = [0u32; ROUND];
                let mut kept = 0;
                while at[i] < list.len() && kept < ROUND {
                    let doc = list[at[i]];
                    at[i] += 1;
                    read[kept] = doc;
                    kept += usize::from(running.contains(doc));
                }
                batch.extend_from_slice(&read[..kept]);
            }
            if batch.is_empty() {
                break;
            }
            score_all(&batch, &mut heap);
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
                    // Few left in the running: score them all rather than walk the lists past
                    // the many procedures that left it (thousands of entries for a common word).
                    if running.count() <= SCORE_ALL {
                        batch.clear();
                        batch.extend(running.iter());
                        score_all(&batch, &mut heap);
                        break;
                    }
                    settle(&mut at, &mut frontier, &running);
                }
            }
            if heap.len() == wanted && heap.peek().is_some_and(|worst| worst.score > bound(&frontier, &absent)) {
                break;
            }
        }
        heap.into_vec()
    }

    /// Reads the terms of these procedures together, a line of memory at a time, before they are
    /// scored: independent reads overlap in the processor, where the steps of one search for a term
    /// each wait for the one before (most of a score's time was that wait).
    fn warm(&self, docs: &[u32]) {
        // Terms of a procedure in one line of memory.
        const PER_LINE: usize = 64 / std::mem::size_of::<(u32, f32)>();
        let mut sum = 0u32;
        for &doc in docs {
            let (start, end) = (self.starts[doc as usize] as usize, self.starts[doc as usize + 1] as usize);
            for entry in self.forward[start..end].iter().step_by(PER_LINE) {
                sum = sum.wrapping_add(entry.0);
            }
            sum = sum.wrapping_add(self.rank[doc as usize]);
        }
        std::hint::black_box(sum);
    }
}
