/*
 * levbench.c: the event-loop micro-benchmarks of bench/SPEC.md on libevent
 * 2.1, the reference levent's figures are compared with. It prints the same
 * "bench=" lines as cmd/levbench, with impl=libevent-VERSION.
 *
 * Build: gcc -O2 -o levbench-c levbench.c -levent   (or: make)
 *
 * Usage:
 *   levbench-c pipechain PIPES ACTIVE WRITES [ITERS=25] [FDS=duplex|pair]
 *   levbench-c timer_churn N [R=10] [COMMON=0|1]
 *   levbench-c timer_fire N [PRECISE=0|1]
 *   levbench-c activate [M=10000000]
 *   levbench-c loop_once [M=1000000]
 *   levbench-c memory [N=1000000]
 *
 * A failed check exits with status 1, bad arguments with status 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

static char impl[64];

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("levbench-c: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void usage(void)
{
	fputs("usage: levbench-c SUBCOMMAND ARGS...\n"
	      "  pipechain PIPES ACTIVE WRITES [ITERS=25] [FDS=duplex|pair]\n"
	      "  timer_churn N [R=10] [COMMON=0|1]\n"
	      "  timer_fire N [PRECISE=0|1]\n"
	      "  activate [M=10000000]\n"
	      "  loop_once [M=1000000]\n"
	      "  memory [N=1000000]\n",
	      stderr);
	exit(2);
}

/* argument i of argv as a non-negative integer, def when absent (def < 0:
 * required). */
static long arg_int(int argc, char **argv, int i, long def)
{
	char *end;
	long v;
	if (i >= argc) {
		if (def < 0)
			usage();
		return def;
	}
	errno = 0;
	v = strtol(argv[i], &end, 10);
	if (errno || *end || end == argv[i] || v < 0)
		usage();
	return v;
}

/* ---- clocks ---------------------------------------------------------- */

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_ns(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		die("getrusage: %s", strerror(errno));
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static int64_t rss_bytes(void)
{
	long size, resident;
	FILE *f = fopen("/proc/self/statm", "r");
	if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
		die("reading /proc/self/statm");
	fclose(f);
	return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("getrlimit: %s", strerror(errno));
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("setrlimit: %s", strerror(errno));
}

/* ---- PRNG: splitmix64 ------------------------------------------------ */

static uint64_t rng_state;

static void rng_seed(void) { rng_state = 0x5EEDC0FFEE123457ULL; }

static uint64_t rng_next(void)
{
	uint64_t z;
	rng_state += 0x9E3779B97F4A7C15ULL;
	z = rng_state;
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* idle timeout: whole microseconds, uniform in [1 s, 60 s) */
static struct timeval idle_timeout(void)
{
	uint64_t us = 1000000 + rng_next() % 59000000;
	struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
	return tv;
}

/* ---- percentiles ----------------------------------------------------- */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* element floor((n-1)*q/100) of v sorted ascending (sorts v) */
static int64_t percentile(int64_t *v, size_t n, int q)
{
	qsort(v, n, sizeof v[0], cmp_i64);
	return v[(n - 1) * q / 100];
}

static struct event_base *new_base(int precise)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base;
	if (!cfg)
		die("event_config_new failed");
	if (precise && event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER) != 0)
		die("event_config_set_flag failed");
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (!base)
		die("event_base_new failed");
	return base;
}

/* ---- 1. pipechain ---------------------------------------------------- */

static int num_pipes, *wfd;
static long count, fired, writes, failures;

static void pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	intptr_t idx = (intptr_t)arg;
	int widx = idx + 1;
	char ch;
	ssize_t n;
	(void)what;
	if (widx >= num_pipes)
		widx -= num_pipes;
	n = read(fd, &ch, 1);
	if (n >= 0)
		count += n;
	else
		failures++;
	if (writes > 0) {
		if (write(wfd[widx], "e", 1) != 1)
			failures++;
		writes--;
		fired++;
	}
}

static void make_socketpair(int *a, int *b)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
		die("socketpair: %s", strerror(errno));
	*a = sv[0];
	*b = sv[1];
}

