package bufferevent

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// bufSocketpair returns the two ends of a non-blocking AF_UNIX stream
// socket pair, closed when the test ends.
func bufSocketpair(t testing.TB) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	t.Cleanup(func() {
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	return fds[0], fds[1]
}

// bufOpenFds counts this process's open file descriptors.
func bufOpenFds(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("listing open fds: %v", err)
	}
	return len(ents)
}

// bufWriteAll writes p to a non-blocking fd that has room for it.
func bufWriteAll(t testing.TB, fd int, p []byte) {
	t.Helper()
	if n, err := unix.Write(fd, p); n != len(p) || err != nil {
		t.Fatalf("write(%d bytes) = %d, %v", len(p), n, err)
	}
}

// bufReadAll reads exactly n bytes that are already waiting on fd.
func bufReadAll(t testing.TB, fd, n int) []byte {
	t.Helper()
	p := make([]byte, n)
	if k, err := unix.Read(fd, p); k != n || err != nil {
		t.Fatalf("read(%d bytes) = %d, %v", n, k, err)
	}
	return p
}

// ioCall is one call a hooked readv or writev saw.
type ioCall struct{ len0, len1 int }

// bufHook replaces *hook for the rest of the test with f, which receives
// the original system call.
func bufHook(t *testing.T, hook *ringIO, f func(orig ringIO, fd int, p0, p1 []byte, nb bool) (int, error)) {
	orig := *hook
	*hook = func(fd int, p0, p1 []byte, nb bool) (int, error) { return f(orig, fd, p0, p1, nb) }
	t.Cleanup(func() { *hook = orig })
}

// bufRecord hooks *hook to record every call before making it.
func bufRecord(t *testing.T, hook *ringIO) *[]ioCall {
	var calls []ioCall
	bufHook(t, hook, func(orig ringIO, fd int, p0, p1 []byte, nb bool) (int, error) {
		calls = append(calls, ioCall{len(p0), len(p1)})
		return orig(fd, p0, p1, nb)
	})
	return &calls
}

func TestBufferReadFdFillsWrappedFreeSpaceWithOneReadv(t *testing.T) {
	a, peer := bufSocketpair(t)
	head := bufPattern(100)
	b := ringAt(t, 8192, 8000, head) // free space: 92 bytes at the end, 8000 at the start
	msg := bytes.Repeat([]byte("0123456789"), 50)
	bufWriteAll(t, peer, msg)
	calls := bufRecord(t, &bufReadv)

	if n, err := b.ReadFd(a, 0); n != len(msg) || err != nil {
		t.Fatalf("ReadFd = %d, %v; want %d, nil", n, err, len(msg))
	}
	if want := []ioCall{{92, 8000}}; len(*calls) != 1 || (*calls)[0] != want[0] {
		t.Fatalf("readv calls %v, want %v", *calls, want)
	}
	checkBuffer(t, b, append(append([]byte{}, head...), msg...))
	if b.Cap() != 8192 {
		t.Errorf("Cap() = %d, want 8192", b.Cap())
	}
}

func TestBufferWriteFdWritesWrappedDataWithOneWritev(t *testing.T) {
	a, peer := bufSocketpair(t)
	data := bufPattern(300)
	b := ringAt(t, minStorage, minStorage-96, data)
	calls := bufRecord(t, &bufWritev)

	if n, err := b.WriteFd(a, 0); n != 300 || err != nil {
		t.Fatalf("WriteFd = %d, %v; want 300, nil", n, err)
	}
	if want := (ioCall{96, 204}); len(*calls) != 1 || (*calls)[0] != want {
		t.Fatalf("writev calls %v, want [%v]", *calls, want)
	}
	if got := bufReadAll(t, peer, 300); !bytes.Equal(got, data) {
		t.Fatalf("peer read %q, want %q", got, data)
	}
	checkBuffer(t, b, nil)
	if b.Cap() != 0 {
		t.Errorf("Cap() after WriteFd emptied the buffer = %d, want 0", b.Cap())
	}
}

