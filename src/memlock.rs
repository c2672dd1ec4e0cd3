//! Keeping secret pages out of swap: `mlock` for the buffers that hold passphrases, decrypted
//! private keys and Argon2's working memory, where the operating system allows it.
//!
//! Why not `mlockall(MCL_CURRENT | MCL_FUTURE)` at start: with `MCL_FUTURE` every later
//! allocation must fit under `RLIMIT_MEMLOCK` (8 MiB by default on Linux, 64 KiB on older
//! kernels) or it fails, and a failed allocation aborts a Rust program. Argon2id alone needs
//! 2 GiB, so an unprivileged officer's `conclave sign` would die at the first derivation. The
//! failure would not be quiet, and it would come in the middle of a ceremony. Instead, each
//! secret buffer asks for its own pages to be locked; when that fails (limit reached, no
//! privilege, an OS without `mlock`), conclave carries on exactly as before, because a swap
//! partition is a risk to reduce, not a reason to stop a ceremony.
//!
//! `mlock` is not reference-counted: unlocking a page unlocks it for every secret on it. Two
//! passphrases can share a heap page, so a registry of the ranges currently held decides which
//! pages to lock (those no other holder has locked yet) and which to unlock (those no other
//! holder still needs).
//!
//! This is the only `unsafe` code in conclave (see the crate root). rustix marks `mlock` and
//! `munlock` unsafe because the kernel reads the range; their contract is that the range,
//! rounded out to whole pages, is memory the caller may read. [`PageLock::new`] takes a
//! borrowed slice, and every page that slice touches is mapped and readable while the borrow
//! lasts; [`PageLock`] unlocks in `drop`, which the owners below run before the memory is freed.

#![allow(unsafe_code)]

use std::sync::Mutex;

/// Page ranges `[first, end)` (page numbers) currently held by a [`PageLock`].
static HELD: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

fn page_size() -> usize {
    #[cfg(unix)]
    {
        rustix::param::page_size()
    }
    #[cfg(not(unix))]
    {
        4096
    }
}

/// The parts of `[first, end)` not covered by any range in `held`.
fn uncovered(first: usize, end: usize, held: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut covering: Vec<(usize, usize)> = held
        .iter()
        .copied()
        .filter(|&(a, b)| a < end && b > first)
        .collect();
    covering.sort_unstable();
    let mut out = Vec::new();
    let mut at = first;
    for (a, b) in covering {
        if a > at {
            out.push((at, a.min(end)));
        }
        at = at.max(b);
        if at >= end {
            break;
        }
    }
    if at < end {
        out.push((at, end));
    }
    out
}

/// The pages under a secret buffer, locked in memory for as long as this value lives (or not
/// at all, when the operating system refuses). Dropping it unlocks the pages no other
/// `PageLock` still holds; the owner must drop it before freeing the buffer.
#[must_use]
pub struct PageLock {
    /// Page numbers `[first, end)`, or `None` when nothing was locked.
    pages: Option<(usize, usize)>,
}

impl PageLock {
    /// Try to lock the pages under `region`; failure is silent (see the module docs).
    pub fn new<T>(region: &[T]) -> PageLock {
        let len = std::mem::size_of_val(region);
        if len == 0 {
            return PageLock { pages: None };
        }
        let size = page_size();
        let start = region.as_ptr() as usize;
        let (first, end) = (start / size, (start + len).div_ceil(size));
        let Ok(mut held) = HELD.lock() else {
            return PageLock { pages: None };
        };
        let todo = uncovered(first, end, &held);
        for (i, &(a, b)) in todo.iter().enumerate() {
            if !os_lock(a * size, (b - a) * size) {
                // All or nothing: undo this call's locks so the registry stays exact.
                for &(a, b) in &todo[..i] {
                    os_unlock(a * size, (b - a) * size);
                }
                return PageLock { pages: None };
            }
        }
        held.push((first, end));
        PageLock {
            pages: Some((first, end)),
        }
    }

    /// Whether the operating system locked this buffer's pages.
    pub fn is_locked(&self) -> bool {
        self.pages.is_some()
    }
}

impl Drop for PageLock {
    fn drop(&mut self) {
        let Some((first, end)) = self.pages.take() else {
            return;
        };
        let Ok(mut held) = HELD.lock() else {
            return;
        };
        if let Some(i) = held.iter().position(|&r| r == (first, end)) {
            held.swap_remove(i);
        }
        let size = page_size();
        for (a, b) in uncovered(first, end, &held) {
            os_unlock(a * size, (b - a) * size);
        }
    }
}