static void cmd_pipechain(int argc, char **argv)
{
	long P = arg_int(argc, argv, 2, -1), A = arg_int(argc, argv, 3, -1);
	long W = arg_int(argc, argv, 4, -1), iters = arg_int(argc, argv, 5, 25);
	const char *fds = argc > 6 ? argv[6] : "duplex";
	int pair, *rfd, i, it;
	struct event_base *base;
	struct event **evs;
	int64_t *dispatch, *total;

	if (argc > 7)
		usage();
	if (strcmp(fds, "duplex") == 0)
		pair = 0;
	else if (strcmp(fds, "pair") == 0)
		pair = 1;
	else
		usage();
	if (P < 1 || A < 1 || A > P || iters < 1)
		usage();

	num_pipes = P;
	rfd = calloc(P, sizeof *rfd);
	wfd = calloc(P, sizeof *wfd);
	evs = calloc(P, sizeof *evs);
	dispatch = calloc(iters, sizeof *dispatch);
	total = calloc(iters, sizeof *total);
	if (!rfd || !wfd || !evs || !dispatch || !total)
		die("out of memory");
	if (pair) {
		for (i = 0; i < P; i++)
			make_socketpair(&rfd[i], &wfd[i]);
	} else {
		long H = (P + 1) / 2, k;
		for (k = 0; k < H; k++) {
			int x, y;
			make_socketpair(&x, &y);
			rfd[k] = x;
			wfd[k] = y;
			if (k + H < P) {
				rfd[k + H] = y;
				wfd[k + H] = x;
			}
		}
	}

	base = new_base(0);
	for (i = 0; i < P; i++) {
		evs[i] = event_new(base, rfd[i], EV_READ | EV_PERSIST, pipe_cb, (void *)(intptr_t)i);
		if (!evs[i] || event_add(evs[i], NULL) != 0)
			die("event_new/event_add failed");
	}

	for (it = 0; it < iters; it++) {
		int64_t t_iter0 = now_ns(), t0, t1;
		long space = P / A, j;
		for (i = 0; i < P; i++) {
			if (event_del(evs[i]) != 0 || event_add(evs[i], NULL) != 0)
				die("event_del/event_add failed");
		}
		if (event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) < 0)
			die("event_base_loop failed");
		fired = 0;
		for (j = 0; j < A; j++) {
			if (write(wfd[j * space], "e", 1) != 1)
				failures++;
			fired++;
		}
		count = 0;
		writes = W;
		t0 = now_ns();
		do {
			if (event_base_loop(base, EVLOOP_ONCE) != 0)
				die("event_base_loop returned early");
		} while (count != fired);
		t1 = now_ns();
		if (fired != A + W || failures != 0)
			die("pipechain: iteration %d: fired=%ld want %ld, failures=%ld want 0",
			    it, fired, A + W, failures);
		dispatch[it] = t1 - t0;
		total[it] = t1 - t_iter0;
	}

	{
		int64_t med = percentile(dispatch, iters, 50);
		printf("bench=pipechain impl=%s pipes=%ld active=%ld writes=%ld fds=%s "
		       "us_per_iter=%.1f ns_per_event=%.1f total_us_per_iter=%.1f\n",
		       impl, P, A, W, fds, med / 1e3, (double)med / (double)(A + W),
		       percentile(total, iters, 50) / 1e3);
	}
}

/* ---- 2a. timer_churn ------------------------------------------------- */

static long timer_fired;

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	timer_fired++;
}