func TestBufferReadFdAndWriteFdRespectMax(t *testing.T) {
	a, peer := bufSocketpair(t)
	msg := bufPattern(1000)
	bufWriteAll(t, peer, msg)
	var in Buffer
	if n, err := in.ReadFd(a, 100); n != 100 || err != nil {
		t.Fatalf("ReadFd(max 100) = %d, %v; want 100, nil", n, err)
	}
	if n, err := in.ReadFd(a, -1); n != 900 || err != nil {
		t.Fatalf("ReadFd(no max) = %d, %v; want 900, nil", n, err)
	}
	checkBuffer(t, &in, msg)

	data := bufPattern(300)
	out := ringAt(t, minStorage, minStorage-96, data)
	calls := bufRecord(t, &bufWritev)
	if n, err := out.WriteFd(a, 150); n != 150 || err != nil {
		t.Fatalf("WriteFd(max 150) = %d, %v; want 150, nil", n, err)
	}
	if want := (ioCall{96, 54}); (*calls)[0] != want {
		t.Errorf("writev call %v, want %v", (*calls)[0], want)
	}
	checkBuffer(t, out, data[150:])
	if got := bufReadAll(t, peer, 150); !bytes.Equal(got, data[:150]) {
		t.Fatalf("peer read %q, want %q", got, data[:150])
	}
}

