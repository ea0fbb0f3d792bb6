/*
 * echo_epoll: the echo server of levent's echo benchmark on bare epoll,
 * the ceiling the event-loop servers are measured against. One thread,
 * level-triggered: each readable connection is read once into a buffer
 * shared by all, and what was read is written back at once. When the
 * socket does not take it all, the rest is kept and EPOLLOUT watched until
 * it drains; reads meanwhile join the backlog, up to MAX_PENDING, where
 * reading pauses (bench/servers/levent-raw does the same on levent's
 * events). Like every server of the benchmark it sets
 * TCP_NODELAY on each connection, unless -nodelay=false.
 *
 *   gcc -O2 -o echo_epoll echo_epoll.c
 *   echo_epoll [-addr 127.0.0.1:9007] [-nodelay=true|false]
 *
 * SIGINT and SIGTERM end the loop; the program then exits 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo_common.h"

/*
 * MAX_PENDING bounds the bytes kept for a connection whose socket is full:
 * reading pauses there, so a client that does not read cannot make the
 * server buffer without bound.
 */
#define MAX_PENDING (256 << 10)

/*
 * conn is the state of one connection, indexed by descriptor. The
 * connection watches EPOLLOUT exactly while len > 0, and EPOLLIN exactly
 * while len < MAX_PENDING; events is what it watches now.
 */
struct conn {
	char *pending; /* bytes the socket did not take, in order */
	size_t len;    /* of pending */
	size_t cap;
	uint32_t events;
};

static struct conn *conns;
static int nconns;
static int ep;
/* As large as levent's bufferevent reads at most, and aligned: the kernel
 * copies into a destination that is not 32-byte aligned at half the speed. */
static char buf[256 << 10] __attribute__((aligned(4096)));
static volatile sig_atomic_t stop;
static int nodelay = 1;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void close_conn(int fd)
{
	struct conn *c = &conns[fd];
	free(c->pending);
	memset(c, 0, sizeof *c);
	close(fd); /* also leaves the epoll set */
}

/* rewatch makes fd's epoll interest match its backlog; 0 if it failed. */
static int rewatch(int fd)
{
	struct conn *c = &conns[fd];
	uint32_t want = (c->len < MAX_PENDING ? EPOLLIN : 0) | (c->len > 0 ? EPOLLOUT : 0);
	if (want == c->events)
		return 1;
	struct epoll_event ev = { .events = want, .data.fd = fd };
	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0) {
		close_conn(fd);
		return 0;
	}
	c->events = want;
	return 1;
}

/* keep appends p to fd's backlog; 0 if out of memory (fd is closed). */
static int keep(int fd, const char *p, size_t n)
{
	struct conn *c = &conns[fd];
	if (c->cap < c->len + n) {
		size_t cap = c->cap ? c->cap : 4096;
		while (cap < c->len + n)
			cap *= 2;
		char *np = realloc(c->pending, cap);
		if (np == NULL) {
			close_conn(fd);
			return 0;
		}
		c->pending = np;
		c->cap = cap;
	}
	memcpy(c->pending + c->len, p, n);
	c->len += n;
	return 1;
}

/* send_some writes p; returns bytes written (0 when full), -1 on error. */
static ssize_t send_some(int fd, const char *p, size_t n)
{
	for (;;) {
		ssize_t w = write(fd, p, n);
		if (w >= 0)
			return w;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		return -1;
	}
}

static void on_readable(int fd)
{
	struct conn *c = &conns[fd];
	ssize_t n;
	do
		n = read(fd, buf, sizeof buf);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		close_conn(fd);
		return;
	}
	if (c->len > 0) {
		/* Earlier bytes wait for room: these go after them. */
		if (keep(fd, buf, n))
			rewatch(fd);
		return;
	}
	ssize_t w = send_some(fd, buf, n);
	if (w < 0) {
		close_conn(fd);
		return;
	}
	if (w < n && keep(fd, buf + w, n - w))
		rewatch(fd);
}

static void on_writable(int fd)
{
	struct conn *c = &conns[fd];
	ssize_t w = send_some(fd, c->pending, c->len);
	if (w < 0) {
		close_conn(fd);
		return;
	}
	memmove(c->pending, c->pending + w, c->len - w);
	c->len -= w;
	rewatch(fd);
}

static void on_accept(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN, or out of descriptors: try again later */
		}
		if (fd >= nconns) {
			close(fd);
			continue;
		}
		if (nodelay) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		}
		struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			close(fd);
		else
			conns[fd].events = EPOLLIN;
	}
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1:9007";
	if (!parse_args(argc, argv, &addr, &nodelay))
		return 2;
	rlim_t nofile = raise_nofile();
	nconns = nofile > (1 << 20) ? (1 << 20) : (int)nofile;
	conns = calloc(nconns, sizeof *conns);

	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: epoll_wait returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int lfd = listen_on("echo_epoll", addr, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (lfd < 0) {
		fprintf(stderr, "echo_epoll: bad address %s (want IPv4 host:port)\n", addr);
		return 2;
	}
	ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = { .events = EPOLLIN, .data.fd = lfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);

	struct epoll_event events[1024];
	while (!stop) {
		int n = epoll_wait(ep, events, 1024, -1);
		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;
			uint32_t e = events[i].events;
			if (fd == lfd) {
				on_accept(lfd);
				continue;
			}
			/* Write first: room made now lets this read's echo go out. */
			if (e & EPOLLOUT)
				on_writable(fd);
			/* EPOLLIN, or EPOLLERR/EPOLLHUP, which the read reports. */
			if (conns[fd].events & EPOLLIN && e & (EPOLLIN | EPOLLERR | EPOLLHUP))
				on_readable(fd);
		}
	}
	close(ep);
	close(lfd);
	return 0;
}
