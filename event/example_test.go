//go:build linux

package event_test

import (
	"fmt"
	"time"

	"github.com/levent-go/levent/event"
	"golang.org/x/sys/unix"
)

// A persistent read event on one end of a socket pair, fed by a timer: the
// shape of most libevent programs.
func Example() {
	base, err := event.NewBase()
	if err != nil {
		panic(err)
	}
	defer base.Close()
	fds, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK, 0)
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])

	var reader *event.Event
	reader, _ = event.New(base, fds[0], event.Read|event.Persist, func(fd int, what event.Flag) {
		buf := make([]byte, 64)
		n, _ := unix.Read(fd, buf)
		fmt.Printf("%v: %s\n", what, buf[:n])
		reader.Del() // nothing else pending: Dispatch returns
	})
	reader.Add(0)

	timer, _ := event.NewTimer(base, func(fd int, what event.Flag) {
		fmt.Printf("%v on fd %d\n", what, fd)
		unix.Write(fds[1], []byte("hello"))
	})
	timer.Add(10 * time.Millisecond)

	base.Dispatch()
	// Output:
	// Timeout on fd -1
	// Read: hello
}

// Submit hands work from another goroutine to the loop's goroutine.
func ExampleBase_Submit() {
	base, _ := event.NewBase()
	defer base.Close()
	done := make(chan struct{})
	go func() {
		result := 6 * 7 // work done elsewhere
		base.Submit(func() {
			fmt.Println("on the loop:", result)
			base.LoopExit(0)
		})
		close(done)
	}()
	base.Loop(event.LoopNoExitOnEmpty)
	<-done
	// Output:
	// on the loop: 42
}

// A periodic timer: Persist with a timeout re-arms from each deadline.
func ExampleNew_periodic() {
	base, _ := event.NewBase()
	defer base.Close()
	n := 0
	var tick *event.Event
	tick, _ = event.New(base, -1, event.Persist, func(fd int, what event.Flag) {
		n++
		fmt.Println("tick", n, what)
		if n == 3 {
			tick.Del()
		}
	})
	tick.Add(5 * time.Millisecond)
	base.Dispatch()
	// Output:
	// tick 1 Timeout
	// tick 2 Timeout
	// tick 3 Timeout
}

// A Read|Accept event on a listening socket takes its connections with
// Base.Accept until EAGAIN: accept4(2) on epoll, the kernel's own accepts
// on io_uring; the callback is the same.
func ExampleBase_Accept() {
	base, err := event.NewBase()
	if err != nil {
		panic(err)
	}
	defer base.Close()
	lfd, _ := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	defer unix.Close(lfd)
	unix.Bind(lfd, &unix.SockaddrUnix{}) // a unique abstract name
	unix.Listen(lfd, 16)
	addr, _ := unix.Getsockname(lfd)

	var ev *event.Event
	ev, _ = event.New(base, lfd, event.Read|event.Persist|event.Accept, func(fd int, _ event.Flag) {
		for {
			nfd, err := base.Accept(fd)
			if err != nil { // unix.EAGAIN: none left for now
				return
			}
			fmt.Println("accepted a connection")
			unix.Close(nfd)
			ev.Del()
		}
	})
	defer ev.Free()
	ev.Add(0)
	client, _ := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	defer unix.Close(client)
	unix.Connect(client, addr)
	base.Dispatch()
	// Output: accepted a connection
}

// A Write|Send event with Base.Send: on io_uring Send queues the bytes,
// the kernel takes them with the loop's next wait, and the event fires once
// they are sent, Sent giving the count; elsewhere Send is writev(2), whose
// count comes back at once, and the event fires when the socket has room
// again (unix.EAGAIN). One callback serves both.
func ExampleBase_Send() {
	base, err := event.NewBase()
	if err != nil {
		panic(err)
	}
	defer base.Close()
	fds, _ := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])

	msg := []byte("hello, peer")
	var ev *event.Event
	done := func(n int, err error) {
		if err != nil {
			fmt.Println("send:", err)
		} else {
			fmt.Println("sent", n, "bytes")
		}
		ev.Del()
	}
	send := func(fd int) {
		n, err := base.Send(fd, msg, nil)
		if n > 0 || err != nil && err != unix.EAGAIN {
			done(n, err) // written at once (a short count would leave the rest to send)
		} // else queued for the kernel, or no room: the event fires
	}
	ev, _ = event.New(base, fds[0], event.Write|event.Persist|event.Send, func(fd int, _ event.Flag) {
		if n, err, ok := base.Sent(fd); ok {
			done(n, err) // the kernel's send completed
			return
		}
		send(fd) // room again for writev
	})
	defer ev.Free()
	ev.Add(0)
	send(fds[0])
	base.Dispatch()
	buf := make([]byte, 64)
	n, _ := unix.Read(fds[1], buf)
	fmt.Printf("the peer read %q\n", buf[:n])
	// Output:
	// sent 11 bytes
	// the peer read "hello, peer"
}
