package event

import "time"

// epoch anchors levent's clock. Deadlines are nanoseconds since epoch read
// from the monotonic clock (time.Since uses it), so a wall-clock jump never
// makes a timer fire early or late.
var epoch = time.Now()

func monoNow() int64 { return int64(time.Since(epoch)) }

func monoTime(ns int64) time.Time { return epoch.Add(time.Duration(ns)) }
