package bufferevent

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// tlsConn is what a TLS BufferEvent adds to a socket one: the crypto/tls
// connection and the ciphertext on its way in and out. crypto/tls reads and
// writes a net.Conn; here that is tlsTransport, which reads from rawIn and
// writes to rawOut, while the BufferEvent moves ciphertext between them and
// the socket with the same events, timeouts and readv/writev as plain data
// (NewTLS: readSocket, writeSocket), or, for a TLS filter, between them and
// its underlying BufferEvent's Input and Output (NewTLSFilter: takeIn,
// giveOut). Everything else, the handshake goroutine included, is the same
// for both.
//
// crypto/tls cannot be driven by readiness during the handshake: a read
// that finds no data fails the handshake for good. So the handshake runs on
// a goroutine of its own, whose transport reads wait for the loop to bring
// ciphertext; when it ends, the goroutine hands the outcome to the loop and
// exits. From then on only the loop uses the connection, and a read that
// finds no data returns errWouldBlock, which crypto/tls takes as temporary:
// a partial record stays in its buffer until the rest comes. An idle
// connection therefore holds no goroutine.
type tlsConn struct {
	conn *tls.Conn
	// flushFn is tlsFlushSubmitted's method value, made once: the
	// handshake goroutine hands it to the loop after each write.
	flushFn func()

	mu   sync.Mutex // guards what follows; taken after bev.mu (and after a TLS filter's underlying's), never before
	cond sync.Cond  // signalled when rawIn grows, the input ends or the conn closes

	rawIn, rawOut Buffer
	blocking      bool // the handshake runs: transport reads wait
	inEnd         bool // the socket reached its end, or failed: no more rawIn
	endRead       bool // the transport returned io.EOF to crypto/tls
	closed        bool // Free ran: transport reads and writes fail

	handshakeDone bool  // the handshake succeeded (loop's goroutine, under bev.mu)
	allowDirty    bool  // report the end without close_notify as EOF (under bev.mu)
	handshakeErr  error // why the handshake failed (under bev.mu)
	sockErr       error // the socket's (or underlying's) read error that ended rawIn (under bev.mu)
	notifySent    bool  // close_notify is written (under bev.mu)
	// unread: crypto/tls may hold plaintext or a record not yet read, or
	// the end of rawIn is not yet seen, so a TLS filter's next step reads
	// even with rawIn empty (under bev.mu).
	unread bool
}

// errWouldBlock is what a transport read returns to crypto/tls when the
// loop drives it and no ciphertext waits: a net.Error that says it is
// temporary, so that crypto/tls keeps its state and the call can be made
// again once more data came.
var errWouldBlock net.Error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "bufferevent: no TLS data yet" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// tlsTransport is the net.Conn crypto/tls is given.
type tlsTransport struct {
	t    *tlsConn
	bev  *BufferEvent
	addr net.Addr
}

func (tr tlsTransport) Read(p []byte) (int, error) {
	t := tr.t
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.rawIn.Len() == 0 {
		switch {
		case t.closed:
			return 0, net.ErrClosed
		case t.inEnd:
			t.endRead = true
			return 0, io.EOF
		case !t.blocking:
			return 0, errWouldBlock
		}
		t.cond.Wait()
	}
	k := t.rawIn.CopyOut(p)
	t.rawIn.drain(k)
	return k, nil
}

// Write keeps the ciphertext in rawOut for the loop to write. During the
// handshake it runs on the handshake goroutine and hands a flush to the
// loop; afterwards the loop writes rawOut itself after each encryption.
func (tr tlsTransport) Write(p []byte) (int, error) {
	t := tr.t
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return 0, net.ErrClosed
	}
	ringWrite(&t.rawOut, p)
	blocking := t.blocking
	t.mu.Unlock()
	if blocking {
		tr.bev.base.Submit(t.flushFn) // refused only by a closed base, which writes nothing more
	}
	return len(p), nil
}

// Close is called by crypto/tls only through tls.Conn.Close, which levent
// never calls: Free closes the descriptor.
func (tr tlsTransport) Close() error                     { return nil }
func (tr tlsTransport) LocalAddr() net.Addr              { return tr.addr }
func (tr tlsTransport) RemoteAddr() net.Addr             { return tr.addr }
func (tr tlsTransport) SetDeadline(time.Time) error      { return nil }
func (tr tlsTransport) SetReadDeadline(time.Time) error  { return nil }
func (tr tlsTransport) SetWriteDeadline(time.Time) error { return nil }

// readSocket reads what the socket has into rawIn, at most max bytes
// (0: no cap): one readv, as for plain data. At the end of the stream or on an error the transport learns that
// no more will come, and a waiting handshake wakes up.
func (t *tlsConn) readSocket(fd, max int) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.rawIn.readFd(fd, max, true)
	switch {
	case err == unix.EAGAIN:
		return 0, err
	case err != nil:
		t.inEnd = true
	}
	if n > 0 || err != nil {
		t.cond.Broadcast()
	}
	return n, err
}

// writeSocket writes what rawOut holds, at most max bytes (0: no cap),
// with one writev and reports how much went and whether some is left.
func (t *tlsConn) writeSocket(fd, max int) (n int, left bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rawOut.Len() == 0 {
		return 0, false, nil
	}
	n, err = t.rawOut.writeFd(fd, max, true)
	return n, t.rawOut.Len() > 0, err
}

// takeIn moves all of src, the underlying's Input of a TLS filter, into
// rawIn: the other transport, next to readSocket. A waiting handshake
// wakes up. It returns how much moved; nothing once the conn is closed.
func (t *tlsConn) takeIn(src *Buffer) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return 0
	}
	n := t.rawIn.addBuffer(src)
	if n > 0 {
		t.cond.Broadcast()
	}
	return n
}

// giveOut moves all of rawOut to the end of dst, the underlying's Output
// of a TLS filter (or the close_notify kept for it), next to writeSocket.
// It returns how much moved.
func (t *tlsConn) giveOut(dst *Buffer) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return dst.addBuffer(&t.rawOut)
}

// endInput records that no more ciphertext will come into rawIn (a TLS
// filter's underlying reached its end or failed), and wakes a waiting
// handshake, which then fails.
func (t *tlsConn) endInput() {
	t.mu.Lock()
	t.inEnd = true
	t.cond.Broadcast()
	t.mu.Unlock()
}

// pendingOut is how much ciphertext waits to be written.
func (t *tlsConn) pendingOut() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rawOut.Len()
}

// pendingIn reports whether ciphertext waits to be decrypted.
func (t *tlsConn) pendingIn() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rawIn.Len() > 0
}

// storage is the ciphertext buffers' storage.
func (t *tlsConn) storage() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rawIn.Cap() + t.rawOut.Cap()
}

// trim gives the ciphertext buffers' storage back while they are empty, as
// a quiet connection's Input and Output do.
func (t *tlsConn) trim() {
	t.mu.Lock()
	t.rawIn.Trim()
	t.rawOut.Trim()
	t.mu.Unlock()
}

// close makes every transport call fail from now on and wakes a waiting
// handshake, which then fails and lets its goroutine exit.
func (t *tlsConn) close() {
	t.mu.Lock()
	t.closed = true
	t.rawIn.reset()
	t.rawOut.reset()
	t.cond.Broadcast()
	t.mu.Unlock()
}

// stopBlocking ends the handshake's waiting reads: from now on the loop
// drives the connection.
func (t *tlsConn) stopBlocking() {
	t.mu.Lock()
	t.blocking = false
	t.mu.Unlock()
}
