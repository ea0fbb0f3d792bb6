package event

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/levent-go/levent/internal/poller"
)

// Config chooses how NewBaseWithConfig builds a base (libevent's
// event_config). The zero Config gives NewBase's defaults.
type Config struct {
	// Method names the backend to try first: "epoll", "poll" or
	// "io_uring". Empty means the platform's default order, epoll then
	// poll; io_uring is used only when asked for, here or with
	// LEVENT_IOURING in the environment. A method that cannot be opened
	// (io_uring refused by the kernel), is avoided, or lacks
	// RequireFeatures is passed over for the default order, and
	// Base.MethodFallback says why. libevent has no such field: it takes
	// the first method not avoided.
	Method string
	// AvoidMethods names backends not to use: "epoll", "poll", "io_uring"
	// (event_config_avoid_method).
	AvoidMethods []string
	// RequireFeatures lists features the backend must have
	// (event_config_require_features).
	RequireFeatures Feature
	// Priorities is the number of priority levels, 0 meaning 1
	// (event_base_priority_init). At most 256.
	Priorities int
	// IgnoreEnv makes the base ignore LEVENT_NOEPOLL, LEVENT_NOPOLL,
	// LEVENT_NOIOURING and LEVENT_IOURING (EVENT_BASE_FLAG_IGNORE_ENV).
	IgnoreEnv bool
	// PreciseTimer makes the loop wake for a timer as close to its
	// deadline as the kernel allows (EVENT_BASE_FLAG_PRECISE_TIMER). By
	// default Linux may end the loop's sleep up to 50 µs late (the
	// thread's timer slack); with PreciseTimer the loop sets the slack of
	// the thread it sleeps on to 1 ns before each timed sleep, at the cost
	// of one system call per sleep. levent's clock is always the precise
	// one, so unlike libevent's default no timer fires early either way.
	PreciseTimer bool
}

// maxPriorities bounds Config.Priorities; priorities are stored in a byte.
const maxPriorities = 256

// openMethod opens a backend by name; tests swap it to make one fail.
var openMethod = poller.Open

// pickMethod opens the method the configuration or the environment asks
// for, or else the first one the platform's order of preference allows.
// fallback says why an asked-for method is not the one returned.
func (c *Config) pickMethod() (p poller.Poller, fallback error, err error) {
	methods := poller.Methods()
	if len(methods) == 0 {
		return nil, nil, poller.ErrUnsupported
	}
	want := strings.ToLower(c.Method)
	if want == "" && !c.IgnoreEnv && os.Getenv("LEVENT_IOURING") != "" {
		want = "io_uring"
	}
	if want != "" {
		if !slices.Contains(methods, want) && !slices.Contains(poller.OptInMethods(), want) {
			return nil, nil, fmt.Errorf("%w %q (have %s)", ErrUnknownMethod, want,
				strings.Join(append(methods, poller.OptInMethods()...), ", "))
		}
		p, fallback = c.openWanted(want)
		if p != nil {
			return p, nil, nil
		}
	}
	var tried []string
	for _, m := range methods {
		if m == want || c.avoids(m) {
			continue
		}
		p, err := openMethod(m)
		if err != nil {
			return nil, nil, err
		}
		if !c.featuresOK(p) {
			p.Close()
			tried = append(tried, m)
			continue
		}
		return p, fallback, nil
	}
	if len(tried) > 0 {
		err = fmt.Errorf("%w: %s lack features %v", ErrNoMethod, strings.Join(tried, ", "), c.RequireFeatures)
	} else {
		err = ErrNoMethod
	}
	if fallback != nil {
		err = fmt.Errorf("%w (%v)", err, fallback)
	}
	return nil, nil, err
}

// openWanted opens the method asked for by name, or says why it is not
// used.
func (c *Config) openWanted(m string) (poller.Poller, error) {
	if c.avoids(m) {
		return nil, fmt.Errorf("event: %s asked for but avoided", m)
	}
	p, err := openMethod(m)
	if err != nil {
		return nil, fmt.Errorf("event: %s: %w", m, err)
	}
	if !c.featuresOK(p) {
		p.Close()
		return nil, fmt.Errorf("event: %s lacks features %v", m, c.RequireFeatures&^Feature(p.Features()))
	}
	return p, nil
}

// featuresOK reports whether p has every feature the configuration
// requires.
func (c *Config) featuresOK(p poller.Poller) bool {
	return Feature(p.Features())&c.RequireFeatures == c.RequireFeatures
}

// avoids reports whether method m is excluded by the configuration or by
// LEVENT_NO<METHOD> in the environment (libevent's EVENT_NOEPOLL), the
// name upper-cased without underscores: LEVENT_NOIOURING.
func (c *Config) avoids(m string) bool {
	for _, a := range c.AvoidMethods {
		if strings.EqualFold(a, m) {
			return true
		}
	}
	if !c.IgnoreEnv && os.Getenv("LEVENT_NO"+strings.ToUpper(strings.ReplaceAll(m, "_", ""))) != "" {
		return true
	}
	return false
}
