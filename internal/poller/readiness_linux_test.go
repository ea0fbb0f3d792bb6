package poller

import (
	"errors"
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMethodsOpenEveryBackend(t *testing.T) {
	got := Methods()
	want := []string{"epoll", "poll"}
	if !slices.Equal(got, want) {
		t.Errorf("Methods() = %q, want %q", got, want)
	}
	if got, want := OptInMethods(), []string{"io_uring"}; !slices.Equal(got, want) {
		t.Errorf("OptInMethods() = %q, want %q", got, want)
	}
}

func TestOpenUnknownMethodFails(t *testing.T) {
	p, err := Open("select")
	if !errors.Is(err, ErrUnknownMethod) {
		t.Errorf("Open(\"select\") error = %v, want one matching ErrUnknownMethod", err)
	}
	if p != nil {
		t.Errorf("Open(\"select\") = %v, want a nil Poller", p)
	}
}

func TestFeaturesOfEachBackend(t *testing.T) {
	tests := []struct {
		name       string
		features   Feature
		concurrent bool
	}{
		{"epoll", FeatureET | FeatureO1 | FeatureEarlyClose, true},
		{"poll", FeatureFDs | FeatureEarlyClose, false},
		// io_uring with IORING_SETUP_COOP_TASKRUN (every kernel that has
		// what the backend needs): changes are the loop's to submit.
		{"io_uring", FeatureET | FeatureO1 | FeatureFDs | FeatureEarlyClose, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := openBackend(t, tt.name)
			if got := p.Features(); got != tt.features {
				t.Errorf("Features() = %#x, want %#x", got, tt.features)
			}
			if got := p.Concurrent(); got != tt.concurrent {
				t.Errorf("Concurrent() = %v, want %v", got, tt.concurrent)
			}
		})
	}
}

func TestReadableAfterPeerWrites(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		a, b := socketpair(t)
		quiet, _ := socketpair(t)
		update(t, p, a, 3, 0, In)
		update(t, p, quiet, 4, 0, In)
		mustNotReport(t, p, a, "nothing written yet")

		write(t, b, "x")
		got := waitFor(t, p, a)
		want := Event{Fd: int32(a), Gen: 3, Ready: ReadyIn}
		if got != want {
			t.Errorf("report = %+v, want %+v", got, want)
		}
		mustNotReport(t, p, quiet, "nothing written to the other pair")

		drain(t, a)
		mustNotReport(t, p, a, "after the data was read")
	})
}

func TestWritableUntilSendBufferFills(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		a, b := socketpair(t)
		update(t, p, a, 5, 0, Out)
		got := waitFor(t, p, a)
		want := Event{Fd: int32(a), Gen: 5, Ready: ReadyOut}
		if got != want {
			t.Errorf("empty send buffer: report = %+v, want %+v", got, want)
		}

		fill(t, a)
		mustNotReport(t, p, a, "send buffer full")

		drain(t, b)
		got = waitFor(t, p, a)
		if got != want {
			t.Errorf("after the peer read: report = %+v, want %+v", got, want)
		}
	})
}

// A descriptor that is both readable and writable reports exactly the
// directions it is currently watched for.
func TestModifyInterestChangesWhatIsReported(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		a, b := socketpair(t)
		write(t, b, "x") // a is now readable and writable
		steps := []struct {
			old, new Interest
			want     Ready // 0: not reported at all
		}{
			{0, In, ReadyIn},
			{In, In | Out, ReadyIn | ReadyOut},
			{In | Out, Out, ReadyOut},
			{Out, In, ReadyIn},
			{In, 0, 0},
		}
		for _, s := range steps {
			update(t, p, a, 1, s.old, s.new)
			e, ok := poll0(t, p)[int32(a)]
			switch {
			case s.want == 0 && ok:
				t.Errorf("after %04b -> %04b: reported %+v, want nothing", s.old, s.new, e)
			case s.want != 0 && !ok:
				t.Errorf("after %04b -> %04b: not reported, want Ready %05b", s.old, s.new, s.want)
			case s.want != 0 && e.Ready != s.want:
				t.Errorf("after %04b -> %04b: Ready = %05b, want %05b", s.old, s.new, e.Ready, s.want)
			}
		}
	})
}

func TestGenerationIsReportedBack(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		a, b := socketpair(t)
		write(t, b, "x")
		gens := []uint32{7, 8, 0, 1<<31 + 5, ^uint32(0)}
		for _, gen := range gens {
			update(t, p, a, gen, 0, In)
			if got := waitFor(t, p, a).Gen; got != gen {
				t.Errorf("registered with gen %d: reported Gen %d", gen, got)
			}
			update(t, p, a, gen, In, 0)
			mustNotReport(t, p, a, "removed")
		}
	})
}

