//go:build !linux

package event

import (
	"strings"
	"testing"
)

// Only linux has backends so far, so the package's other tests, which all
// need a base, are built for linux only. Here NewBase says so plainly.
func TestNewBaseWithoutABackend(t *testing.T) {
	b, err := NewBase()
	if b != nil || err == nil || !strings.Contains(err.Error(), "no event backend") {
		t.Fatalf("NewBase = %v, %v; want nil and the error that says there is no backend", b, err)
	}
}
