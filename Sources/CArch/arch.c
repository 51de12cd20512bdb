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
