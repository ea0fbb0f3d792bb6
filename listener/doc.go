// Package listener accepts connections for a levent loop: libevent's
// evconnlistener.
//
// A Listener watches a listening socket on a Base and, each time it is
// readable, accepts every waiting connection (accept4 until EAGAIN) and
// hands each to a Callback with its descriptor, already non-blocking and
// close-on-exec, and the peer's address. The usual next step is
// bufferevent.New(base, fd, bufferevent.CloseOnFree).
//
// On io_uring (with a kernel that has multishot accept) the kernel accepts
// the connections as they arrive and the Listener takes them from the
// base (event.Accept, (*event.Base).Accept) with no accept4 call; the
// callback gets the same descriptors and the same addresses (read with
// getpeername, or SO_PEERNAME for a connection reset meanwhile, as
// accept4 would report it). Nothing changes for the user: Disable keeps
// the connections the kernel took for Enable, Free closes them, and EMFILE
// reaches the error callback and backs off as below. LeaveSocketsBlocking
// listeners accept with accept4 everywhere.
//
// The calls map onto libevent's:
//
//	evconnlistener_new_bind        NewBind
//	evconnlistener_new             New
//	evconnlistener_enable          (*Listener).Enable
//	evconnlistener_disable         (*Listener).Disable
//	evconnlistener_set_cb          (*Listener).SetCallback
//	evconnlistener_set_error_cb    (*Listener).SetErrorCallback
//	evconnlistener_get_fd          (*Listener).Fd
//	evconnlistener_get_base        (*Listener).Base
//	evconnlistener_free            (*Listener).Free
//	LEV_OPT_*                      LeaveSocketsBlocking, CloseOnFree,
//	                               CloseOnExec, Reuseable, ThreadSafe,
//	                               Disabled, DeferredAccept, ReuseablePort,
//	                               BindIPv6Only (same values)
//
// Addresses are written as Go's net package writes them ("127.0.0.1:0",
// "[::1]:9527", ":http", "/run/app.sock", "@abstract"), and Addr returns
// the address the kernel really bound, so port 0 is useful. levent adds the
// RemoveStaleUnix option, which lets NewBind replace a unix socket file
// that an earlier process left behind.
//
// # Running out of descriptors
//
// A process out of descriptors cannot accept: accept fails with EMFILE or
// ENFILE, the connection stays in the backlog and the socket stays
// readable. Retrying at once would spin the loop; giving up would stop the
// server for good. A Listener reports any accept error other than EAGAIN
// to the error callback and pauses accepting with a timer, 5 ms at first,
// doubling with each failure in a row up to one second; a successful
// accept resets the pause. libevent leaves this to the error callback.
//
// # Goroutines and ownership
//
// Callbacks run on the goroutine running the Base's loop, without the
// Listener's lock, so they may call any method; Free is safe inside both
// callbacks. Enable, Disable, SetCallback, SetErrorCallback and Free are
// safe from any goroutine, and no callback starts after Free returns.
//
// The lock order is l.mu → base.mu: a Listener's methods and its accept
// handler add and remove its events holding its own lock, and the Base
// runs no handler with the Base's lock held.
//
// The socket NewBind creates belongs to the Listener: Free closes it and
// removes the unix socket file it created. A descriptor given to New stays
// the caller's unless CloseOnFree. Accepted descriptors belong to the
// callback.
package listener
