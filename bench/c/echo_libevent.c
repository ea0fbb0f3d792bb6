/*
 * echo_libevent: the echo server of levent's echo benchmark on libevent
 * 2.1, written as libevent's documentation writes one: an evconnlistener
 * hands each connection to a bufferevent whose read callback moves the
 * input buffer to the output buffer. One event loop does all the I/O.
 * bench/servers/levent-bev is the same program on levent. Like every server
 * of the benchmark it sets TCP_NODELAY on each connection (Go's net, gnet and
 * nbio do by default), unless -nodelay=false.
 *
 *   gcc -O2 -o echo_libevent echo_libevent.c -levent
 *   echo_libevent [-addr 127.0.0.1:9006] [-nodelay=true|false]
 *
 * SIGINT and SIGTERM end the loop; the program then exits 0.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>

#include "echo_common.h"

static int nodelay = 1;

static void read_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg)
{
	(void)sa, (void)salen, (void)arg;
	if (nodelay) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	}
	struct bufferevent *bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		evutil_closesocket(fd);
		return;
	}
	bufferevent_setcb(bev, read_cb, NULL, event_cb, NULL);
	bufferevent_enable(bev, EV_READ);
}

static void stop_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig, (void)what;
	event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
	const char *addr = "127.0.0.1:9006";
	if (!parse_args(argc, argv, &addr, &nodelay))
		return 2;
	raise_nofile();
	signal(SIGPIPE, SIG_IGN); /* a peer's reset must not kill the server */

	struct sockaddr_storage ss;
	int sslen = sizeof ss;
	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sslen) < 0) {
		fprintf(stderr, "echo_libevent: bad address %s\n", addr);
		return 2;
	}
	struct event_base *base = event_base_new();
	if (base == NULL) {
		fprintf(stderr, "echo_libevent: event_base_new failed\n");
		return 1;
	}
	struct evconnlistener *l = evconnlistener_new_bind(base, accept_cb, NULL,
		LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, -1, (struct sockaddr *)&ss, sslen);
	if (l == NULL) {
		perror("echo_libevent: evconnlistener_new_bind");
		return 1;
	}
	struct event *sigint = evsignal_new(base, SIGINT, stop_cb, base);
	struct event *sigterm = evsignal_new(base, SIGTERM, stop_cb, base);
	event_add(sigint, NULL);
	event_add(sigterm, NULL);

	event_base_dispatch(base);

	event_free(sigint);
	event_free(sigterm);
	evconnlistener_free(l);
	event_base_free(base);
	return 0;
}
