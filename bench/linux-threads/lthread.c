/*
 * lthread: Linux thread-operation costs, to set beside capOS's
 * user/bench/thread-bench.c. Static (glibc), booted as /init of an
 * initramfs under qemu-system-x86_64 -icount shift=0,sleep=off, where the
 * TSC advances by one per executed guest instruction, so every figure is
 * guest instructions per operation (user + kernel + interrupts).
 *
 * Prints "LTHREAD <name> <instructions per op> <ops>" lines:
 *   tsc_overhead          one lfence;rdtsc;lfence (for reference)
 *   create_join           pthread_create + pthread_join, thread returns at once
 *   futex_pingpong        round trip between two threads of one process,
 *                         FUTEX_WAKE_PRIVATE / FUTEX_WAIT_PRIVATE on one word
 *   condvar_pingpong      round trip between two threads, pthread mutex + condvar
 *   mutex_uncontended     pthread_mutex_lock + pthread_mutex_unlock, nobody else
 *   mutex_kernel_entries  system calls made during those (seccomp count; must be 0)
 *
 * As PID 1 it mounts /proc, /sys and /dev, runs every benchmark
 * lthread_repeat times (kernel command line, default 2) and powers off.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define CREATES   2000
#define PINGS     20000
#define LOCKS     1000000

static uint64_t now(void)
{
	uint32_t a, d;
	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(a), "=d"(d) : : "memory");
	return (uint64_t)d << 32 | a;
}

static void fail(const char *msg)
{
	fprintf(stderr, "lthread: %s failed: %s\n", msg, strerror(errno));
	fflush(NULL);
	if (getpid() == 1)
		reboot(RB_POWER_OFF);
	_exit(1);
}

static void emit(const char *name, double per_op, unsigned long ops)
{
	printf("LTHREAD %-26s %12.1f %9lu\n", name, per_op, ops);
	fflush(stdout);
}

/* ---------------------------------------------------------- rdtsc cost */
static void run_tsc(void)
{
	const unsigned long n = 100000;
	uint64_t start = now();
	for (unsigned long i = 0; i < n; i++)
		(void)now();
	uint64_t end = now();
	emit("tsc_overhead", (double)(end - start) / n, n);
}

/* ------------------------------------------------ pthread_create + join */
static void *return_at_once(void *arg)
{
	return arg;
}

static void *report_tid(void *arg)
{
	(void)arg;
	return (void *)(long)gettid();
}

static int by_value(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void run_create_join(void)
{
	pthread_t t;
	/* Warm-up: the first creates map a stack and fill glibc's stack cache. */
	for (int i = 0; i < 100; i++) {
		if (pthread_create(&t, NULL, return_at_once, NULL) || pthread_join(t, NULL))
			fail("pthread_create/join (warm-up)");
	}
	/* One timestamp per operation (5 instructions each), so the spread
	 * can be shown as well as the mean. */
	static uint64_t stamp[CREATES + 1], each[CREATES];
	stamp[0] = now();
	for (int i = 0; i < CREATES; i++) {
		if (pthread_create(&t, NULL, return_at_once, NULL) || pthread_join(t, NULL))
			fail("pthread_create/join");
		stamp[i + 1] = now();
	}
	emit("create_join", (double)(stamp[CREATES] - stamp[0]) / CREATES, CREATES);
	for (int i = 0; i < CREATES; i++)
		each[i] = stamp[i + 1] - stamp[i];
	qsort(each, CREATES, sizeof each[0], by_value);
	emit("create_join_min", (double)each[0], CREATES);
	emit("create_join_median", (double)each[CREATES / 2], CREATES);
	emit("create_join_p90", (double)each[CREATES * 9 / 10], CREATES);
	emit("create_join_max", (double)each[CREATES - 1], CREATES);
	void *tid;
	if (pthread_create(&t, NULL, report_tid, NULL) || pthread_join(t, &tid))
		fail("pthread_create/join");
	printf("LINFO create_join next thread id %ld\n", (long)tid);
}

/* ------------------------------------------- private futex ping-pong */
/* 1 while it is the partner's turn, 0 while it is main's. */
static uint32_t word;

static long fwait(uint32_t *addr, uint32_t expect)
{
	return syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, expect, NULL, NULL, 0);
}

static long fwake(uint32_t *addr)
{
	return syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static unsigned long pp_total; /* round trips including warm-up */

static void *futex_partner(void *arg)
{
	for (unsigned long i = 0; i < pp_total; i++) {
		while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == 0)
			fwait(&word, 0);
		__atomic_store_n(&word, 0, __ATOMIC_RELEASE);
		fwake(&word);
	}
	return arg;
}

static void run_futex_pingpong(void)
{
	const unsigned long warm = PINGS / 10;
	pthread_t t;
	pp_total = warm + PINGS;
	word = 0;
	if (pthread_create(&t, NULL, futex_partner, NULL))
		fail("pthread_create");
	uint64_t start = 0;
	for (unsigned long i = 0; i < pp_total; i++) {
		if (i == warm)
			start = now();
		__atomic_store_n(&word, 1, __ATOMIC_RELEASE);
		fwake(&word);
		while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == 1)
			fwait(&word, 1);
	}
	uint64_t end = now();
	pthread_join(t, NULL);
	emit("futex_pingpong", (double)(end - start) / PINGS, PINGS);
}

/* ------------------------------------- mutex + condvar ping-pong */
static pthread_mutex_t cv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int cv_turn; /* 1: partner's turn, 0: main's; under cv_lock */

