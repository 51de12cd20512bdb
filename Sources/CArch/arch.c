#include "CArch.h"
#include <sched.h>
#include <unistd.h>
#include <sys/syscall.h>

int arch_sched_getcpu(void) { return sched_getcpu(); }
int arch_gettid(void) { return (int)syscall(SYS_gettid); }
int arch_online_cpus(void) { return (int)sysconf(_SC_NPROCESSORS_ONLN); }

#include <pthread.h>
#include <string.h>
void arch_set_thread_name(const char *name) {
    char buf[16];
    strncpy(buf, name, 15);
    buf[15] = 0;
    pthread_setname_np(pthread_self(), buf);
}

#include <sys/mman.h>
int arch_memfd_create(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

#include <signal.h>
static volatile sig_atomic_t stop_signal = 0;
static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
static void on_stop_signal(int sig) {
    if (stop_signal == 0) stop_signal = sig;
    for (unsigned i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) signal(stop_signals[i], SIG_DFL);
}
void arch_install_stop_signals(void) {
    stop_signal = 0;
    for (unsigned i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) signal(stop_signals[i], on_stop_signal);
}
int arch_stop_signal(void) { return (int)stop_signal; }
void arch_reset_stop_signals(void) {
    stop_signal = 0;
    for (unsigned i = 0; i < sizeof stop_signals / sizeof stop_signals[0]; i++) signal(stop_signals[i], SIG_DFL);
}

#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
int arch_rename_noreplace(const char *from, const char *to) {
#ifdef SYS_renameat2
    long rc = syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, 1 /* RENAME_NOREPLACE */);
    if (rc == 0 || errno != ENOSYS && errno != EINVAL) return (int)rc;
#endif
    /* No renameat2 here: plain rename(2) still never replaces a non-empty folder. */
    return rename(from, to);
}

uint32_t arch_shake_threshold = 0;
static uint64_t shake_seed = 0;
static uint64_t shake_total = 0;
static __thread uint64_t shake_state = 0;

void arch_shake_configure(uint64_t seed, uint32_t threshold) {
    shake_seed = seed;
    __atomic_store_n(&shake_total, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&arch_shake_threshold, threshold, __ATOMIC_RELEASE);
}

void arch_shake_thread(uint64_t id) { shake_state = (shake_seed ^ (id * 0x9E3779B97F4A7C15ull)) | 1; }

uint64_t arch_shake_count(void) { return __atomic_load_n(&shake_total, __ATOMIC_RELAXED); }

void arch_shake_slow(uint32_t point) {
    if (shake_state == 0) arch_shake_thread((uint64_t)arch_gettid());
    uint64_t x = shake_state;                    /* xorshift64* */
    x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
    shake_state = x;
    uint64_t r = (x * 0x2545F4914F6CDD1Dull) ^ point;
    if ((r & 0xFFFF) >= __atomic_load_n(&arch_shake_threshold, __ATOMIC_RELAXED)) return;
    __atomic_fetch_add(&shake_total, 1, __ATOMIC_RELAXED);
    if ((r >> 20) & 1) { sched_yield(); return; }
    unsigned spins = (unsigned)((r >> 21) & 1023);
    for (unsigned i = 0; i < spins; i++) arch_cpu_relax();
}