func TestBufferReadFdReturnsEOFWhenPeerShutsDown(t *testing.T) {
	a, peer := bufSocketpair(t)
	if err := unix.Shutdown(peer, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	var b Buffer
	if n, err := b.ReadFd(a, 0); n != 0 || err != io.EOF {
		t.Fatalf("ReadFd = %d, %v; want 0, io.EOF", n, err)
	}
	checkBuffer(t, &b, nil)
	if b.Cap() != 0 {
		t.Errorf("Cap() after EOF = %d, want 0", b.Cap())
	}
}

func TestBufferReadFdReturnsBareEAGAINWhenNothingIsThere(t *testing.T) {
	a, _ := bufSocketpair(t)
	var b Buffer
	if n, err := b.ReadFd(a, 0); n != 0 || err != unix.EAGAIN {
		t.Fatalf("ReadFd = %d, %v (%T); want 0, unix.EAGAIN", n, err, err)
	}
	if b.Cap() != 0 {
		t.Errorf("Cap() after EAGAIN on an empty buffer = %d, want 0", b.Cap())
	}
	b.WriteString("kept")
	if n, err := b.ReadFd(a, 0); n != 0 || err != unix.EAGAIN {
		t.Fatalf("ReadFd = %d, %v; want 0, unix.EAGAIN", n, err)
	}
	checkBuffer(t, &b, []byte("kept"))
}

func TestBufferWriteFdReturnsBareEAGAINWhenSocketIsFull(t *testing.T) {
	a, _ := bufSocketpair(t)
	if err := unix.SetsockoptInt(a, unix.SOL_SOCKET, unix.SO_SNDBUF, 4096); err != nil {
		t.Fatal(err)
	}
	var b Buffer
	data := bufPattern(1 << 20)
	b.Write(data)
	written := 0
	for {
		n, err := b.WriteFd(a, 0)
		written += n
		if err == unix.EAGAIN {
			if n != 0 {
				t.Fatalf("WriteFd = %d, EAGAIN; want 0 with EAGAIN", n)
			}
			break
		}
		if err != nil || n == 0 {
			t.Fatalf("WriteFd = %d, %v before the socket filled", n, err)
		}
	}
	checkBuffer(t, &b, data[written:])
}

func TestBufferFdIORetriesEINTR(t *testing.T) {
	a, peer := bufSocketpair(t)
	eintr := func(calls *int) func(orig ringIO, fd int, p0, p1 []byte, nb bool) (int, error) {
		return func(orig ringIO, fd int, p0, p1 []byte, nb bool) (int, error) {
			if *calls++; *calls <= 2 {
				return 0, unix.EINTR
			}
			return orig(fd, p0, p1, nb)
		}
	}
	var reads, writes int
	bufHook(t, &bufReadv, eintr(&reads))
	bufHook(t, &bufWritev, eintr(&writes))

	bufWriteAll(t, peer, []byte("ping"))
	var b Buffer
	if n, err := b.ReadFd(a, 0); n != 4 || err != nil || reads != 3 {
		t.Fatalf("ReadFd = %d, %v after %d readv calls; want 4, nil after 3", n, err, reads)
	}
	if n, err := b.WriteFd(a, 0); n != 4 || err != nil || writes != 3 {
		t.Fatalf("WriteFd = %d, %v after %d writev calls; want 4, nil after 3", n, err, writes)
	}
	if got := bufReadAll(t, peer, 4); string(got) != "ping" {
		t.Fatalf("peer read %q, want %q", got, "ping")
	}
}

func TestBufferFdIOWrapsOtherErrorsInSyscallError(t *testing.T) {
	var b Buffer
	_, err := b.ReadFd(-1, 0)
	var se *os.SyscallError
	if !errors.As(err, &se) || se.Syscall != "readv" || !errors.Is(err, unix.EBADF) {
		t.Errorf("ReadFd(-1) error = %v, want *os.SyscallError readv EBADF", err)
	}
	b.WriteString("data")
	_, err = b.WriteFd(-1, 0)
	if !errors.As(err, &se) || se.Syscall != "writev" || !errors.Is(err, unix.EBADF) {
		t.Errorf("WriteFd(-1) error = %v, want *os.SyscallError writev EBADF", err)
	}
	checkBuffer(t, &b, []byte("data"))
}

func TestBufferWriteFdShortWriteDrainsOnlyWhatWasWritten(t *testing.T) {
	a, peer := bufSocketpair(t)
	bufHook(t, &bufWritev, func(orig ringIO, fd int, p0, p1 []byte, nb bool) (int, error) {
		return orig(fd, p0[:10], nil, nb)
	})
	data := bufPattern(100)
	var b Buffer
	b.Write(data)
	if n, err := b.WriteFd(a, 0); n != 10 || err != nil {
		t.Fatalf("WriteFd = %d, %v; want 10, nil", n, err)
	}
	checkBuffer(t, &b, data[10:])
	if got := bufReadAll(t, peer, 10); !bytes.Equal(got, data[:10]) {
		t.Fatalf("peer read %q, want %q", got, data[:10])
	}
}

func TestBufferWriteFdOfEmptyBufferMakesNoSystemCall(t *testing.T) {
	calls := bufRecord(t, &bufWritev)
	var b Buffer
	if n, err := b.WriteFd(-1, 0); n != 0 || err != nil || len(*calls) != 0 {
		t.Fatalf("WriteFd = %d, %v with %d writev calls; want 0, nil, none", n, err, len(*calls))
	}
}

func TestBufferReadFdOffersTwiceAsMuchAfterAFullRead(t *testing.T) {
	var offered []int
	fill := -1 // bytes the next fake read returns; -1 fills what it is offered
	bufHook(t, &bufReadv, func(_ ringIO, _ int, p0, p1 []byte, _ bool) (int, error) {
		offered = append(offered, len(p0)+len(p1))
		if fill >= 0 {
			return fill, nil
		}
		return len(p0) + len(p1), nil
	})
	var b Buffer
	for i := 0; i < 8; i++ {
		if _, err := b.ReadFd(0, 0); err != nil {
			t.Fatal(err)
		}
		b.Drain(b.Len())
		b.Trim()
	}
	want := []int{4 << 10, 8 << 10, 16 << 10, 32 << 10, 64 << 10, 128 << 10, 256 << 10, 256 << 10}
	if !slices.Equal(offered, want) {
		t.Fatalf("offered %v, want %v", offered, want)
	}
	fill = 10
	b.ReadFd(0, 0)
	if b.readHint != 128<<10 {
		t.Errorf("after a short read the next read asks for %d, want %d", b.readHint, 128<<10)
	}
}

func TestNextReadHint(t *testing.T) {
	for _, tc := range []struct{ hint, offered, k, want int }{
		{4096, 4096, 4096, 8192},                   // filled: twice as much
		{4096, 6000, 6000, 12000},                  // filled more than the hint
		{4096, 100, 100, 4096},                     // filled a small max: never below the hint
		{readHintMax, 300000, 300000, readHintMax}, // capped
		{4096, 4096, 3000, 4096},                   // most of it: unchanged
		{65536, 65536, 100, 32768},                 // little: halves
		{4096, 4096, 1, 4096},                      // never below 4 KiB
	} {
		if got := nextReadHint(tc.hint, tc.offered, tc.k); got != tc.want {
			t.Errorf("nextReadHint(%d, %d, %d) = %d, want %d", tc.hint, tc.offered, tc.k, got, tc.want)
		}
	}
}

// bufEchoCycle moves msg from peer through in and out back to peer, as an
// echo server's loop does.
func bufEchoCycle(t testing.TB, a, peer int, in, out *Buffer, msg, back []byte) {
	if n, err := unix.Write(peer, msg); n != len(msg) || err != nil {
		t.Fatalf("peer write = %d, %v", n, err)
	}
	for got := 0; got < len(msg); {
		n, err := in.ReadFd(a, 0)
		if err != nil {
			t.Fatalf("ReadFd: %v", err)
		}
		got += n
	}
	out.AddBuffer(in)
	for out.Len() > 0 {
		if _, err := out.WriteFd(a, 0); err != nil {
			t.Fatalf("WriteFd: %v", err)
		}
	}
	for got := 0; got < len(msg); {
		n, err := unix.Read(peer, back[got:])
		if err != nil {
			t.Fatalf("peer read: %v", err)
		}
		got += n
	}
}

func TestBufferFdEchoCycleDoesNotAllocate(t *testing.T) {
	if bufRaceEnabled {
		t.Skip("sync.Pool drops items on purpose under -race")
	}
	a, peer := bufSocketpair(t)
	var in, out Buffer
	msg, back := bufPattern(64), make([]byte, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		bufEchoCycle(t, a, peer, &in, &out, msg, back)
		if _, err := in.ReadFd(a, 0); err != unix.EAGAIN {
			t.Fatalf("ReadFd of a drained socket: %v, want EAGAIN", err)
		}
	})
	if allocs != 0 {
		t.Errorf("echo cycle allocated %v times, want 0", allocs)
	}
	if !bytes.Equal(back, msg) {
		t.Errorf("echoed %q, want %q", back, msg)
	}
}

