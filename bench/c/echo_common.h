/*
 * echo_common.h: what the C echo servers of levent's echo benchmark share,
 * so that they take the same flags and set up alike.
 */
#ifndef ECHO_COMMON_H
#define ECHO_COMMON_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

/*
 * parse_args reads [-addr host:port] [-nodelay=true|false] into *addr and
 * *nodelay, which hold the defaults; 0 on a bad argument, after the usage.
 */
static inline int parse_args(int argc, char **argv, const char **addr, int *nodelay)
{
	for (int i = 1; i < argc; i++) {
		if ((!strcmp(argv[i], "-addr") || !strcmp(argv[i], "--addr")) && i + 1 < argc)
			*addr = argv[++i];
		else if (!strncmp(argv[i], "-addr=", 6))
			*addr = argv[i] + 6;
		else if (!strcmp(argv[i], "-nodelay") || !strcmp(argv[i], "-nodelay=true"))
			*nodelay = 1;
		else if (!strcmp(argv[i], "-nodelay=false"))
			*nodelay = 0;
		else {
			fprintf(stderr, "usage: %s [-addr host:port] [-nodelay=true|false]\n", argv[0]);
			return 0;
		}
	}
	return 1;
}

/* raise_nofile raises the soft limit of open files to the hard one and
 * returns it. */
static inline rlim_t raise_nofile(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	return rl.rlim_cur;
}

/*
 * listen_on listens on the IPv4 host:port addr with a socket of type
 * SOCK_STREAM | flags; -1 for an address it cannot parse. It exits with
 * status 1, naming prog, when the socket cannot listen.
 */
static inline int listen_on(const char *prog, const char *addr, int flags)
{
	char host[64];
	const char *colon = strrchr(addr, ':');
	if (colon == NULL || (size_t)(colon - addr) >= sizeof host)
		return -1;
	memcpy(host, addr, colon - addr);
	host[colon - addr] = 0;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(atoi(colon + 1)) };
	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return -1;
	int fd = socket(AF_INET, SOCK_STREAM | flags, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
		bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(fd, SOMAXCONN) < 0) {
		fprintf(stderr, "%s: listen: ", prog);
		perror(NULL);
		exit(1);
	}
	return fd;
}

#endif
