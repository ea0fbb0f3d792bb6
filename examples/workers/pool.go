package main

import (
	"sync"

	"github.com/levent-go/levent/event"
)

// task is the seeds' Task, a function and its argument: here one request
// line of one connection, with its place in that connection's order.
type task struct {
	c    *conn
	seq  uint64
	line []byte
}

// pool is the seeds' ThreadPool: a bounded queue of tasks and the workers
// that take them.
//
// A buffered channel is the queue, its mutex and both condition variables
// (notEmpty, notFull). The seeds' manager thread, which added or ended
// threads between min and max every three seconds, has no job here: a
// worker goroutine waiting on the channel costs a few kilobytes of stack
// and no thread.
type pool struct {
	base  *event.Base
	tasks chan task     // taskQ, queueCapacity long
	stop  chan struct{} // shutdown: closed to cancel the work in progress
	wg    sync.WaitGroup
}

// newPool is threadPoolCreate: it starts the workers.
func newPool(base *event.Base, workers, queue int) *pool {
	p := &pool{base: base, tasks: make(chan task, queue), stop: make(chan struct{})}
	p.wg.Add(workers)
	for i := 0; i < workers; i++ {
		go p.worker()
	}
	return p
}

// full reports whether add would block. The loop's goroutine is the only
// one that sends, and workers only take tasks out, so room seen here is
// still there at the next add. Loop goroutine only.
func (p *pool) full() bool {
	return len(p.tasks) == cap(p.tasks)
}

// add is threadPoolAdd, called only when full is false: threadPoolAdd
// waited on notFull when the queue was full, which on a loop's goroutine
// would stop every connection, and the workers' answers with them.
func (p *pool) add(t task) {
	p.tasks <- t
}

// worker takes tasks and hands each answer back to the loop: Submit runs
// the function on the loop's goroutine, where the connection lives.
func (p *pool) worker() {
	defer p.wg.Done()
	for t := range p.tasks {
		answer, ok := compute(t.line, p.stop)
		if !ok {
			continue // shutting down; the loop has ended
		}
		p.base.Submit(func() { t.c.deliver(t.seq, answer) })
	}
}

// destroy is threadPoolDestroy: it cancels the work in progress, drops the
// queued tasks and waits for the workers to end. Call it after the loop has
// ended: answers submitted now are never delivered.
func (p *pool) destroy() {
	close(p.stop)
	close(p.tasks)
	p.wg.Wait()
}