func TestBufferFdTestsLeaveNoFdsOpen(t *testing.T) {
	before := bufOpenFds(t)
	t.Run("echo", func(t *testing.T) {
		a, peer := bufSocketpair(t)
		var in, out Buffer
		bufEchoCycle(t, a, peer, &in, &out, bufPattern(16<<10), make([]byte, 16<<10))
	})
	if after := bufOpenFds(t); after != before {
		t.Errorf("open fds went from %d to %d", before, after)
	}
}

// fuzzFd makes one ReadFd (read) or WriteFd with the given max through a
// fake system call and returns the model of what b holds afterwards. ctl
// picks what the call does: transfer up to limit bytes (taken from src when
// reading), the same after failing once with EINTR, fail with EAGAIN, or
// end the stream (reading) or fail with EPIPE (writing).
func fuzzFd(t *testing.T, b *Buffer, m []byte, read bool, ctl byte, max, limit int, src []byte) []byte {
	t.Helper()
	mode := ctl % 4
	calls := 0
	var given []byte // what the last call was given to write, or the room it was given to read into
	fake := func(_ int, p0, p1 []byte, _ bool) (int, error) {
		calls++
		given = append(append(given[:0], p0...), p1...)
		switch {
		case mode == 1 && calls == 1:
			return 0, unix.EINTR
		case mode == 2:
			return 0, unix.EAGAIN
		case mode == 3 && read:
			return 0, nil
		case mode == 3:
			return 0, unix.EPIPE
		}
		k := min(limit, len(given), len(src))
		if read {
			copy(p1, src[copy(p0, src[:k]):k])
		} else {
			k = min(limit, len(given))
		}
		return k, nil
	}
	hook := &bufWritev
	if read {
		hook = &bufReadv
	}
	orig := *hook
	*hook = fake
	defer func() { *hook = orig }()

	if read {
		n, err := b.ReadFd(0, max)
		switch {
		case mode == 2:
			if n != 0 || err != unix.EAGAIN {
				t.Fatalf("ReadFd(EAGAIN) = %d, %v", n, err)
			}
		case mode == 3 || min(limit, len(given), len(src)) == 0:
			if n != 0 || err != io.EOF {
				t.Fatalf("ReadFd(end of stream) = %d, %v", n, err)
			}
		default:
			if want := min(limit, len(given), len(src)); n != want || err != nil {
				t.Fatalf("ReadFd(limit %d, offered %d) = %d, %v; want %d", limit, len(given), n, err, want)
			}
			m = append(m, src[:n]...)
		}
		if len(given) == 0 || (max > 0 && len(given) > max) {
			t.Fatalf("ReadFd(max %d) offered %d bytes", max, len(given))
		}
		return m
	}

	if b.hasSegs() {
		return fuzzFdSegs(t, b, m, mode, max, limit)
	}
	n, err := b.WriteFd(0, max)
	want := m
	if max > 0 && max < len(m) {
		want = m[:max]
	}
	switch {
	case len(m) == 0:
		if n != 0 || err != nil || calls != 0 {
			t.Fatalf("WriteFd of empty buffer = %d, %v after %d calls", n, err, calls)
		}
		return m
	case !bytes.Equal(given, want):
		t.Fatalf("WriteFd(max %d) wrote from %q, want %q", max, given, want)
	case mode == 2:
		if n != 0 || err != unix.EAGAIN {
			t.Fatalf("WriteFd(EAGAIN) = %d, %v", n, err)
		}
	case mode == 3:
		if n != 0 || !errors.Is(err, unix.EPIPE) {
			t.Fatalf("WriteFd(EPIPE) = %d, %v", n, err)
		}
	default:
		if k := min(limit, len(want)); n != k || err != nil {
			t.Fatalf("WriteFd(limit %d) = %d, %v; want %d", limit, n, err, k)
		}
	}
	return m[n:]
}

