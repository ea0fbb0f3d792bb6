module github.com/levent-go/levent

go 1.22

require (
	github.com/google/btree v1.1.3
	golang.org/x/sys v0.30.0
)
