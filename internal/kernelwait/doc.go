// Package kernelwait tells a test whether some thread of the process is
// blocked in an event backend's wait system call, as Linux's /proc shows.
//
// A test that changes a base from another goroutine "while the loop
// sleeps" must know the loop has really gone to sleep, or it passes
// whether or not the change wakes the loop. Polling the threads' current
// system calls is that synchronisation, without a sleep standing in for
// it and without a hook in the library.
package kernelwait
