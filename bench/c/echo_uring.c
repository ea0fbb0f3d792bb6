/*
 * echo_uring: the echo server of levent's echo benchmark on bare io_uring
 * (liburing), the ceiling below bare epoll that levent's io_uring backend
 * is measured against. One thread, one ring:
 *
 *   - a multishot accept on the listening socket;
 *   - a multishot recv per connection into a provided buffer ring shared
 *     by all connections, so an idle connection holds no buffer;
 *   - a send per message, straight from the buffer the recv filled, which
 *     goes back to the ring when the send completes; a connection keeps its
 *     received buffers in order and has one send in flight, so a short send
 *     is finished before the next message goes;
 *   - one io_uring_submit_and_wait per iteration, which submits every send
 *     and re-arm and reaps every completion.
 *
 * When the buffer ring runs dry a connection's recv ends with ENOBUFS; it
 * is re-armed once a send has given a buffer back. Like every server of the
 * benchmark it sets TCP_NODELAY on each connection, unless -nodelay=false.
 *
 *   gcc -O2 -o echo_uring echo_uring.c -luring
 *   echo_uring [-addr 127.0.0.1:9010] [-nodelay=true|false]
 *
 * SIGINT and SIGTERM end the loop; the program then exits 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "echo_common.h"

#define NBUF 1024         /* buffers in the provided ring, a power of two */
#define BUFSZ (64 << 10)  /* bytes per buffer: a 64 KiB message in one */
#define BGID 0            /* the buffer group */
#define NONE 0xffffu      /* no buffer */

enum op { OP_ACCEPT, OP_RECV, OP_SEND };

static inline uint64_t tag(enum op op, int fd) { return (uint64_t)op << 32 | (uint32_t)fd; }

/*
 * conn is the state of one connection, indexed by descriptor: the buffers
 * received and not yet sent back, as a list through next[] from head to
 * tail, the offset sent of the head, and whether its send and its recv are
 * in the kernel. A connection is closed once its recv has ended and no send
 * is in flight, so that no completion can name a reused descriptor.
 */
struct conn {
	uint16_t head, tail;
	uint32_t off;
	uint8_t sending, receiving, closing, starved;
};

static struct io_uring ring;
static struct io_uring_buf_ring *br;
static char *bufs;
static uint16_t next[NBUF];
static uint32_t blen[NBUF];
static struct conn *conns;
static int nconns;
static int *starved; /* connections waiting for a buffer to re-arm recv */
static int nstarved;
static unsigned returned; /* buffers given back since the last advance */
static int nodelay = 1;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static struct io_uring_sqe *sqe_get(void)
{
	struct io_uring_sqe *sqe;
	while ((sqe = io_uring_get_sqe(&ring)) == NULL)
		io_uring_submit(&ring);
	return sqe;
}

static void give_back(uint16_t bid)
{
	io_uring_buf_ring_add(br, bufs + (size_t)bid * BUFSZ, BUFSZ, bid,
			      io_uring_buf_ring_mask(NBUF), returned++);
}

static void arm_recv(int fd)
{
	struct io_uring_sqe *sqe = sqe_get();
	io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, tag(OP_RECV, fd));
	conns[fd].receiving = 1;
}

static void arm_accept(int lfd)
{
	struct io_uring_sqe *sqe = sqe_get();
	io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, tag(OP_ACCEPT, lfd));
}

static void send_head(int fd)
{
	struct conn *c = &conns[fd];
	uint16_t bid = c->head;
	struct io_uring_sqe *sqe = sqe_get();
	io_uring_prep_send(sqe, fd, bufs + (size_t)bid * BUFSZ + c->off, blen[bid] - c->off, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, tag(OP_SEND, fd));
	c->sending = 1;
}

/* drop gives back every buffer fd still holds. */
static void drop(int fd)
{
	struct conn *c = &conns[fd];
	while (c->head != NONE) {
		uint16_t bid = c->head;
		c->head = next[bid];
		give_back(bid);
	}
	c->tail = NONE;
}

/* maybe_close closes fd once nothing of it is in the kernel. */
static void maybe_close(int fd)
{
	struct conn *c = &conns[fd];
	if (!c->closing || c->sending || c->receiving)
		return;
	drop(fd);
	close(fd);
	memset(c, 0, sizeof *c);
	c->head = c->tail = NONE;
}

static void on_accept(int lfd, struct io_uring_cqe *cqe)
{
	if (!(cqe->flags & IORING_CQE_F_MORE))
		arm_accept(lfd);
	int fd = cqe->res;
	if (fd < 0)
		return;
	if (fd >= nconns) {
		close(fd);
		return;
	}
	if (nodelay) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	struct conn *c = &conns[fd];
	memset(c, 0, sizeof *c);
	c->head = c->tail = NONE;
	arm_recv(fd);
}

