//! A set of procedures as one bit each, for counting what a query finds without scoring it.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bits(Vec<u64>);

impl Bits {
    pub fn empty(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }

    pub fn of(n: usize, docs: impl IntoIterator<Item = u32>) -> Self {
        let mut b = Bits::empty(n);
        for d in docs {
            b.insert(d);
        }
        b
    }

    pub fn insert(&mut self, doc: u32) {
        self.0[doc as usize / 64] |= 1 << (doc % 64);
    }

    pub fn contains(&self, doc: u32) -> bool {
        self.0[doc as usize / 64] & (1 << (doc % 64)) != 0
    }

    pub fn and(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    pub fn or(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    pub fn count(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// The procedures in the set, in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &word)| {
            let mut w = word;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros();
                w &= w - 1;
                Some(i as u32 * 64 + bit)
            })
        })
    }

    /// Heap bytes held.
    pub fn bytes(&self) -> usize {
        self.0.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        let mut a = Bits::of(130, [1, 64, 129]);
        let b = Bits::of(130, [64, 100]);
        assert_eq!(a.iter().collect::<Vec<_>>(), [1, 64, 129]);
        assert!(a.contains(129) && !a.contains(128));
        let mut both = a.clone();
        both.and(&b);
        assert_eq!(both.iter().collect::<Vec<_>>(), [64]);
        a.or(&b);
        assert_eq!(a.count(), 4);
        assert_eq!(Bits::empty(10).count(), 0);
    }
}
