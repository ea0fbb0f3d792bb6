package listener

// Options change how a Listener behaves, with libevent's LEV_OPT_* values.
type Options int

// Options for NewBind and New.
const (
	// LeaveSocketsBlocking hands accepted sockets over in blocking mode;
	// by default they are non-blocking, as the loop needs them.
	LeaveSocketsBlocking Options = 1 << 0
	// CloseOnFree closes a descriptor given to New on Free. NewBind's own
	// socket is always closed, and its unix socket path removed.
	CloseOnFree Options = 1 << 1
	// CloseOnExec sets close-on-exec on a descriptor given to New.
	// Descriptors levent creates (NewBind's socket, accepted
	// connections) always have it.
	CloseOnExec Options = 1 << 2
	// Reuseable sets SO_REUSEADDR, so a restarted server can bind at once.
	Reuseable Options = 1 << 3
	// ThreadSafe is accepted for libevent compatibility: a Listener is
	// always safe to Enable, Disable and Free from any goroutine.
	ThreadSafe Options = 1 << 4
	// Disabled creates the listener without accepting; call Enable.
	Disabled Options = 1 << 5
	// DeferredAccept sets TCP_DEFER_ACCEPT: connections are handed over
	// only once the client has sent data. Only for protocols in which the
	// client speaks first.
	DeferredAccept Options = 1 << 6
	// ReuseablePort sets SO_REUSEPORT, so that several listeners (one per
	// loop, say) share a port and the kernel spreads connections.
	ReuseablePort Options = 1 << 7
	// BindIPv6Only sets IPV6_V6ONLY on an IPv6 listener.
	BindIPv6Only Options = 1 << 8
	// RemoveStaleUnix (levent's own) lets NewBind remove a unix socket
	// file that an earlier process left behind and nothing listens on.
	RemoveStaleUnix Options = 1 << 16
)

const allOptions = LeaveSocketsBlocking | CloseOnFree | CloseOnExec | Reuseable | ThreadSafe |
	Disabled | DeferredAccept | ReuseablePort | BindIPv6Only | RemoveStaleUnix
