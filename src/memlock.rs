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
//! Pages are locked as they are first touched (`MLOCK_ONFAULT`, Linux 4.4 and later; plain
//! `mlock` elsewhere), not all at once: locking Argon2id's 2 GiB with plain `mlock` makes the
//! kernel fault in and zero every page on one core before the first pass, where Argon2's lanes
//! would otherwise fault them in as they go, on every core.
//!
//! This is the only `unsafe` code in conclave (see the crate root). rustix marks `mlock` and
//! `munlock` unsafe because the kernel reads the range; their contract is that the range,
//! rounded out to whole pages, is memory the caller may read. [`PageLock::new`] takes a
//! borrowed slice, and every page that slice touches is mapped and readable while the borrow
//! lasts; [`PageLock`] unlocks in `drop`, which the owners below run before the memory is freed.
//! [`BlockMemory`] allocates Argon2's working memory already zeroed (see there why).

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
    let ptr = addr as *mut std::ffi::c_void;
    // SAFETY: `addr..addr + len` is made of whole pages each of which holds at least one byte
    // of a slice borrowed by `PageLock::new` (or of a still-held range), so it is mapped and
    // readable; mlock only reads it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if unsafe { rustix::mm::mlock_with(ptr, len, rustix::mm::MlockFlags::ONFAULT) }.is_ok() {
        return true;
    }
    // SAFETY: as above.
    unsafe { rustix::mm::mlock(ptr, len) }.is_ok()
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

/// Argon2id's working memory (2 GiB at the default profile): fresh zeroed pages, locked where
/// the OS allows, kept out of core dumps, and wiped before they are given back.
///
/// Why not `vec![Block::default(); n]`: that writes 2 GiB of zeros on one core before Argon2
/// starts (the kernel faults in and clears every page for it, then the program writes zeros
/// over them again). `alloc_zeroed` does the same for a 64-byte-aligned type (the system
/// allocator only skips the zeroing for small alignments). Pages mapped straight from the
/// kernel are already zero, and Argon2's lanes fault them in as they first write them, on every
/// core. This was about half a second of the 2 GiB derivation (docs/performance.md).
///
/// The blocks are as secret as the derived key (the last block of each lane gives it), so they
/// are overwritten with zeros before they are unmapped, as the reference implementation does.
pub struct BlockMemory {
    lock: PageLock,
    blocks: std::ptr::NonNull<argon2::Block>,
    len: usize,
}

// An `argon2::Block` is 128 `u64`s and nothing else (`#[repr(align(64))] struct
// Block([u64; 128])`), so all-zero memory is a valid block, and page-aligned memory is aligned
// for it. A change of that layout in a later version of the crate fails these checks when
// conclave is compiled.
const _: () = assert!(std::mem::size_of::<argon2::Block>() == argon2::Block::SIZE);
const _: () = assert!(std::mem::align_of::<argon2::Block>() == 64);

impl BlockMemory {
    /// `len` zeroed blocks, or `None` if the memory cannot be had (or `len` is zero).
    pub fn zeroed(len: usize) -> Option<BlockMemory> {
        let bytes = len.checked_mul(argon2::Block::SIZE)?;
        if bytes == 0 {
            return None;
        }
        let blocks = std::ptr::NonNull::new(map_zeroed(bytes)?.cast::<argon2::Block>())?;
        // SAFETY: `blocks` points to `bytes` = `len` blocks' worth of zeroed memory, mapped
        // above and owned by this value; all-zero bytes are a valid `Block` (see the checks
        // above).
        let lock = PageLock::new(unsafe { std::slice::from_raw_parts(blocks.as_ptr(), len) });
        Some(BlockMemory { lock, blocks, len })
    }
}

impl AsMut<[argon2::Block]> for BlockMemory {
    fn as_mut(&mut self) -> &mut [argon2::Block] {
        // SAFETY: as in `zeroed`; `&mut self` makes this the only reference to the blocks.
        unsafe { std::slice::from_raw_parts_mut(self.blocks.as_ptr(), self.len) }
    }
}

impl Drop for BlockMemory {
    fn drop(&mut self) {
        let (ptr, bytes) = (
            self.blocks.as_ptr().cast::<u8>(),
            self.len * argon2::Block::SIZE,
        );
        // SAFETY: the blocks are this value's, `bytes` long, still mapped, and nothing else
        // refers to them (`&mut self`).
        unsafe { wipe(ptr, bytes) };
        // The wipe must not be dropped as a write to memory about to be given back: the
        // compiler must assume `black_box` reads it.
        std::hint::black_box(ptr);
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
        // Unlocked while the pages are still ours.
        drop(std::mem::replace(&mut self.lock, PageLock { pages: None }));
        unmap(ptr, bytes);
    }
}

