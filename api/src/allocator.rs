//! The C allocator's settings for a long-running server.
//!
//! glibc's `malloc` gives a large block (128 KiB or more) its own mapping and returns it to the
//! system when it is freed; but after the first such block is freed it raises that threshold to
//! the block's size (up to 32 MiB), and later blocks of that size come from its arenas, which keep
//! them once freed. Each password hash (Argon2's 19 MiB), each build of the catalogue's search
//! index and each large result then leaves its memory resident in whichever arena served it: a
//! server that had run the bench's rows held 204 MB, against 140–144 MB with the threshold fixed.
//! Fixing it keeps every large block in its own mapping for good.

/// Blocks this large or larger get their own mapping.
pub const LARGE_BLOCK: i32 = 256 * 1024;

/// Free memory at the top of an arena is given back to the system beyond this much. With the
/// large-block threshold fixed, glibc no longer raises this one either and keeps its 128 KiB: the
/// arenas of the database threads gave back what each batch of pages had used and took it again,
/// page by page, for the next (8 page faults per uncached list page, with the clearing of every
/// page and the other cores' TLBs; 0.4 with this).
pub const KEPT_FREE: i32 = 8 * 1024 * 1024;

/// Fixes the allocator's threshold for large blocks at [`LARGE_BLOCK`] and the free memory an
/// arena keeps at [`KEPT_FREE`]; call it first in `main`, before any thread starts. Elsewhere
/// than on glibc it does nothing.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn tune_allocator() {
    // SAFETY: `mallopt` takes no pointer and only sets glibc's allocator parameters; it runs
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE_BLOCK);
        libc::mallopt(libc::M_TRIM_THRESHOLD, KEPT_FREE);
    }
}

/// Fixes the allocator's threshold for large blocks (glibc only).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune_allocator() {}

/// Gives the system back the free memory of every arena, in the middle of a heap as well as at
/// its top. Building the catalogue's search index reads the whole catalogue and frees most of
/// what it read once the index stands; without this, the arena of the thread that built it keeps
/// those pages resident for good. Elsewhere than on glibc it does nothing.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_memory() {
    // SAFETY: `malloc_trim` takes no pointer; it locks each arena while it walks it.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Gives free memory back to the system (glibc only).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() {}