#[cfg(unix)]
fn os_lock(addr: usize, len: usize) -> bool {
    // SAFETY: `addr..addr + len` is made of whole pages each of which holds at least one byte
    // of a slice borrowed by `PageLock::new` (or of a still-held range), so it is mapped and
    // readable; mlock only reads it.
    unsafe { rustix::mm::mlock(addr as *mut std::ffi::c_void, len) }.is_ok()
}

#[cfg(unix)]
fn os_unlock(addr: usize, len: usize) {
    // SAFETY: as for `os_lock`: these pages belong to a range whose owner has not freed it yet
    // (`PageLock` is dropped before the buffer it covers).
    let _ = unsafe { rustix::mm::munlock(addr as *mut std::ffi::c_void, len) };
}

#[cfg(not(unix))]
fn os_lock(_addr: usize, _len: usize) -> bool {
    false
}

#[cfg(not(unix))]
fn os_unlock(_addr: usize, _len: usize) {}

/// How much memory the kernel reports locked for this process (`VmLck` in
/// `/proc/self/status`, in KiB); `None` where there is no such file. For tests and diagnostics.
pub fn locked_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// 32 secret bytes on the heap, with their page locked where the OS allows, zeroized on drop.
/// Built in place, so the secret is never copied through a temporary on the stack here.
pub struct LockedKey {
    // Declared first: dropped (unlocked) after `Drop::drop` has zeroized the bytes and before
    // the box is freed.
    lock: PageLock,
    bytes: Box<[u8; 32]>,
}

impl LockedKey {
    /// Copy `secret` into a fresh locked heap buffer. The caller still owns `secret` and must
    /// zeroize its own copy.
    pub fn new(secret: &[u8; 32]) -> LockedKey {
        let mut bytes = Box::new([0u8; 32]);
        let lock = PageLock::new(&bytes[..]);
        bytes.copy_from_slice(secret);
        LockedKey { lock, bytes }
    }

    /// The secret bytes. Do not copy them anywhere that is not zeroized.
    pub fn expose(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Whether the page is locked. False where the OS refused (e.g. `RLIMIT_MEMLOCK` is zero):
    /// the bytes may then reach swap.
    pub fn is_locked(&self) -> bool {
        self.lock.is_locked()
    }
}

impl Drop for LockedKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(self.bytes.as_mut());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncovered_ranges() {
        assert_eq!(uncovered(0, 10, &[]), vec![(0, 10)]);
        assert_eq!(
            uncovered(0, 10, &[(2, 4), (3, 5), (8, 12)]),
            vec![(0, 2), (5, 8)]
        );
        assert_eq!(uncovered(5, 6, &[(0, 10)]), vec![]);
        assert_eq!(uncovered(5, 9, &[(0, 6), (8, 9)]), vec![(6, 8)]);
        assert_eq!(uncovered(5, 9, &[(20, 30)]), vec![(5, 9)]);
    }

    #[test]
    fn overlapping_locks_keep_shared_pages_until_the_last_goes() {
        // The registry, not the kernel (other tests lock pages concurrently in this process;
        // tests/memlock.rs checks VmLck in a process of its own).
        // A page wholly inside `buf`, so nothing else in this process can share it.
        let size = page_size();
        let buf = vec![0u8; 4 * size];
        let off = (size - buf.as_ptr() as usize % size) % size;
        let page = (buf.as_ptr() as usize + off) / size;
        let a = PageLock::new(&buf[off..off + 10]);
        let b = PageLock::new(&buf[off + 5..off + 20]);
        assert!(
            a.is_locked() && b.is_locked(),
            "mlock of one page failed: is RLIMIT_MEMLOCK (ulimit -l) zero here?"
        );
        let held = |p: usize| HELD.lock().unwrap().iter().any(|&(x, y)| x <= p && p < y);
        drop(a);
        assert!(held(page), "b still holds the shared page");
        drop(b);
        assert!(!held(page));
    }

    #[test]
    fn locked_key_holds_its_bytes() {
        let k = LockedKey::new(&[7; 32]);
        assert_eq!(k.expose(), &[7; 32]);
    }
}