/// Zeros over `bytes` at `ptr`, which belong to a [`BlockMemory`] being dropped, in parts of
/// 32 MiB taken in turn by this thread and, for more than one part, a helper thread: 2 GiB
/// takes about 0.25 s on one core. Where no thread can be started, this one does it all.
///
/// # Safety
///
/// `ptr..ptr + bytes` must be memory the caller may write, which nothing else reads or writes
/// until this returns.
unsafe fn wipe(ptr: *mut u8, bytes: usize) {
    const PART: usize = 32 << 20;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let base = ptr as usize;
    let work = || {
        loop {
            let at = next.fetch_add(PART, std::sync::atomic::Ordering::Relaxed);
            if at >= bytes {
                break;
            }
            // SAFETY: the counter hands out each part `[at, at + n)` once, and every part
            // lies inside the caller's mapping, which stays mapped until both threads are
            // done (the scope joins the helper before returning).
            unsafe { std::ptr::write_bytes((base + at) as *mut u8, 0, PART.min(bytes - at)) };
        }
    };
    std::thread::scope(|scope| {
        if bytes > PART {
            let _ = std::thread::Builder::new().spawn_scoped(scope, work);
        }
        work();
    });
}

/// `bytes` of fresh zeroed memory, aligned to a page.
#[cfg(unix)]
fn map_zeroed(bytes: usize) -> Option<*mut u8> {
    use rustix::mm::{MapFlags, ProtFlags};
    // SAFETY: a new private anonymous mapping at an address of the kernel's choosing touches
    // no existing memory.
    let ptr = unsafe {
        rustix::mm::mmap_anonymous(
            std::ptr::null_mut(),
            bytes,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::PRIVATE,
        )
    }
    .ok()?;
    // Out of core dumps (a crash must not write the blocks to disk). Best effort.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    // SAFETY: the range is the mapping just made; the advice changes no contents.
    let _ = unsafe { rustix::mm::madvise(ptr, bytes, rustix::mm::Advice::LinuxDontDump) };
    Some(ptr.cast())
}

#[cfg(unix)]
fn unmap(ptr: *mut u8, bytes: usize) {
    // SAFETY: `ptr..ptr + bytes` is a mapping made by `map_zeroed`, given back once, here,
    // by its owner, after which nothing refers to it.
    let _ = unsafe { rustix::mm::munmap(ptr.cast(), bytes) };
}

#[cfg(not(unix))]
fn map_zeroed(bytes: usize) -> Option<*mut u8> {
    let layout = std::alloc::Layout::from_size_align(bytes, 4096).ok()?;
    // SAFETY: the layout has a non-zero size (checked by the caller).
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
    (!ptr.is_null()).then_some(ptr)
}

#[cfg(not(unix))]
fn unmap(ptr: *mut u8, bytes: usize) {
    if let Ok(layout) = std::alloc::Layout::from_size_align(bytes, 4096) {
        // SAFETY: allocated by `map_zeroed` with this very layout; freed once, here.
        unsafe { std::alloc::dealloc(ptr, layout) };
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
    fn block_memory_is_zeroed_blocks_of_the_size_asked() {
        let mut m = BlockMemory::zeroed(3000).unwrap();
        let blocks = m.as_mut();
        assert_eq!(blocks.len(), 3000);
        assert!(blocks.iter().all(|b| b.as_ref().iter().all(|&w| w == 0)));
        assert_eq!(blocks.as_ptr() as usize % 64, 0);
        blocks[2999].as_mut()[127] = 7;
        assert_eq!(m.as_mut()[2999].as_ref()[127], 7);
        assert!(BlockMemory::zeroed(0).is_none());
        #[cfg(target_os = "linux")]
        {
            // The mapping is marked to stay out of core dumps ("dd" in its VmFlags). It may
            // have been merged with a neighbour, so the mapping is found by what it contains.
            let at = m.as_mut().as_ptr() as usize;
            let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
            let mut inside = false;
            let mut found = None;
            for line in smaps.lines() {
                let range = line
                    .split_whitespace()
                    .next()
                    .and_then(|r| r.split_once('-'));
                if let Some((a, b)) = range
                    && let (Ok(a), Ok(b)) =
                        (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
                {
                    inside = a <= at && at < b;
                    continue;
                }
                if inside && line.starts_with("VmFlags:") {
                    found = Some(line.to_string());
                }
            }
            let flags = found.expect("the blocks' mapping is in /proc/self/smaps");
            assert!(flags.split_whitespace().any(|f| f == "dd"), "{flags}");
        }
        assert!(
            BlockMemory::zeroed(usize::MAX / 512).is_none(),
            "an impossible size is refused"
        );
    }

    #[test]
    fn the_wipe_reaches_every_byte_across_its_parts() {
        // Three parts of 32 MiB and a short fourth, shared between two threads.
        let mut buf = vec![0xA5u8; (96 << 20) + 4099];
        // SAFETY: `buf` is ours, and not touched during the call.
        unsafe { wipe(buf.as_mut_ptr(), buf.len()) };
        assert!(buf.iter().all(|&b| b == 0));
        let mut small = [0x5Au8; 17];
        // SAFETY: as above.
        unsafe { wipe(small.as_mut_ptr(), small.len()) };
        assert_eq!(small, [0; 17]);
    }

    #[test]
    fn locked_key_holds_its_bytes() {
        let k = LockedKey::new(&[7; 32]);
        assert_eq!(k.expose(), &[7; 32]);
    }
}
