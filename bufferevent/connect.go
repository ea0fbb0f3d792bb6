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
	return bev.connectLocked(family, sa)
}

// connectLocked is the transition from idle or open to connecting.
func (bev *BufferEvent) connectLocked(family int, sa unix.Sockaddr) error {
	switch {
	case bev.life == lsFreed:
		return ErrFreed
	case bev.life == lsConnecting || bev.life == lsResolving || bev.life == lsHandshaking:
		return ErrConnecting
	case bev.fdlessLocked():
		return ErrNotSocket
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
			bev.dropCreatedFdLocked()
		}
		return err
	}
	bev.abandonSendLocked()
	bev.stopReadingLocked()
	bev.stopWritingLocked()
	wev, err2 := bev.writeEvent()
	if err2 == nil && inProgress {
		err2 = wev.Add(bev.wtimeout)
	}
	if err2 != nil {
		if created {
			bev.dropCreatedFdLocked()
		}
		bev.settleLocked()
		return err2
	}
	bev.life = lsConnecting
	if inProgress {
		bev.work |= bsWriting
		return nil
	}
	// Finished (or refused) at once: report it from the loop, as a
	// write readiness, so that the callback never runs inside Connect.
	if err != nil {
		bev.setErrLocked(errnoOf(err))
		bev.work |= bsRefused
	}
	wev.Active(event.Write)
	return nil
}

// dropCreatedFdLocked undoes the socket connectLocked made, when the
// connect cannot start.
func (bev *BufferEvent) dropCreatedFdLocked() {
	bev.rev.Free()
	if bev.wev != nil {
		bev.wev.Free()
	}
	bev.rev, bev.wev = event.Event{}, nil
	sock.Close(int(bev.fd))
	bev.fd = -1
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

// connectDoneLocked is the transition from connecting to open when wev
// reports the end of a connect: it calls for Connected, or for Error with
// the errno. A connection the loop then refuses to watch is reported as
// Error too, with Err giving the refusal.
func (bev *BufferEvent) connectDoneLocked() calls {
	var err error
	if bev.work&bsRefused != 0 {
		err = bev.errLocked()
	} else {
		err = sock.SocketError(int(bev.fd))
	}
	bev.work &^= bsRefused
	bev.settleLocked()
	if err != nil {
		bev.setErrLocked(errnoOf(err))
		bev.stopWritingLocked()
		return bev.eventCallsLocked(Error)
	}
	if bev.tlsConn() != nil {
		// Connected waits for the end of the handshake.
		bev.stopWritingLocked()
		if err := bev.startHandshakeLocked(); err != nil {
			bev.setErrLocked(err)
			bev.stopReadingLocked()
			return bev.eventCallsLocked(Error)
		}
		return calls{}
	}
	err = bev.startReadingLocked()
	// Output written while connecting goes out now; the socket is writable.
	if bev.out().Len() > 0 && bev.enabled&event.Write != 0 {
		if werr := bev.startWritingLocked(); err == nil {
			err = werr
		}
	} else {
		bev.stopWritingLocked()
	}
	if err != nil {
		bev.setErrLocked(err)
		bev.stopReadingLocked()
		bev.stopWritingLocked()
		return bev.eventCallsLocked(Error)
	}
	return bev.eventCallsLocked(Connected)
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
	defer bev.mu.Unlock()
	switch {
	case bev.life == lsFreed:
		return ErrFreed
	case bev.life == lsConnecting || bev.life == lsResolving || bev.life == lsHandshaking:
		return ErrConnecting
	case bev.fdlessLocked():
		return ErrNotSocket
	}
	bev.life = lsResolving
	go bev.resolve(network, ipNet, host, port)
	return nil
}

// resolve looks host up and hands the outcome to the loop.
func (bev *BufferEvent) resolve(network, ipNet, host string, port int) {
	addr, err := lookupFirst(ipNet, host)
	if err != nil {
		err = &lookupError{err}
	}
	serr := bev.base.Submit(func() {
		bev.mu.Lock()
		c := bev.resolvedLocked(network, netip.AddrPortFrom(addr, uint16(port)), err)
		bev.mu.Unlock()
		c.run(bev)
	})
	if serr != nil { // the base is closed: nobody is waiting
		bev.mu.Lock()
		if bev.life == lsResolving {
			bev.settleLocked()
		}
		bev.mu.Unlock()
	}
}

// resolvedLocked is the transition out of resolving: the connect to addr,
// or, if the lookup or the connect fails, back to idle or open with Error
// reported and Err giving why.
func (bev *BufferEvent) resolvedLocked(network string, addr netip.AddrPort, err error) calls {
	if bev.life != lsResolving {
		return calls{} // freed meanwhile
	}
	bev.settleLocked()
	if err == nil {
		var family int
		var sa unix.Sockaddr
		family, sa, err = sock.ResolveAddr(network, addr.String())
		if err == nil {
			err = bev.connectLocked(family, sa)
		}
	}
	if err != nil {
		bev.setErrLocked(err)
		return bev.eventCallsLocked(Error)
	}
	return calls{}
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
