package bufferevent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/levent-go/levent/event"
	"github.com/levent-go/levent/internal/sock"
)

// Connect starts a non-blocking connect to address on network ("tcp",
// "tcp4", "tcp6", "unix") (bufferevent_socket_connect). address is an IP
// literal with a port, as Go writes it ("127.0.0.1:9527", "[::1]:80"), or
// a socket path; use ConnectHostname for names, which must be resolved
// off the loop. Without a descriptor yet, Connect creates the socket (use
// CloseOnFree to have Free close it). Safe from any goroutine.
//
// The outcome arrives through the event callback: Connected, or Error with
// Err giving the errno (ECONNREFUSED...), also when the connection is
// refused at once; Connect itself then still returns nil, as libevent's
// does. It returns an error only for bad arguments or when no socket can
// be made. Data written before the connection is up is sent once it is,
// and reading starts then if it is enabled. A write timeout set with
// SetTimeouts also bounds the connect: it ends in Writing|Timeout.
func (bev *BufferEvent) Connect(network, address string) error {
	if network != "unix" {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("bufferevent: Connect: %w", err)
		}
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("bufferevent: Connect needs an IP address, not %q: use ConnectHostname", host)
		}
	}
	family, sa, err := sock.ResolveAddr(network, address)
	if err != nil {
		return err
	}
	return bev.connect(family, sa)
}

func (bev *BufferEvent) connect(family int, sa unix.Sockaddr) error {
	bev.mu.Lock()
	defer bev.mu.Unlock()
	if bev.state&bsFreed != 0 {
		return ErrFreed
	}
	if bev.state&bsConnecting != 0 {
		return ErrConnecting
	}
	created := false
	if bev.fd < 0 {
		fd, err := sock.Socket(family, unix.SOCK_STREAM, 0)
		if err != nil {
			return err
		}
		if err := bev.setFd(fd); err != nil {
			sock.Close(fd)
			return err
		}
		created = true
	}
	inProgress, err := sock.Connect(int(bev.fd), sa)
	var errno unix.Errno
	if err != nil && !(errors.As(err, &errno) && refusedAtOnce(errno)) {
		if created {
			bev.rev.Free()
			if bev.wev != nil {
				bev.wev.Free()
			}
			bev.rev, bev.wev = event.Event{}, nil
			sock.Close(int(bev.fd))
			bev.fd = -1
		}
		return err
	}
	bev.state |= bsConnecting
	bev.stopReadingLocked()
	bev.stopWritingLocked()
	wev, err2 := bev.writeEvent()
	if err2 != nil {
		bev.state &^= bsConnecting
		return err2
	}
	if inProgress {
		if err := wev.Add(bev.wtimeout); err != nil {
			bev.state &^= bsConnecting
			return err
		}
		bev.state |= bsWriting
		return nil
	}
	// Finished (or refused) at once: report it from the loop, as a
	// write readiness, so that the callback never runs inside Connect.
	if err != nil {
		bev.err = errnoOf(err)
		bev.state |= bsRefused
	}
	wev.Active(event.Write)
	return nil
}

// refusedAtOnce lists the errors a non-blocking connect may return
// immediately that libevent reports through the event callback rather
// than as Connect's result.
func refusedAtOnce(e unix.Errno) bool {
	switch e {
	case unix.ECONNREFUSED, unix.ENETUNREACH, unix.EHOSTUNREACH, unix.ENOENT, unix.EAGAIN, unix.ETIMEDOUT:
		return true
	}
	return false
}

// finishConnectLocked ends a connect: Connected, or Error with the errno
// (lock held on entry, released on return).
func (bev *BufferEvent) finishConnectLocked() {
	var err error
	if bev.state&bsRefused != 0 {
		err = bev.err
	} else {
		err = sock.SocketError(int(bev.fd))
	}
	bev.state &^= bsConnecting | bsRefused
	if err != nil {
		bev.err = errnoOf(err)
		bev.stopWritingLocked()
		bev.reportLocked(Error)
		return
	}
	bev.startReadingLocked()
	// Output written while connecting goes out now; the socket is writable.
	if bev.output.Len() > 0 && bev.enabled&event.Write != 0 {
		bev.startWritingLocked()
	} else {
		bev.stopWritingLocked()
	}
	bev.reportLocked(Connected)
}

// ConnectHostname resolves host without blocking the loop, then connects
// to port on the first address found (bufferevent_socket_connect_hostname);
// for "tcp" an IPv4 address is preferred, as Go's net package does.
// network is "tcp", "tcp4" or "tcp6". Resolution runs on its own goroutine
// and hands the result back to the loop with Submit; a failure is reported
// as Error, with Err holding the resolver's error. Safe from any goroutine.
func (bev *BufferEvent) ConnectHostname(network, host string, port int) error {
	var ipNet string
	switch network {
	case "tcp", "tcp4", "tcp6":
		ipNet = "ip" + network[len("tcp"):]
	default:
		return fmt.Errorf("bufferevent: ConnectHostname: network %q is not tcp, tcp4 or tcp6", network)
	}
	if host == "" {
		return errors.New("bufferevent: ConnectHostname: empty host name")
	}
	if port < 0 || port > 65535 {
		return fmt.Errorf("bufferevent: ConnectHostname: port %d out of range", port)
	}
	bev.mu.Lock()
	if bev.state&bsFreed != 0 {
		bev.mu.Unlock()
		return ErrFreed
	}
	if bev.state&(bsConnecting|bsResolving) != 0 {
		bev.mu.Unlock()
		return ErrConnecting
	}
	bev.state |= bsResolving
	bev.mu.Unlock()
	go bev.resolve(network, ipNet, host, port)
	return nil
}

// resolve looks host up and hands the outcome to the loop.
func (bev *BufferEvent) resolve(network, ipNet, host string, port int) {
	addr, err := lookupFirst(ipNet, host)
	serr := bev.base.Submit(func() {
		bev.mu.Lock()
		bev.state &^= bsResolving
		if bev.state&bsFreed != 0 {
			bev.mu.Unlock()
			return
		}
		bev.mu.Unlock()
		if err == nil {
			err = bev.Connect(network, netip.AddrPortFrom(addr, uint16(port)).String())
		}
		if err != nil {
			bev.mu.Lock()
			bev.err = err
			bev.reportLocked(Error)
		}
	})
	if serr != nil { // the base is closed: nobody is waiting
		bev.mu.Lock()
		bev.state &^= bsResolving
		bev.mu.Unlock()
	}
}

// lookupNetIP is the resolver ConnectHostname uses; tests swap it.
var lookupNetIP = net.DefaultResolver.LookupNetIP

// lookupFirst resolves host and picks the address to connect to: the
// first one, or for "ip" the first IPv4 one if there is any.
func lookupFirst(ipNet, host string) (netip.Addr, error) {
	addrs, err := lookupNetIP(context.Background(), ipNet, host)
	if err != nil {
		return netip.Addr{}, err
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("bufferevent: no address for %q", host)
	}
	if ipNet == "ip" {
		for _, a := range addrs {
			if a.Unmap().Is4() {
				return a.Unmap(), nil
			}
		}
	}
	if ipNet == "ip6" {
		return addrs[0], nil
	}
	return addrs[0].Unmap(), nil
}
