module github.com/levent-go/levent/bench

go 1.22

require (
	github.com/lesismal/nbio v1.6.8
	github.com/levent-go/levent v0.0.0
	github.com/panjf2000/gnet/v2 v2.9.7
	golang.org/x/sys v0.30.0
)

require (
	github.com/google/btree v1.1.3 // indirect
	github.com/panjf2000/ants/v2 v2.11.3 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.uber.org/zap v1.27.0 // indirect
	golang.org/x/sync v0.11.0 // indirect
	gopkg.in/natefinch/lumberjack.v2 v2.2.1 // indirect
)

replace github.com/levent-go/levent => ../
