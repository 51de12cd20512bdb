// Tiny architecture layer, as the kernel's arch/x86/include/asm/{processor,barrier,cmpxchg}.h:
// the handful of instructions the modelled kernel needs, inlined so fast paths stay fast.
#ifndef NUMASTRESS_CARCH_H
#define NUMASTRESS_CARCH_H

#include <stdint.h>
#include <stdbool.h>

/// cpu_relax(): the PAUSE hint a spinning CPU gives its sibling hyperthread.
static inline void arch_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
/// Keeps the optimizer from deleting work whose result is unused (benchmarks).
static inline void arch_escape(const void *p) { __asm__ __volatile__("" : : "g"(p) : "memory"); }

#endif
}

/// rdtsc(): cycle counter, for cheap timestamps on hot paths (calibrated in Swift).
static inline uint64_t arch_rdtsc(void) {
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
    uint64_t v; __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(v)); return v;
#else
    return 0;
/// Keeps the optimizer from deleting work whose result is unused (benchmarks).
static inline void arch_escape(const void *p) { __asm__ __volatile__("" : : "g"(p) : "memory"); }

#endif
}

/// sched_getcpu(): the OS CPU the calling thread runs on now (hidden by Glibc's Swift overlay).
int arch_sched_getcpu(void);

/// gettid(): kernel thread id of the caller, for reports.
int arch_gettid(void);

/// pthread_setname_np() on the calling thread (name cut to 15 bytes), for top/perf.
void arch_set_thread_name(const char *name);

/// memfd_create(): an anonymous file whose pages can be mapped at several addresses.
int arch_memfd_create(const char *name);

/// Stop signals for runs (SIGINT, SIGTERM, SIGHUP): the first one records its number and
/// restores the default actions, so that a second signal of any of them ends the process at
/// once. The runner polls `arch_stop_signal()` (0 while none came).
void arch_install_stop_signals(void);
int arch_stop_signal(void);
void arch_reset_stop_signals(void);

/// rename(2) that refuses to replace an existing target (renameat2 RENAME_NOREPLACE): the
/// last step that makes a results folder visible, and never onto another run's folder.
int arch_rename_noreplace(const char *from, const char *to);

/// Schedule shaking (in the spirit of PCT/shuttle randomized schedules): at lock, refill and
/// remote-free points a thread may yield or spin a little, decided by a generator seeded from
/// the run's seed and the thread, so a seed replays the same decisions per thread.
extern uint32_t arch_shake_threshold;   /* chance per point, out of 65536; 0 = off */
void arch_shake_configure(uint64_t seed, uint32_t threshold);
void arch_shake_thread(uint64_t id);
uint64_t arch_shake_count(void);
void arch_shake_slow(uint32_t point);
static inline void arch_shake(uint32_t point) {
    if (__builtin_expect(__atomic_load_n(&arch_shake_threshold, __ATOMIC_RELAXED) != 0, 0)) arch_shake_slow(point);
}

/// Number of PUs the OS reports online.
int arch_online_cpus(void);

/// smp_mb() / smp_rmb() / smp_wmb().
static inline void arch_smp_mb(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
static inline void arch_smp_rmb(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
static inline void arch_smp_wmb(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }

/// READ_ONCE / WRITE_ONCE and the cmpxchg family on plain words in flat metadata buffers
/// (struct page fields, slab freelists), where a Swift Atomic cannot live.
static inline uint64_t arch_load_acquire_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline uint64_t arch_load_relaxed_u64(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void arch_store_release_u64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void arch_store_relaxed_u64(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline bool arch_cmpxchg_u64(uint64_t *p, uint64_t *expected, uint64_t desired) {
    return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
static inline uint64_t arch_xchg_u64(uint64_t *p, uint64_t v) { return __atomic_exchange_n(p, v, __ATOMIC_ACQ_REL); }
static inline uint64_t arch_fetch_add_u64(uint64_t *p, uint64_t v) { return __atomic_fetch_add(p, v, __ATOMIC_RELAXED); }
static inline uint8_t arch_load_relaxed_u8(const uint8_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void arch_store_relaxed_u8(uint8_t *p, uint8_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline uint16_t arch_load_relaxed_u16(const uint16_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void arch_store_relaxed_u16(uint16_t *p, uint16_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline uint32_t arch_load_acquire_u32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline uint32_t arch_load_relaxed_u32(const uint32_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void arch_store_relaxed_u32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline void arch_store_release_u32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline bool arch_cmpxchg_u32(uint32_t *p, uint32_t *expected, uint32_t desired) {
    return __atomic_compare_exchange_n(p, expected, desired, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
static inline uint32_t arch_fetch_add_u32(uint32_t *p, uint32_t v) { return __atomic_fetch_add(p, v, __ATOMIC_ACQ_REL); }

/// Keeps the optimizer from deleting work whose result is unused (benchmarks).
static inline void arch_escape(const void *p) { __asm__ __volatile__("" : : "g"(p) : "memory"); }

#endif
