package sock

import (
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

func TestRaiseNofileRaisesSoftLimitToHardLimit(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	got, err := RaiseNofile()
	if err != nil || got != lim.Max {
		t.Fatalf("RaiseNofile: got %d, %v, want the hard limit %d", got, err, lim.Max)
	}
	var now unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &now); err != nil {
		t.Fatal(err)
	}
	if now.Cur != lim.Max || now.Max != lim.Max {
		t.Errorf("limits after RaiseNofile: got %+v, want soft = hard = %d", now, lim.Max)
	}
}

func TestRaiseNofileNeverExceedsHardLimit(t *testing.T) {
	var set []unix.Rlimit
	hook(t, &setrlimitFunc, func(_ int, l *unix.Rlimit) error { set = append(set, *l); return nil })
	for _, tt := range []struct {
		have    unix.Rlimit
		want    uint64
		wantSet []unix.Rlimit
	}{
		{unix.Rlimit{Cur: 1024, Max: 524288}, 524288, []unix.Rlimit{{Cur: 524288, Max: 524288}}},
		{unix.Rlimit{Cur: 4096, Max: 4096}, 4096, nil},
		{unix.Rlimit{Cur: 8192, Max: 4096}, 8192, nil}, // not ours to lower
	} {
		set = nil
		hook(t, &getrlimitFunc, func(_ int, l *unix.Rlimit) error { *l = tt.have; return nil })
		got, err := RaiseNofile()
		if err != nil || got != tt.want || len(set) != len(tt.wantSet) || (len(set) == 1 && set[0] != tt.wantSet[0]) {
			t.Errorf("RaiseNofile with %+v: got %d, %v, setrlimit %+v; want %d, nil, setrlimit %+v", tt.have, got, err, set, tt.want, tt.wantSet)
		}
	}
}

func TestRaiseNofileWrapsErrors(t *testing.T) {
	hook(t, &getrlimitFunc, func(_ int, l *unix.Rlimit) error { *l = unix.Rlimit{Cur: 1, Max: 2}; return nil })
	hook(t, &setrlimitFunc, func(int, *unix.Rlimit) error { return unix.EPERM })
	_, err := RaiseNofile()
	wantSyscallError(t, err, "setrlimit", unix.EPERM)
	hook(t, &getrlimitFunc, func(int, *unix.Rlimit) error { return unix.EFAULT })
	_, err = RaiseNofile()
	wantSyscallError(t, err, "getrlimit", unix.EFAULT)
}

func TestErrUnsupportedMatchesErrorsErrUnsupported(t *testing.T) {
	if !errors.Is(ErrUnsupported, errors.ErrUnsupported) {
		t.Error("errors.Is(ErrUnsupported, errors.ErrUnsupported): got false, want true")
	}
	if got, want := ErrUnsupported.Error(), "levent: sockets are only implemented on linux"; got != want {
		t.Errorf("ErrUnsupported: got %q, want %q", got, want)
	}
}
