/* Not from the seeds: the notes' programs include the course's wrap.h,
 * whose wrap.c they do not give. These are the wrappers the two programs
 * use, as that file has them: the system call, and on failure perror and
 * exit; Accept tries again after ECONNABORTED or EINTR. */
#ifndef WRAP_H
#define WRAP_H
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

static void perr_exit(const char *s)
{
    perror(s);
    exit(-1);
}

static int Socket(int family, int type, int protocol)
{
    int n;
    if ((n = socket(family, type, protocol)) < 0)
        perr_exit("socket error");
    return n;
}

static int Bind(int fd, const struct sockaddr *sa, socklen_t salen)
{
    int n;
    if ((n = bind(fd, sa, salen)) < 0)
        perr_exit("bind error");
    return n;
}

static int Listen(int fd, int backlog)
{
    int n;
    if ((n = listen(fd, backlog)) < 0)
        perr_exit("listen error");
    return n;
}

static int Accept(int fd, struct sockaddr *sa, socklen_t *salenptr)
{
    int n;
again:
    if ((n = accept(fd, sa, salenptr)) < 0) {
        if (errno == ECONNABORTED || errno == EINTR)
            goto again;
        perr_exit("accept error");
    }
    return n;
}

static int Connect(int fd, const struct sockaddr *sa, socklen_t salen)
{
    int n;
    if ((n = connect(fd, sa, salen)) < 0)
        perr_exit("connect error");
    return n;
}
#endif
