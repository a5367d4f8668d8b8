#if os(Linux)
import CHeap
#endif

/// Keeps the buffers of one step for the next: glibc returns freed blocks above its mmap
/// threshold (and the heap's top above its trim threshold) to the kernel, so a training or
/// patching loop that allocates the same tensors every step pays page faults, zeroing and
/// unmapping for each of them. On the 2-layer probe's 128 × 32 training step that was about a
/// sixth of the time (`perf`: `exc_page_fault`, `clear_page_erms`, memcg charging).
///
/// Blocks up to 32 MiB (glibc's largest mmap threshold) come from the heap, and up to 1 GiB of
/// freed heap stays with the process. The peak resident size is unchanged; memory freed after
/// the peak is returned at exit instead of at once. A no-op where the C library is not glibc.
public enum HeapReuse {
    /// Tunes the allocator as described. Call once at start-up, before the first large tensor.
    public static func enable() {
        #if os(Linux)
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 1 << 30)
        #endif
    }
}
