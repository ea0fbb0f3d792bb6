package sock

import "golang.org/x/sys/unix"

// Every system call the package makes goes through one of these variables,
// as in Go's internal/poll/hook_unix.go, so that tests can make any of them
// fail (EINTR, ECONNABORTED, EMFILE...) and check what the caller does.
var (
	socketFunc           = unix.Socket
	accept4Func          = accept4
	connectFunc          = unix.Connect
	bindFunc             = unix.Bind
	listenFunc           = unix.Listen
	closeFunc            = unix.Close
	getsockoptIntFunc    = unix.GetsockoptInt
	setsockoptIntFunc    = unix.SetsockoptInt
	setsockoptLingerFunc = unix.SetsockoptLinger
	getsocknameFunc      = unix.Getsockname
	getpeernameFunc      = unix.Getpeername
	setNonblockFunc      = unix.SetNonblock
	lstatFunc            = unix.Lstat
	unlinkFunc           = unix.Unlink
	getrlimitFunc        = unix.Getrlimit
	setrlimitFunc        = unix.Setrlimit
)