// Registering a descriptor the backend still holds (old == 0 again, as
// when a closed number's removal was skipped) replaces the registration
// and its generation instead of failing.
func TestAddOverStaleRegistrationReplacesIt(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		a, b := socketpair(t)
		write(t, b, "x")
		update(t, p, a, 1, 0, Out)
		update(t, p, a, 2, 0, In)
		got := waitFor(t, p, a)
		want := Event{Fd: int32(a), Gen: 2, Ready: ReadyIn}
		if got != want {
			t.Errorf("report = %+v, want %+v", got, want)
		}
	})
}

// Removing one descriptor leaves the others, with their own generations,
// untouched (poll moves the last entry into the hole).
func TestRemoveKeepsOtherRegistrations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		type pair struct{ a, b int }
		var ps [4]pair
		for i := range ps {
			ps[i].a, ps[i].b = socketpair(t)
			write(t, ps[i].b, "x")
			update(t, p, ps[i].a, uint32(10+i), 0, In)
		}
		update(t, p, ps[1].a, 11, In, 0)
		update(t, p, ps[0].a, 10, In, 0)
		got := poll0(t, p)
		for i, s := range ps {
			e, ok := got[int32(s.a)]
			if i < 2 {
				if ok {
					t.Errorf("removed pair %d: reported %+v, want nothing", i, e)
				}
				continue
			}
			want := Event{Fd: int32(s.a), Gen: uint32(10 + i), Ready: ReadyIn}
			if e != want {
				t.Errorf("pair %d: report = %+v (present %v), want %+v", i, e, ok, want)
			}
		}
		if len(got) != 2 {
			t.Errorf("Wait reported %d descriptors (%+v), want 2", len(got), got)
		}

		// The survivors moved; changing them must still find them.
		update(t, p, ps[3].a, 23, In, In)
		update(t, p, ps[2].a, 12, In, 0)
		got = poll0(t, p)
		want := Event{Fd: int32(ps[3].a), Gen: 23, Ready: ReadyIn}
		if len(got) != 1 || got[want.Fd] != want {
			t.Errorf("after moving 3 to gen 23 and removing 2: reports %+v, want only %+v", got, want)
		}
		update(t, p, ps[3].a, 23, In, 0)
		mustNotReport(t, p, ps[3].a, "all removed")
	})
}

// A peer that shuts down its writing half is seen without a read where the
// backend has FeatureEarlyClose.
func TestRDHupOnPeerShutdown(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		if p.Features()&FeatureEarlyClose == 0 {
			t.Skipf("%s has no FeatureEarlyClose", p.Name())
		}
		a, b := socketpair(t)
		update(t, p, a, 6, 0, RDHup)
		mustNotReport(t, p, a, "peer still open")
		if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
			t.Fatal(err)
		}
		got := waitFor(t, p, a)
		if got.Ready&ReadyRDHup == 0 || got.Gen != 6 {
			t.Errorf("report = %+v, want Gen 6 and Ready with ReadyRDHup (%05b)", got, ReadyRDHup)
		}
		if got.Ready&ReadyHup != 0 {
			t.Errorf("report = %+v: ReadyHup set, but the peer can still read", got)
		}
	})
}

// Hang-up is reported whatever the interest: here only Out is watched.
func TestHupOnPeerCloseWhateverTheInterest(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		a, b := rawSocketpair(t)
		closeAtEnd(t, a)
		fill(t, a) // so Out alone would not report a
		update(t, p, a, 2, 0, Out)
		mustNotReport(t, p, a, "peer open, buffer full")
		unix.Close(b)
		got := waitFor(t, p, a)
		if got.Ready&ReadyHup == 0 {
			t.Errorf("report = %+v, want Ready with ReadyHup (%05b)", got, ReadyHup)
		}
	})
}

// Writing to a pipe nobody reads any more is an error condition, reported
// whatever the interest.
func TestErrOnPipeWithoutReader(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		r, w := rawPipe(t)
		closeAtEnd(t, w)
		fill(t, w)
		update(t, p, w, 4, 0, Out)
		mustNotReport(t, p, w, "reader open, pipe full")
		unix.Close(r)
		got := waitFor(t, p, w)
		if got.Ready&ReadyErr == 0 || got.Gen != 4 {
			t.Errorf("report = %+v, want Gen 4 and Ready with ReadyErr (%05b)", got, ReadyErr)
		}
	})
}

// FeatureFDs means a regular file can be watched; without it, registering
// one is refused with a syscall error rather than silently never firing.
func TestRegularFileFollowsFeatureFDs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, p Poller) {
		f, err := os.CreateTemp(t.TempDir(), "regular")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fd := int(f.Fd())
		err = p.Update(fd, 9, 0, In)
		if p.Features()&FeatureFDs == 0 {
			var se *os.SyscallError
			if !errors.As(err, &se) {
				t.Fatalf("Update(regular file) error = %v, want an *os.SyscallError", err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Update(regular file): %v, want nil with FeatureFDs", err)
		}
		defer update(t, p, fd, 9, In, 0)
		if got := waitFor(t, p, fd); got.Ready&ReadyIn == 0 || got.Gen != 9 {
			t.Errorf("report = %+v, want Gen 9 and ReadyIn", got)
		}
	})
}
