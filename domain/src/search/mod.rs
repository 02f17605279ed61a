//! Catalogue search as people type it: words folded and made canonical ([`analyze`]), the
//! phrases people use for the catalogue's words ([`thesaurus`]), and a ranked index over the
//! procedures ([`Index`]). Pure: the API builds the index from the catalogue it reads.

pub mod analyze;
mod bits;
mod index;
pub mod thesaurus;

pub use index::{Document, Found, Index};
pub use thesaurus::{Entry, EntryKind, Thesaurus};
