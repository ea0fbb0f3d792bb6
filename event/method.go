package event

import "github.com/levent-go/levent/internal/poller"

// Errors of method selection; compare with errors.Is.
var (
	// ErrUnknownMethod: Config.Method names no backend of this platform.
	ErrUnknownMethod = poller.ErrUnknownMethod
	// ErrMethodUnavailable is matched by MethodFallback's error when the
	// kernel refused the method asked for: io_uring disabled or filtered
	// (EPERM), absent (ENOSYS), or lacking an opcode or feature. The
	// error matches the errno too, where there is one.
	ErrMethodUnavailable = poller.ErrUnavailable
)

// MethodFallback says why the base does not run on the method asked for,
// by Config.Method or by LEVENT_IOURING in the environment: the method was
// avoided, lacked a required feature, or could not be opened (matching
// ErrMethodUnavailable). It is nil when the base runs on the method asked
// for, or when none was. Method names the backend the base fell back to.
func (b *Base) MethodFallback() error { return b.fallback }