static void *condvar_partner(void *arg)
{
	for (unsigned long i = 0; i < pp_total; i++) {
		pthread_mutex_lock(&cv_lock);
		while (cv_turn == 0)
			pthread_cond_wait(&cv, &cv_lock);
		cv_turn = 0;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&cv_lock);
	}
	return arg;
}

static void run_condvar_pingpong(void)
{
	const unsigned long warm = PINGS / 10;
	pthread_t t;
	pp_total = warm + PINGS;
	cv_turn = 0;
	if (pthread_create(&t, NULL, condvar_partner, NULL))
		fail("pthread_create");
	uint64_t start = 0;
	for (unsigned long i = 0; i < pp_total; i++) {
		if (i == warm)
			start = now();
		pthread_mutex_lock(&cv_lock);
		cv_turn = 1;
		pthread_cond_signal(&cv);
		while (cv_turn == 1)
			pthread_cond_wait(&cv, &cv_lock);
		pthread_mutex_unlock(&cv_lock);
	}
	uint64_t end = now();
	pthread_join(t, NULL);
	emit("condvar_pingpong", (double)(end - start) / PINGS, PINGS);
}

/* ------------------------------------------------ uncontended mutex */
static pthread_mutex_t plain_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t mutex_loop(unsigned long n)
{
	uint64_t start = now();
	for (unsigned long i = 0; i < n; i++) {
		pthread_mutex_lock(&plain_lock);
		pthread_mutex_unlock(&plain_lock);
	}
	return now() - start;
}

/*
 * Kernel entries during the loop: a forked child installs a seccomp filter
 * that turns every system call except rt_sigreturn and exit_group into
 * SIGSYS, whose handler counts it; then runs the same loop and exits. The
 * count and the child's tick figure come back through a shared page.
 */
struct mx_shared {
	volatile uint64_t ticks;
	volatile uint64_t syscalls;
	volatile int done;
};
static struct mx_shared *mx;

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig; (void)si; (void)uc;
	mx->syscalls++;
}

static void count_syscalls_from_here(void)
{
	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_rt_sigreturn, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_exit_group, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog fp = { .len = sizeof prog / sizeof prog[0], .filter = prog };
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL))
		fail("sigaction");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		fail("PR_SET_NO_NEW_PRIVS");
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp, 0, 0))
		fail("PR_SET_SECCOMP");
}

static void run_mutex(void)
{
	mutex_loop(LOCKS / 10); /* warm-up */
	uint64_t ticks = mutex_loop(LOCKS);
	emit("mutex_uncontended", (double)ticks / LOCKS, LOCKS);

	mx = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mx == MAP_FAILED)
		fail("mmap");
	mx->ticks = mx->syscalls = 0;
	mx->done = 0;
	pid_t pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		count_syscalls_from_here();
		/* Sanity check that the counter works: one trapped call. */
		syscall(SYS_getppid);
		uint64_t before = mx->syscalls;
		mutex_loop(LOCKS / 10);
		uint64_t t = mutex_loop(LOCKS);
		mx->syscalls -= before;
		mx->ticks = t;
		mx->done = before == 1;
		syscall(SYS_exit_group, 0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid)
		fail("waitpid");
	if (!mx->done) {
		printf("LTHREAD mutex_kernel_entries  counter-check-failed\n");
	} else {
		emit("mutex_kernel_entries", (double)mx->syscalls, LOCKS + LOCKS / 10);
		emit("mutex_uncontended_seccomp", (double)mx->ticks / LOCKS, LOCKS);
	}
	munmap(mx, 4096);
}

/* ------------------------------------------------------------- driver */
static void show(const char *prefix, const char *path)
{
	char buf[512];
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	while (fgets(buf, sizeof buf, f))
		printf("%s%s", prefix, buf);
	fclose(f);
}

int main(void)
{
	int repeat = 2;
	int init = getpid() == 1;
	if (init) {
		mkdir("/proc", 0555);
		mkdir("/sys", 0555);
		mkdir("/dev", 0755);
		mount("proc", "/proc", "proc", 0, NULL);
		mount("sysfs", "/sys", "sysfs", 0, NULL);
		mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
		if (fcntl(1, F_GETFD) < 0) {
			int fd = open("/dev/console", O_RDWR);
			if (fd >= 0) {
				dup2(fd, 0);
				dup2(fd, 1);
				dup2(fd, 2);
			}
		}
		const char *r = getenv("lthread_repeat");
		if (r)
			repeat = atoi(r);
	}
	struct utsname u;
	uname(&u);
	printf("LINFO uname %s %s %s\n", u.sysname, u.release, u.version);
	show("LINFO cmdline ", "/proc/cmdline");
	printf("LINFO cpus online %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	show("LINFO spectre_v2 ", "/sys/devices/system/cpu/vulnerabilities/spectre_v2");
	show("LINFO meltdown ", "/sys/devices/system/cpu/vulnerabilities/meltdown");
	fflush(stdout);

	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_setaffinity(0, sizeof one, &one))
		fail("sched_setaffinity");

	for (int pass = 1; pass <= repeat; pass++) {
		printf("LINFO pass %d\n", pass);
		run_tsc();
		run_create_join();
		run_futex_pingpong();
		run_condvar_pingpong();
		run_mutex();
	}
	printf("LINFO done\n");
	fflush(NULL);
	if (init) {
		sync();
		reboot(RB_POWER_OFF);
	}
	return 0;
}