static void on_recv(int fd, struct io_uring_cqe *cqe)
{
	struct conn *c = &conns[fd];
	if (!(cqe->flags & IORING_CQE_F_MORE))
		c->receiving = 0;
	if (cqe->res > 0) {
		uint16_t bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		if (c->closing) {
			give_back(bid);
		} else {
			blen[bid] = cqe->res;
			next[bid] = NONE;
			if (c->tail == NONE)
				c->head = bid;
			else
				next[c->tail] = bid;
			c->tail = bid;
			if (!c->sending) {
				c->off = 0;
				send_head(fd);
			}
		}
	} else if (cqe->res == -ENOBUFS) {
		/* the ring ran dry: re-arm once a buffer comes back */
		if (!c->receiving && !c->closing && !c->starved) {
			c->starved = 1;
			starved[nstarved++] = fd;
		}
		return;
	} else if (cqe->res != -EINTR && !c->receiving) {
		c->closing = 1; /* end of stream or an error */
	}
	if (!c->receiving && !c->closing && !c->starved)
		arm_recv(fd);
	maybe_close(fd);
}

static void on_send(int fd, struct io_uring_cqe *cqe)
{
	struct conn *c = &conns[fd];
	c->sending = 0;
	if (cqe->res < 0 && cqe->res != -EINTR) {
		c->closing = 1;
		drop(fd);
		maybe_close(fd);
		return;
	}
	if (cqe->res > 0)
		c->off += cqe->res;
	uint16_t bid = c->head;
	if (c->off == blen[bid]) {
		c->head = next[bid];
		if (c->head == NONE)
			c->tail = NONE;
		c->off = 0;
		give_back(bid);
	}
	if (c->head != NONE && !c->closing)
		send_head(fd);
	maybe_close(fd);
}

static void setup_ring(void)
{
	struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER |
					      IORING_SETUP_DEFER_TASKRUN,
				     .cq_entries = 65536 };
	int err = io_uring_queue_init_params(4096, &ring, &p);
	if (err == -EINVAL) { /* an older kernel: without the task-run flags */
		p = (struct io_uring_params){ .flags = IORING_SETUP_CQSIZE, .cq_entries = 65536 };
		err = io_uring_queue_init_params(4096, &ring, &p);
	}
	if (err < 0) {
		fprintf(stderr, "echo_uring: io_uring_queue_init: %s\n", strerror(-err));
		exit(1);
	}
	if (posix_memalign((void **)&br, 4096, NBUF * sizeof(struct io_uring_buf)) ||
	    posix_memalign((void **)&bufs, 4096, (size_t)NBUF * BUFSZ)) {
		fprintf(stderr, "echo_uring: out of memory\n");
		exit(1);
	}
	io_uring_buf_ring_init(br);
	struct io_uring_buf_reg reg = { .ring_addr = (unsigned long)br, .ring_entries = NBUF, .bgid = BGID };
	if ((err = io_uring_register_buf_ring(&ring, &reg, 0)) < 0) {
		fprintf(stderr, "echo_uring: io_uring_register_buf_ring: %s\n", strerror(-err));
		exit(1);
	}
	for (uint16_t b = 0; b < NBUF; b++)
		give_back(b);
	io_uring_buf_ring_advance(br, returned);
	returned = 0;
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1:9010";
	if (!parse_args(argc, argv, &addr, &nodelay))
		return 2;
	rlim_t nofile = raise_nofile();
	nconns = nofile > (1 << 20) ? (1 << 20) : (int)nofile;
	conns = calloc(nconns, sizeof *conns);
	starved = calloc(nconns, sizeof *starved);

	struct sigaction sa = { .sa_handler = on_signal }; /* no SA_RESTART: the wait returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int lfd = listen_on("echo_uring", addr, SOCK_CLOEXEC);
	if (lfd < 0) {
		fprintf(stderr, "echo_uring: bad address %s (want IPv4 host:port)\n", addr);
		return 2;
	}
	setup_ring();
	arm_accept(lfd);

	while (!stop) {
		int err = io_uring_submit_and_wait(&ring, 1);
		if (err < 0 && err != -EINTR && err != -EAGAIN && err != -EBUSY) {
			fprintf(stderr, "echo_uring: io_uring_submit_and_wait: %s\n", strerror(-err));
			return 1;
		}
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			uint64_t ud = io_uring_cqe_get_data64(cqe);
			int fd = (int)(uint32_t)ud;
			switch ((enum op)(ud >> 32)) {
			case OP_ACCEPT: on_accept(fd, cqe); break;
			case OP_RECV: on_recv(fd, cqe); break;
			case OP_SEND: on_send(fd, cqe); break;
			}
			seen++;
		}
		io_uring_cq_advance(&ring, seen);
		if (returned) {
			io_uring_buf_ring_advance(br, returned);
			returned = 0;
			while (nstarved > 0) { /* buffers came back: re-arm the starved */
				int fd = starved[--nstarved];
				conns[fd].starved = 0;
				if (!conns[fd].closing && !conns[fd].receiving)
					arm_recv(fd);
			}
		}
	}
	io_uring_queue_exit(&ring);
	close(lfd);
	return 0;
}
