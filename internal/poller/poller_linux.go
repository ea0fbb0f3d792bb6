package poller

import "fmt"

// backend is a method's name and how to open it.
type backend struct {
	name string
	open func() (Poller, error)
}

// backends are the default methods, best first.
var backends = []backend{
	{"epoll", openEpoll},
	{"poll", openPoll},
}

// optIn are the backends opened only when asked for by name: io_uring,
// until it is measured ahead of epoll everywhere.
var optIn = []backend{
	{"io_uring", openURing},
}

// Methods lists the backends of this platform that a base chooses from by
// default, best first.
func Methods() []string { return names(backends) }

// OptInMethods lists the backends that are never chosen by default, only
// when asked for by name.
func OptInMethods() []string { return names(optIn) }

func names(bs []backend) []string {
	names := make([]string, len(bs))
	for i, b := range bs {
		names[i] = b.name
	}
	return names
}

// Open opens the backend called name. A backend the kernel cannot provide
// returns an error matching ErrUnavailable.
func Open(name string) (Poller, error) {
	for _, bs := range [...][]backend{backends, optIn} {
		for _, b := range bs {
			if b.name == name {
				return b.open()
			}
		}
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownMethod, name)
}
