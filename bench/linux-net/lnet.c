/*
 * lnet: Linux's instructions per KiB moved over TCP, to set beside capOS's
 * user/bench/net-bench.c. Static (glibc), booted as /init of an initramfs
 * under qemu-system-x86_64 -icount shift=0,sleep=off with a virtio-net
 * device on QEMU's user network; rdtsc then counts executed guest
 * instructions, except that while the CPU is halted the clock jumps to the
 * next timer deadline. So each transfer is timed twice:
 *
 *   elapsed  rdtsc after - rdtsc before
 *   idle     the growth of the idle time the kernel keeps for the CPU
 *            (/proc/timer_list: idle_sleeptime + iowait_sleeptime, in ns,
 *            from the idle loop's entry to the first interrupt that ends
 *            it, so interrupt and softirq work counts as busy), converted
 *            to TSC cycles with the TSC rate measured against
 *            CLOCK_MONOTONIC over the transfer
 *
 * and busy = elapsed - idle is the instructions the transfer took: user,
 * kernel, interrupts. As a cross-check it also prints the idle field of
 * /proc/stat (10 ms units).
 *
 * As PID 1: mounts /proc, /sys and /dev; loads the virtio and virtio-net
 * modules from /modules (Debian builds them as modules) in dependency
 * order; sets eth0 to 10.0.2.15/24 with the default route via 10.0.2.2
 * (QEMU's user network); then, lnet_rounds times (kernel command line,
 * default 2): connects to 10.0.2.2:lnet_port (QEMU forwards that to the
 * host's 127.0.0.1) and sends lnet_bytes (tools/bench-net-host.py's
 * protocol: a 16-byte header "SEND" + u64 count, the host answers the
 * count it received), then connects again and receives lnet_bytes
 * ("RECV" + count, the host sends them and ends the stream). Writes and
 * reads are 32 KiB, as net-bench's. Prints
 *   LNET <direction> round <n> bytes <b> elapsed <c> idle <c> busy <c> per-kib <x> stat-idle-ms <m>
 * and powers off.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 32768

static char buf[CHUNK];

static void die(const char *what)
{
    printf("LNET error: %s: %s\n", what, strerror(errno));
    fflush(stdout);
    sync();
    reboot(RB_POWER_OFF);
    _exit(1);
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static char text[65536];

static size_t slurp(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die(path);
    size_t n = 0;
    ssize_t r;
    while (n < sizeof(text) - 1 && (r = read(fd, text + n, sizeof(text) - 1 - n)) > 0)
        n += (size_t)r;
    close(fd);
    text[n] = 0;
    return n;
}

/* Where `what` first appears in the file at path (read into text). */
static const char *find_in(const char *path, const char *what)
{
    slurp(path);
    const char *p = strstr(text, what);
    if (!p) {
        printf("LNET error: %s has no \"%s\"\n", path, what);
        errno = ENOENT;
        die(path);
    }
    return p;
}

/* cpu0's idle_sleeptime + iowait_sleeptime in /proc/timer_list, ns. */
static uint64_t idle_ns(void)
{
    const char *cpu = find_in("/proc/timer_list", "cpu: 0");
    uint64_t sum = 0;
    const char *fields[] = {".idle_sleeptime", ".iowait_sleeptime"};
    for (int i = 0; i < 2; i++) {
        const char *f = strstr(cpu, fields[i]);
        if (!f)
            die("/proc/timer_list has no idle_sleeptime (CONFIG_NO_HZ_COMMON?)");
        f = strchr(f, ':');
        sum += strtoull(f + 1, 0, 10);
    }
    return sum;
}

/* /proc/stat's idle + iowait of cpu0, in USER_HZ ticks. */
static uint64_t stat_idle_ticks(void)
{
    const char *l = find_in("/proc/stat", "\ncpu0 ");
    unsigned long long v[5];
    if (sscanf(l + 6, "%llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4]) != 5)
        die("/proc/stat: cpu0 line");
    return v[3] + v[4];
}

static unsigned long param(const char *name, unsigned long dflt)
{
    slurp("/proc/cmdline");
    const char *p = strstr(text, name);
    if (!p || p[strlen(name)] != '=')
        return dflt;
    return strtoul(p + strlen(name) + 1, 0, 10);
}

static void load_module(const char *name)
{
    char path[128];
    snprintf(path, sizeof(path), "/modules/%s.ko", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        die(path);
    if (syscall(SYS_finit_module, fd, "", 0) != 0 && errno != EEXIST)
        die(path);
    close(fd);
}

static void set_addr(int s, const char *ifname, unsigned long req, const char *addr)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, addr, &sin->sin_addr);
    if (ioctl(s, req, &ifr) != 0)
        die("SIOCSIFADDR/SIOCSIFNETMASK");
}

static void link_up(int s, const char *ifname)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0)
        die(ifname);
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0)
        die("SIOCSIFFLAGS");
}

