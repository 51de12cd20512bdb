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
static volatile sig_atomic_t sigint_count = 0;
static void on_sigint(int sig) { (void)sig; sigint_count = sigint_count + 1; signal(SIGINT, SIG_DFL); }
void arch_install_sigint(void) { sigint_count = 0; signal(SIGINT, on_sigint); }
int arch_sigint_count(void) { return (int)sigint_count; }
void arch_sigint_reset(void) { sigint_count = 0; signal(SIGINT, SIG_DFL); }

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