// fuzzFdSegs is fuzzFd's WriteFd of a buffer holding references or file
// ranges, which may make two calls: writev and sendfile take up to limit
// bytes in all, and what they were given must be the front of the data.
func fuzzFdSegs(t *testing.T, b *Buffer, m []byte, mode byte, max, limit int) []byte {
	t.Helper()
	var took []byte
	calls := 0
	fail := func() error {
		calls++
		switch {
		case mode == 1 && calls == 1:
			return unix.EINTR
		case mode == 2:
			return unix.EAGAIN
		case mode == 3:
			return unix.EPIPE
		}
		return nil
	}
	origW, origS := bufWritev, bufSendfile
	defer func() { bufWritev, bufSendfile = origW, origS }()
	bufWritev = func(_ int, p0, p1 []byte, _ bool) (int, error) {
		if err := fail(); err != nil {
			return 0, err
		}
		k := min(limit-len(took), len(p0)+len(p1))
		took = append(took, append(p0[:len(p0):len(p0)], p1...)[:k]...)
		return k, nil
	}
	bufSendfile = func(_ int, f *os.File, off int64, count int) (int, error) {
		if err := fail(); err != nil {
			return 0, err
		}
		p := make([]byte, min(limit-len(took), count))
		k, err := f.ReadAt(p, off)
		took = append(took, p[:k]...)
		if err != nil {
			t.Fatalf("sendfile stand-in: %v", err)
		}
		return k, nil
	}
	n, err := b.WriteFd(0, max)
	switch {
	case n != len(took) || !bytes.Equal(took, m[:n]):
		t.Fatalf("WriteFd(max %d) = %d, took %q; want the front of %q", max, n, took, m)
	case max > 0 && n > max:
		t.Fatalf("WriteFd(max %d) = %d", max, n)
	case n == 0 && mode == 2 && err != unix.EAGAIN:
		t.Fatalf("WriteFd(EAGAIN) = %d, %v", n, err)
	case n == 0 && mode == 3 && !errors.Is(err, unix.EPIPE):
		t.Fatalf("WriteFd(EPIPE) = %d, %v", n, err)
	case mode < 2 && limit > 0 && n == 0:
		t.Fatalf("WriteFd(limit %d) = 0, %v", limit, err)
	}
	return m[n:]
}