static void cmd_timer_churn(int argc, char **argv)
{
	long N = arg_int(argc, argv, 2, -1), R = arg_int(argc, argv, 3, 10);
	long common = arg_int(argc, argv, 4, 0);
	long reps, c, r, i;
	int64_t T1 = 0, T2 = 0, T3 = 0, t, u;
	struct event_base *base;
	struct event **evs;
	const struct timeval *ct = NULL;
	double ops;

	if (argc > 5 || N < 1 || common > 1)
		usage();
	base = new_base(0);
	if (common) {
		/* every timer gets the same 10 s timeout, from libevent's O(1)
		 * queue for one duration */
		struct timeval ten = {10, 0};
		if (!(ct = event_base_init_common_timeout(base, &ten)))
			die("event_base_init_common_timeout failed");
	}
	evs = calloc(N, sizeof *evs);
	if (!evs)
		die("out of memory");
	for (i = 0; i < N; i++)
		if (!(evs[i] = event_new(base, -1, 0, timer_cb, NULL)))
			die("event_new failed");

	rng_seed();
	reps = 1000000 / N;
	if (reps < 1)
		reps = 1;
	for (c = 0; c < reps; c++) {
		t = now_ns();
		for (i = 0; i < N; i++) {
			struct timeval tv = idle_timeout();
			if (event_add(evs[i], ct ? ct : &tv) != 0)
				die("event_add failed");
		}
		u = now_ns();
		T1 += u - t;
		for (r = 0; r < R; r++)
			for (i = 0; i < N; i++) {
				struct timeval tv = idle_timeout();
				if (event_add(evs[i], ct ? ct : &tv) != 0)
					die("event_add failed");
			}
		t = now_ns();
		T2 += t - u;
		for (i = 0; i < N; i++)
			if (event_del(evs[i]) != 0)
				die("event_del failed");
		T3 += now_ns() - t;
	}
	ops = (double)reps * (double)N;
	printf("bench=timer_churn impl=%s n=%ld r=%ld ns_per_add=%.1f ns_per_del=%.1f "
	       "ns_per_first_add=%.1f ns_per_readd=%.1f reps=%ld fired=%ld common=%ld\n",
	       impl, N, R, (T1 + T2) / (ops * (R + 1)), T3 / ops, T1 / ops,
	       R > 0 ? T2 / (ops * R) : 0.0, reps, timer_fired, common);
}

/* ---- 2b. timer_fire -------------------------------------------------- */

static int64_t *fire_at;
static long fire_count;

static void fire_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fire_at[(intptr_t)arg] = now_ns(); /* a real clock read, not the cached time */
	fire_count++;
}

static void cmd_timer_fire(int argc, char **argv)
{
	long N = arg_int(argc, argv, 2, -1), precise = arg_int(argc, argv, 3, 0);
	long i, *order;
	int64_t *deadline, *late, c0, c1, t0, ta, t1;
	struct event_base *base;
	struct event **evs;

	if (argc > 4 || N < 1 || precise > 1)
		usage();
	base = new_base(precise);
	fire_at = calloc(N, sizeof *fire_at);
	deadline = calloc(N, sizeof *deadline);
	late = calloc(N, sizeof *late);
	order = calloc(N, sizeof *order);
	evs = calloc(N, sizeof *evs);
	if (!fire_at || !deadline || !late || !order || !evs)
		die("out of memory");
	for (i = 0; i < N; i++) {
		order[i] = i;
		if (!(evs[i] = event_new(base, -1, 0, fire_cb, (void *)(intptr_t)i)))
			die("event_new failed");
	}
	rng_seed();
	for (i = N - 1; i >= 1; i--) {
		long j = (long)(rng_next() % (uint64_t)(i + 1)), tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}

	c0 = cpu_ns();
	t0 = now_ns();
	for (i = 0; i < N; i++) {
		long idx = order[i];
		int64_t us = (int64_t)idx * 100000 / N;
		struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
		deadline[idx] = now_ns() + us * 1000;
		if (event_add(evs[idx], &tv) != 0)
			die("event_add failed");
	}
	ta = now_ns();
	if (event_base_dispatch(base) < 0)
		die("event_base_dispatch failed");
	t1 = now_ns();
	c1 = cpu_ns();

	if (fire_count != N)
		die("timer_fire: %ld timers fired, want %ld", fire_count, N);
	for (i = 0; i < N; i++) {
		if (fire_at[i] == 0)
			die("timer_fire: timer %ld never fired", i);
		late[i] = fire_at[i] - deadline[i];
	}
	printf("bench=timer_fire impl=%s n=%ld precise=%ld total_ms=%.1f ns_per_timer=%.1f "
	       "cpu_ns_per_timer=%.1f late_p50_us=%.1f late_p99_us=%.1f late_max_us=%.1f "
	       "late_min_us=%.1f add_ms=%.1f\n",
	       impl, N, precise, (t1 - t0) / 1e6, (double)(t1 - t0) / N, (double)(c1 - c0) / N,
	       percentile(late, N, 50) / 1e3, percentile(late, N, 99) / 1e3,
	       percentile(late, N, 100) / 1e3, percentile(late, N, 0) / 1e3, (ta - t0) / 1e6);
}

