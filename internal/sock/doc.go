// Package sock is the thin layer of socket system calls that levent's
// listener (libevent's evconnlistener) and bufferevent
// (bufferevent_socket_connect) are built on.
//
// It is for levent's own packages, not for applications: it works on plain
// integer descriptors and never hands one to Go's network poller. No
// descriptor created here passes through net.FileConn, net.FileListener or
// os.NewFile, because a descriptor that levent registers with its own epoll
// instance must not also be registered with the runtime's (the runtime
// would steal its readiness events and could close it behind levent's back).
// The tests use net.Dial for the client side only.
//
// The shape follows Go's internal/poll and net/sock_cloexec.go, and
// github.com/mdlayher/socket:
//
//   - every socket is created with SOCK_NONBLOCK|SOCK_CLOEXEC in one call, so
//     no window exists in which a concurrent fork and exec could inherit it;
//   - EINTR is retried where retrying is correct (socket, accept4) and not
//     where it is wrong (close: Linux has released the descriptor already;
//     connect: the connection goes on asynchronously, so Connect reports it
//     as in progress, as POSIX specifies);
//   - accept4 also retries ECONNABORTED, a connection that was reset while it
//     waited in the backlog and of no interest to the caller;
//   - Accept decodes the peer's address from the kernel's raw sockaddr,
//     which stays on the stack, straight into the net.Addr the listener
//     hands on: a server makes one for every connection, so it is one
//     allocation (a TCP peer) where x/sys/unix's Sockaddr and a conversion
//     would take three;
//   - failures are wrapped with os.NewSyscallError, which names the call and
//     still matches the errno through errors.Is, except the few errors the
//     callers branch on (EAGAIN, EMFILE and ENFILE from Accept; every errno
//     from Connect and SocketError), which come back as bare unix.Errno
//     values so they can be compared with ==;
//   - every system call goes through a package variable (hook_linux.go),
//     so the tests can inject EINTR, ECONNABORTED or EMFILE.
//
// Mapping to libevent: Listen is evconnlistener_new_bind's socket, setsockopt,
// bind and listen sequence (ListenOptions are its LEV_OPT_REUSEABLE,
// LEV_OPT_REUSEABLE_PORT, LEV_OPT_BIND_IPV6ONLY and LEV_OPT_DEFERRED_ACCEPT
// flags); ListenFd is evconnlistener_new on a descriptor the user bound;
// Accept is listener_read_cb's evutil_accept4_ call; Connect and
// SocketError are evutil_socket_connect_ and
// evutil_socket_finished_connecting_.
//
// Only Linux is implemented. On other systems every function that makes a
// system call returns ErrUnsupported, so that the module still builds there.
package sock
