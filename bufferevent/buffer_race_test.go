//go:build race

package bufferevent

// bufRaceEnabled reports a -race build, where sync.Pool drops items on
// purpose, so allocation counts are meaningless.
const bufRaceEnabled = true
