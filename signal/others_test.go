//go:build !linux

package signal

import (
	"errors"
	"testing"
)

func TestNewSourceUnsupported(t *testing.T) {
	if s, err := NewSource(); s != nil || !errors.Is(err, ErrUnsupported) {
		t.Errorf("NewSource = %v, %v; want nil, ErrUnsupported", s, err)
	}
}
