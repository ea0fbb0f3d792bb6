package event

import (
	"fmt"
	"os"
	"strings"

	"github.com/levent-go/levent/internal/poller"
)

// Config chooses how NewBaseWithConfig builds a base (libevent's
// event_config). The zero Config gives NewBase's defaults.
type Config struct {
	// AvoidMethods names backends not to use: "epoll", "poll"
	// (event_config_avoid_method).
	AvoidMethods []string
	// RequireFeatures lists features the backend must have
	// (event_config_require_features).
	RequireFeatures Feature
	// Priorities is the number of priority levels, 0 meaning 1
	// (event_base_priority_init). At most 256.
	Priorities int
	// IgnoreEnv makes the base ignore LEVENT_NOEPOLL and LEVENT_NOPOLL
	// (EVENT_BASE_FLAG_IGNORE_ENV).
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

// pickMethod opens the first backend the configuration and environment
// allow, in the platform's order of preference.
func (c *Config) pickMethod() (poller.Poller, error) {
	methods := poller.Methods()
	if len(methods) == 0 {
		return nil, poller.ErrUnsupported
	}
	var tried []string
	for _, m := range methods {
		if c.avoids(m) {
			continue
		}
		p, err := poller.Open(m)
		if err != nil {
			return nil, err
		}
		if Feature(p.Features())&c.RequireFeatures != c.RequireFeatures {
			p.Close()
			tried = append(tried, m)
			continue
		}
		return p, nil
	}
	if len(tried) > 0 {
		return nil, fmt.Errorf("%w: %s lack features %v", ErrNoMethod, strings.Join(tried, ", "), c.RequireFeatures)
	}
	return nil, ErrNoMethod
}

// avoids reports whether method m is excluded by the configuration or by
// LEVENT_NO<METHOD> in the environment (libevent's EVENT_NOEPOLL).
func (c *Config) avoids(m string) bool {
	for _, a := range c.AvoidMethods {
		if strings.EqualFold(a, m) {
			return true
		}
	}
	if !c.IgnoreEnv && os.Getenv("LEVENT_NO"+strings.ToUpper(m)) != "" {
		return true
	}
	return false
}
