// Package exampletest runs levent's example programs the way a user does:
// it builds one with go build, starts it as a process, reads its output
// line by line and signals it, so that each example's test checks real
// behaviour rather than calling its functions.
//
// Beside the process (Build, Start, StartServer for a TCP server that
// says where it listens, RunWithInputFile, Usage) it has the checks the
// examples' tests share: the lines a program prints (Expect, ExpectLine),
// how it ends (ExitsWith, ExitsWithin, ExitsCleanly), the descriptors and
// memory it holds as /proc shows them (OpenFds, WaitFds, PeakRSS), and
// what a client reads from it (ExpectReply, ExpectEOF). For a server run
// on a loop inside the test process, RunLoop runs and stops the loop and
// NoLeaks checks that no goroutine or descriptor is left behind.
//
// Every wait is bounded by Timeout, generous for a loaded two-core
// machine; a failure stops the test with what was got and what was wanted.
package exampletest
