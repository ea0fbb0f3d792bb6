package poller

import "fmt"

var backends = []struct {
	name string
	open func() (Poller, error)
}{
	{"epoll", openEpoll},
	{"poll", openPoll},
}

// Methods lists the backends of this platform, best first.
func Methods() []string {
	names := make([]string, len(backends))
	for i, b := range backends {
		names[i] = b.name
	}
	return names
}

// Open opens the backend called name.
func Open(name string) (Poller, error) {
	for _, b := range backends {
		if b.name == name {
			return b.open()
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownMethod, name)
}
