package main

import (
	"time"

	"github.com/levent-go/levent/timer"
)

// Key expiry.
//
// A key with a time to live has a deadline in the store's expiry queue, a
// timer.Queue (the same queue the event loop uses for its timeouts), and
// two things remove it once the deadline passes:
//
//   - Lazily: every command reads keys through lookup, which deletes an
//     expired key and reports it missing. A client never sees an expired
//     key, however late the sweep is.
//   - Actively: a persistent levent timer calls sweep every sweepEvery,
//     which takes the expired keys from the front of the queue, at most
//     sweepBudget of them per tick, so that memory is given back for keys
//     nobody reads again and one tick never stalls the loop for long.
//
// Redis samples random keys with a deadline instead; a queue ordered by
// deadline finds exactly the expired ones. Changing a deadline and
// removing one cost O(1) (the queue repairs its order lazily), adding one
// O(log n), and keys without a deadline cost the queue nothing.

// entry is one key.
type entry struct {
	key string
	val []byte
	ttl timer.Entry[*entry] // scheduled while the key has a deadline
	// queued is set once ttl has been scheduled: the queue may then hold a
	// reference to it, which deleting the key must drop.
	queued bool
}

// store is the key space. It belongs to the loop's goroutine.
type store struct {
	keys  map[string]*entry
	ttls  timer.Queue[*entry]
	epoch time.Time
	// now returns the time on the store's scale, monotonic nanoseconds
	// since epoch; tests replace it.
	now func() int64
}

func newStore() *store {
	s := &store{keys: make(map[string]*entry), epoch: time.Now()}
	s.now = func() int64 { return int64(time.Since(s.epoch)) }
	return s
}

// lookup returns the live entry for key, deleting it if it has expired.
// The clock is read only for keys with a deadline.
func (s *store) lookup(key []byte) *entry {
	e := s.keys[string(key)]
	if e != nil && e.ttl.Scheduled() && e.ttl.When() <= s.now() {
		s.remove(e)
		return nil
	}
	return e
}

// set stores val under key with no deadline, reusing the entry and its
// value's storage when the key exists, so overwriting a value of similar
// size allocates nothing. It returns the entry.
func (s *store) set(key, val []byte) *entry {
	e := s.lookup(key)
	if e == nil {
		e = &entry{key: string(key), val: append([]byte(nil), val...)}
		e.ttl.Value = e
		s.keys[e.key] = e
		return e
	}
	e.setValue(val)
	s.persist(e)
	return e
}

// setValue replaces the value, reusing its storage unless that is much
// larger than needed.
func (e *entry) setValue(val []byte) {
	if cap(e.val) >= len(val) && cap(e.val) <= 2*len(val)+64 {
		e.val = append(e.val[:0], val...)
	} else {
		e.val = append([]byte(nil), val...)
	}
}

// expireAt gives e the deadline when.
func (s *store) expireAt(e *entry, when int64) {
	s.ttls.Schedule(&e.ttl, when)
	e.queued = true
}

// persist removes e's deadline.
func (s *store) persist(e *entry) {
	if e.ttl.Scheduled() {
		s.ttls.Remove(&e.ttl)
	}
}

// deadline returns e's deadline and whether it has one.
func (e *entry) deadline() (int64, bool) {
	return e.ttl.When(), e.ttl.Scheduled()
}

// remove deletes e from the key space and the expiry queue.
func (s *store) remove(e *entry) {
	delete(s.keys, e.key)
	if e.queued {
		s.ttls.Purge(&e.ttl)
		e.queued = false
	}
}

// del deletes key and reports whether it existed.
func (s *store) del(key []byte) bool {
	if e := s.lookup(key); e != nil {
		s.remove(e)
		return true
	}
	return false
}

// flush deletes every key.
func (s *store) flush() {
	s.keys = make(map[string]*entry)
	s.ttls = timer.Queue[*entry]{}
}

// sweep deletes up to budget expired keys, earliest deadline first, and
// returns how many it deleted.
func (s *store) sweep(budget int) int {
	now := s.now()
	n := 0
	for n < budget {
		t, ok := s.ttls.PopExpired(now)
		if !ok {
			break
		}
		e := t.Value
		e.queued = false // popped: the queue holds it no more
		delete(s.keys, e.key)
		n++
	}
	return n
}
