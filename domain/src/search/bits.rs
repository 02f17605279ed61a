//! A set of procedures as one bit each, for counting what a query finds without scoring it.
//!
//! A query makes and drops a few such sets (2.5 KB each for 20,000 procedures); their words are
//! kept for the thread's next query instead of going back to the allocator each time.

use std::cell::RefCell;

#[derive(Debug, PartialEq, Eq)]
pub struct Bits(Vec<u64>);

/// Word buffers of dropped sets kept for reuse, per thread.
const KEPT: usize = 16;

thread_local! {
    static SPARE: RefCell<Vec<Vec<u64>>> = const { RefCell::new(Vec::new()) };
}

/// A buffer of `words` zero words, reused when the thread has one.
fn zeroed(words: usize) -> Vec<u64> {
    let spare = SPARE.try_with(|s| s.borrow_mut().pop()).ok().flatten();
    match spare {
        Some(mut w) => {
            w.clear();
            w.resize(words, 0);
            w
        }
        None => vec![0; words],
    }
}

impl Drop for Bits {
    fn drop(&mut self) {
        let words = std::mem::take(&mut self.0);
        if words.capacity() == 0 {
            return;
        }
        // A thread that is ending lets its buffers go.
        let _ = SPARE.try_with(|s| {
            let mut s = s.borrow_mut();
            if s.len() < KEPT {
                s.push(words);
            }
        });
    }
}

impl Clone for Bits {
    fn clone(&self) -> Self {
        let mut words = zeroed(self.0.len());
        words.copy_from_slice(&self.0);
        Bits(words)
    }
}

impl Bits {
    pub fn empty(n: usize) -> Self {
        Bits(zeroed(n.div_ceil(64)))
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

    #[test]
    fn a_reused_buffer_starts_empty_and_sized() {
        let full = Bits::of(200, 0..200);
        drop(full);
        let small = Bits::empty(70);
        assert_eq!(small.count(), 0);
        assert_eq!(small.bytes(), 16);
        let copy = Bits::of(300, [5, 299]).clone();
        assert_eq!(copy.iter().collect::<Vec<_>>(), [5, 299]);
        assert_eq!(copy.bytes(), 40);
    }
}