/* ---- 3. activate and 3b. loop_once ----------------------------------- */

static long act_n, act_m;

static void activate_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	act_n++;
	if (act_n < act_m)
		event_active((struct event *)arg, EV_READ, 0);
}

static void cmd_activate(int argc, char **argv)
{
	struct event_base *base;
	struct event *ev;
	int64_t t0, t1;

	act_m = arg_int(argc, argv, 2, 10000000);
	if (argc > 3 || act_m < 1)
		usage();
	base = new_base(0);
	if (!(ev = event_new(base, -1, 0, activate_cb, event_self_cbarg())))
		die("event_new failed");
	t0 = now_ns();
	event_active(ev, EV_READ, 0);
	if (event_base_dispatch(base) < 0)
		die("event_base_dispatch failed");
	t1 = now_ns();
	if (act_n != act_m)
		die("activate: callback ran %ld times, want %ld", act_n, act_m);
	printf("bench=activate impl=%s n=%ld ns_per_cb=%.1f\n", impl, act_m,
	       (double)(t1 - t0) / act_m);
}

static void count_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	act_n++;
}

static void cmd_loop_once(int argc, char **argv)
{
	struct event_base *base;
	struct event *ev;
	int64_t t0, t1;
	long i, M = arg_int(argc, argv, 2, 1000000);

	if (argc > 3 || M < 1)
		usage();
	base = new_base(0);
	if (!(ev = event_new(base, -1, 0, count_cb, NULL)))
		die("event_new failed");
	t0 = now_ns();
	for (i = 0; i < M; i++) {
		event_active(ev, EV_READ, 0);
		if (event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) < 0)
			die("event_base_loop failed");
	}
	t1 = now_ns();
	if (act_n != M)
		die("loop_once: callback ran %ld times, want %ld", act_n, M);
	printf("bench=loop_once impl=%s n=%ld ns_per_iter=%.1f\n", impl, M, (double)(t1 - t0) / M);
}

/* ---- 4. memory ------------------------------------------------------- */

static void cmd_memory(int argc, char **argv)
{
	long i, N = arg_int(argc, argv, 2, 1000000);
	struct event_base *base;
	struct event **evs;
	int64_t rss0, rss1;

	if (argc > 3 || N < 1)
		usage();
	base = new_base(0);
	evs = malloc(N * sizeof *evs);
	if (!evs)
		die("out of memory");
	memset(evs, 0, N * sizeof *evs); /* touch the harness array */
	rng_seed();
	rss0 = rss_bytes();
	for (i = 0; i < N; i++) {
		struct timeval tv;
		if (!(evs[i] = event_new(base, -1, 0, timer_cb, NULL)))
			die("event_new failed");
		tv = idle_timeout();
		if (event_add(evs[i], &tv) != 0)
			die("event_add failed");
	}
	rss1 = rss_bytes();
	printf("bench=memory impl=%s n=%ld bytes_per_event=%.1f struct_bytes=%zu\n", impl, N,
	       (double)(rss1 - rss0) / N, event_get_struct_event_size());
}

int main(int argc, char **argv)
{
	const char *v = event_get_version();
	size_t len = strcspn(v, "-"); /* "2.1.12-stable" -> "2.1.12" */
	snprintf(impl, sizeof impl, "libevent-%.*s", (int)len, v);
	if (argc < 2)
		usage();
	raise_nofile();
	if (strcmp(argv[1], "pipechain") == 0)
		cmd_pipechain(argc, argv);
	else if (strcmp(argv[1], "timer_churn") == 0)
		cmd_timer_churn(argc, argv);
	else if (strcmp(argv[1], "timer_fire") == 0)
		cmd_timer_fire(argc, argv);
	else if (strcmp(argv[1], "activate") == 0)
		cmd_activate(argc, argv);
	else if (strcmp(argv[1], "loop_once") == 0)
		cmd_loop_once(argc, argv);
	else if (strcmp(argv[1], "memory") == 0)
		cmd_memory(argc, argv);
	else
		usage();
	return 0;
}
