//go:build !linux

package bufferevent

import "github.com/levent-go/levent/internal/sock"

func sockPair() ([2]int, error) { return [2]int{-1, -1}, sock.ErrUnsupported }