static void configure(void)
{
    static const char *mods[] = {"virtio_ring",           "virtio",     "virtio_pci_modern_dev",
                                 "virtio_pci_legacy_dev", "virtio_pci", "failover",
                                 "net_failover",          "virtio_net"};
    for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++)
        load_module(mods[i]);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0)
        die("socket");
    link_up(s, "lo");
    /* The driver registers eth0 while it probes; give it a moment. */
    for (int i = 0; i < 100 && if_nametoindex("eth0") == 0; i++)
        usleep(10000);
    set_addr(s, "eth0", SIOCSIFADDR, "10.0.2.15");
    set_addr(s, "eth0", SIOCSIFNETMASK, "255.255.255.0");
    link_up(s, "eth0");
    struct rtentry rt;
    memset(&rt, 0, sizeof(rt));
    struct sockaddr_in *dst = (struct sockaddr_in *)&rt.rt_dst;
    struct sockaddr_in *gw = (struct sockaddr_in *)&rt.rt_gateway;
    struct sockaddr_in *mask = (struct sockaddr_in *)&rt.rt_genmask;
    dst->sin_family = gw->sin_family = mask->sin_family = AF_INET;
    inet_pton(AF_INET, "10.0.2.2", &gw->sin_addr);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    if (ioctl(s, SIOCADDRT, &rt) != 0)
        die("SIOCADDRT default via 10.0.2.2");
    close(s);
    printf("LINFO eth0 10.0.2.15/24 via 10.0.2.2\n");
}

static int dial(unsigned port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "10.0.2.2", &a.sin_addr);
    for (int tries = 0; tries < 100; tries++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0)
            die("socket");
        if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
            return s;
        close(s);
        usleep(100000);
    }
    die("connect to 10.0.2.2");
    return -1;
}

static void write_all(int s, const void *p, size_t n)
{
    while (n) {
        ssize_t w = write(s, p, n);
        if (w <= 0)
            die("write");
        p = (const char *)p + w;
        n -= (size_t)w;
    }
}

static void header(int s, const char *what, uint64_t bytes)
{
    unsigned char h[16] = {0};
    memcpy(h, what, 4);
    memcpy(h + 4, &bytes, 8); /* little-endian, as the host reads it */
    write_all(s, h, sizeof(h));
}

/* One transfer; returns the bytes moved. */
static uint64_t transfer(unsigned port, int send, uint64_t bytes)
{
    int s = dial(port);
    uint64_t moved = 0;
    header(s, send ? "SEND" : "RECV", bytes);
    if (send) {
        while (moved < bytes) {
            size_t n = bytes - moved < CHUNK ? (size_t)(bytes - moved) : CHUNK;
            write_all(s, buf, n);
            moved += n;
        }
        uint64_t got = 0;
        size_t have = 0;
        while (have < 8) {
            ssize_t r = read(s, (char *)&got + have, 8 - have);
            if (r <= 0)
                die("read the host's count");
            have += (size_t)r;
        }
        if (got != bytes) {
            errno = EIO;
            die("the host received another count");
        }
    } else {
        ssize_t r;
        while ((r = read(s, buf, CHUNK)) > 0)
            moved += (uint64_t)r;
        if (r < 0)
            die("read");
    }
    close(s);
    return moved;
}

static void measure(unsigned port, int send, uint64_t bytes, unsigned round)
{
    uint64_t st0 = stat_idle_ticks();
    uint64_t i0 = idle_ns();
    uint64_t m0 = mono_ns();
    uint64_t t0 = rdtsc();
    uint64_t moved = transfer(port, send, bytes);
    uint64_t t1 = rdtsc();
    uint64_t m1 = mono_ns();
    uint64_t i1 = idle_ns();
    uint64_t st1 = stat_idle_ticks();
    if (moved != bytes) {
        errno = EIO;
        die("short transfer");
    }
    uint64_t elapsed = t1 - t0;
    /* ns to TSC cycles: the rate over the transfer itself. */
    double per_ns = m1 > m0 ? (double)elapsed / (double)(m1 - m0) : 1.0;
    uint64_t idle = (uint64_t)((double)(i1 - i0) * per_ns);
    uint64_t busy = elapsed > idle ? elapsed - idle : 0;
    long hz = sysconf(_SC_CLK_TCK);
    printf("LNET %s round %u bytes %llu elapsed %llu idle %llu busy %llu per-kib %.0f "
           "tsc-per-ns %.4f stat-idle-ms %llu\n",
           send ? "send" : "recv", round, (unsigned long long)bytes, (unsigned long long)elapsed,
           (unsigned long long)idle, (unsigned long long)busy,
           (double)busy / ((double)bytes / 1024.0), per_ns,
           (unsigned long long)((st1 - st0) * 1000 / (unsigned long long)hz));
    fflush(stdout);
}

int main(void)
{
    mount("proc", "/proc", "proc", 0, 0);
    mount("sysfs", "/sys", "sysfs", 0, 0);
    mount("devtmpfs", "/dev", "devtmpfs", 0, 0);
    int con = open("/dev/console", O_RDWR);
    if (con >= 0) {
        dup2(con, 1);
        dup2(con, 2);
    }
    setvbuf(stdout, 0, _IOLBF, 0);
    struct utsname u;
    uname(&u);
    printf("LINFO %s %s\n", u.release, u.version);
    memset(buf, 0x5a, sizeof(buf));
    configure();
    unsigned port = (unsigned)param("lnet_port", 0);
    uint64_t bytes = param("lnet_bytes", 8u << 20);
    unsigned rounds = (unsigned)param("lnet_rounds", 2);
    if (!port) {
        errno = EINVAL;
        die("lnet_port= missing from the kernel command line");
    }
    for (unsigned r = 1; r <= rounds; r++) {
        measure(port, 1, bytes, r);
        measure(port, 0, bytes, r);
    }
    printf("LNET done\n");
    fflush(stdout);
    sync();
    reboot(RB_POWER_OFF);
    return 0;
}
