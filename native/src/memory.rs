//! Operating-system memory hints for the trie's large arrays. Linux only; elsewhere a no-op.

/// Asks the kernel to back `[ptr, ptr + bytes)` with transparent huge pages: a million-node
/// arena walked at random misses the TLB on nearly every level with 4 KiB pages.
#[cfg(target_os = "linux")]
pub fn advise_huge_pages(ptr: *const u8, bytes: usize) {
    use std::ffi::{c_int, c_void};
    extern "C" {
        fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
    }
    const MADV_HUGEPAGE: c_int = 14;
    const HUGE: usize = 2 << 20;
    if bytes < HUGE {
        return;
    }
    let start = (ptr as usize + HUGE - 1) & !(HUGE - 1);
    let end = (ptr as usize + bytes) & !(HUGE - 1);
    if end > start {
        // SAFETY: madvise only changes paging policy for memory this process owns (the range
        // lies inside one live allocation); failure is harmless and ignored.
        unsafe {
            madvise(start as *mut c_void, end - start, MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub fn advise_huge_pages(_ptr: *const u8, _bytes: usize) {}

/// Hints the CPU to start loading the cache line at `p` (no effect on correctness).
#[inline(always)]
pub fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and never changes memory, whatever the address.
    unsafe {
        std::arch::x86_64::_mm_prefetch(p as *const i8, std::arch::x86_64::_MM_HINT_T0);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// A vector of `n` copies of `value`, advised for huge pages before its first touch (advice
/// after the fill would find the pages already 4 KiB).
pub fn filled_vec<T: Copy>(n: usize, value: T) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    advise_huge_pages(v.as_ptr() as *const u8, n * std::mem::size_of::<T>());
    v.resize(n, value);
    v
}
