//! Search as you type: names of procedures by the start of the last word typed.

use super::*;

impl Index {
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
        // The places the first two words of a name that starts with what was typed hold: those
        // of the words typed, then the range of the words the last one starts. A word typed that
        // no name holds has no place: then no name starts with what was typed.
        let place = |t: &Option<u32>| t.map_or(u32::MAX, |id| self.name_word_places[id as usize]);
        let at = |t: &Option<u32>| Some(place(t)..place(t).saturating_add(1));
        let lead: [Option<std::ops::Range<u32>>; 2] = match typed.as_slice() {
            [] => [Some(prefixed.clone()), None],
            [t] => [at(t), Some(prefixed.clone())],
            [t, u, ..] => [at(t), at(u)],
        };
        let within =
            |range: &Option<std::ops::Range<u32>>, place: u32| range.as_ref().is_none_or(|r| r.contains(&place));
        let starts_with_typed = |doc: usize| {
            let [first, second] = self.lead_places[doc];
            within(&lead[0], first)
                && within(&lead[1], second)
                && (typed.len() < 2 || {
                    let name = self.name(doc);
                    name.len() > typed.len()
                        && typed.iter().zip(name.iter()).all(|(t, w)| *t == Some(*w))
                        && prefixed.contains(&self.name_word_places[name[typed.len()] as usize])
                })
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
