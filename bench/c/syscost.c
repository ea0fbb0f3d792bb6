/* syscost: what the system calls an event loop makes cost from C, to set
 * beside bench/cmd/syscost (the same calls from Go). Prints one line:
 *
 *   syscost impl=c epoll_wait0_ns=X write_read_ns=Y
 *
 * epoll_wait0 is epoll_wait with a zero timeout on an empty epoll instance
 * (loop_once makes one per iteration); write_read is a 1-byte write into a
 * pipe and the 1-byte read back (what a pipechain callback does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

static long long now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	struct epoll_event ev[64];
	int p[2];
	char c = 'x';
	int ep = epoll_create1(0);
	if (ep < 0 || pipe(p) < 0) {
		perror("syscost");
		return 1;
	}
	long long t0 = now();
	for (long i = 0; i < n; i++)
		epoll_wait(ep, ev, 64, 0);
	long long t1 = now();
	for (long i = 0; i < n; i++) {
		if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1) {
			perror("syscost");
			return 1;
		}
	}
	long long t2 = now();
	printf("syscost impl=c epoll_wait0_ns=%.1f write_read_ns=%.1f\n",
	       (double)(t1 - t0) / n, (double)(t2 - t1) / n);
	return 0;
}
