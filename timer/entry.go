package timer

import "cmp"

// Entry is one timer. The zero Entry is unscheduled. Hold it inside the
// object being timed; Value lets the queue's user get back from the entry
// to that object (levent's Event keeps an Entry[*Event]).
//
// An Entry belongs to at most one Queue at a time: once scheduled in a
// queue, it may be passed only to that queue until PopExpired returns it
// or Purge clears it. Passing it to another queue is not detected: it
// leaves both queues wrong, though it does not make them panic.
//
// Without Value an Entry is 40 bytes on 64-bit platforms.
type Entry[T any] struct {
	Value T // the user's payload

	// Tree position. While inTree is set, the entry is stored in the tree
	// at (key, seq); seq is unique, so no two entries compare equal.
	key int64
	seq uint64

	// Wanted position, set by every Schedule call. It differs from the
	// tree position while a move is still to be applied.
	when int64
	wseq uint64

	early uint32 // 1 + index in the queue's list of entries wanted ahead of their tree position; 0 if not on it
	state uint8  // inTree and live bits
}

// Entry state bits. An entry in the tree that is not live is a zombie:
// removed, but still taking up its old place until the queue drops it.
//
//	state            meaning                        how it gets there
//	0                unscheduled                    zero Entry, PopExpired, Purge, swept
//	live             scheduled, listed, not in tree  Schedule of an unscheduled entry
//	inTree|live      scheduled                      the list applied, Schedule of a zombie
//	inTree           zombie                         Remove
//
// Any state but inTree|live with a settled position may also be on the
// list (early != 0): Remove and the queue's dropping of a zombie leave an
// entry there, and applying the list skips it unless it is live again.
const (
	inTree uint8 = 1 << iota // stored in the tree at (key, seq)
	live                     // scheduled: counted by Len, returned by Min
)

// Scheduled reports whether the entry is pending in a queue.
func (e *Entry[T]) Scheduled() bool { return e.state&live != 0 }

// When returns the deadline the entry was last scheduled for. It is
// meaningful while the entry is scheduled; after Remove or PopExpired it
// still returns the last deadline (so a caller can re-arm a periodic timer
// from it), and after Purge it returns 0.
func (e *Entry[T]) When() int64 { return e.when }

// settled reports whether e's wanted position is where the tree holds it.
func (e *Entry[T]) settled() bool { return e.when == e.key && e.wseq == e.seq }

// item is what the tree stores for an entry: the key inline, so that a
// search compares deadlines without reading the entries it passes (each
// one a likely cache miss in a large queue); only equal keys read seq.
type item[T any] struct {
	key int64
	e   *Entry[T]
}

// less orders the tree by (key, seq).
func less[T any](a, b item[T]) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	return a.e.seq < b.e.seq
}

// compareItems is less as a three-way comparison, for sorting.
func compareItems[T any](a, b item[T]) int {
	if a.key != b.key {
		return cmp.Compare(a.key, b.key)
	}
	return cmp.Compare(a.e.seq, b.e.seq)
}
