package bufferevent

import "errors"

// lookupError marks the resolver's error of a ConnectHostname, so that
// DNSErr can tell it from a connect's. Err returns it; errors.Is and
// errors.As see the resolver's error through it.
type lookupError struct{ err error }

func (e *lookupError) Error() string { return e.err.Error() }
func (e *lookupError) Unwrap() error { return e.err }

// DNSErr returns the resolver's error when the Error that Err reports came
// from ConnectHostname's lookup (bufferevent_socket_get_dns_error), and nil
// when the last error was another, such as a refused connect, or there was
// none. libevent returns an EAI_* code; here it is the resolver's own
// error, usually a *net.DNSError. Safe from any goroutine.
func (bev *BufferEvent) DNSErr() error {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	var le *lookupError
	if errors.As(bev.errLocked(), &le) {
		return le.err
	}
	return nil
}
