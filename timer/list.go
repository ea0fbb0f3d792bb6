package timer

// entryList is the queue's list of entries wanted ahead of their tree
// position, indexed from 0. Each slot holds the entry and its wanted
// deadline, kept up to date by Schedule, so that a pass over the list
// finds the entries due by reading the list alone: reading each entry's
// own deadline would be a cache miss per entry (the first pass over a
// burst of 10,000 timers took 285 µs that way, inserts included, before
// the first of them could fire).
//
// It is stored in fixed chunks rather than one slice: a queue filled
// before its loop runs (a server's start-up, a million timers added at
// once) keeps every new entry here, and a slice grown by append copies
// itself as it goes, leaving its old arrays as garbage that the process's
// RSS carries until the collector returns it. Chunks never move, so an
// index stays valid and growth leaves no garbage.
type entryList[T any] struct {
	chunks []*[listChunk]item[T] // all in use but the last are full
	n      int                   // slots in use, holes included
}

// A chunk is 512 bytes: Go gives a larger object that holds pointers an
// 8-byte header, which would push 4 KiB of them into the 4,864-byte size
// class; 512 bytes fill their class exactly.
const (
	listShift = 5
	listChunk = 1 << listShift
)

// len returns the number of slots in use, holes included.
func (l *entryList[T]) len() int { return l.n }

// at returns slot i: the entry (nil for a hole) and its deadline; i < len().
func (l *entryList[T]) at(i int) item[T] { return l.chunks[i>>listShift][i&(listChunk-1)] }

// chunk returns the slots in use of chunk c (slots c*listChunk on), for a
// pass over the list that reads them in place; c < len(l.chunks).
func (l *entryList[T]) chunk(c int) []item[T] {
	return l.chunks[c][:min(listChunk, l.n-c<<listShift)]
}

// set puts it in slot i; i < len().
func (l *entryList[T]) set(i int, it item[T]) { l.chunks[i>>listShift][i&(listChunk-1)] = it }

// setKey changes the deadline in slot i; i < len().
func (l *entryList[T]) setKey(i int, key int64) { l.chunks[i>>listShift][i&(listChunk-1)].key = key }

// push appends it and returns its slot.
func (l *entryList[T]) push(it item[T]) int {
	c := l.n >> listShift
	if c == len(l.chunks) {
		l.chunks = append(l.chunks, new([listChunk]item[T]))
	}
	l.chunks[c][l.n&(listChunk-1)] = it
	l.n++
	return l.n - 1
}

// truncate drops the slots from n on, clearing them so that the list holds
// no reference to entries no longer on it.
func (l *entryList[T]) truncate(n int) {
	for c := n >> listShift; c < len(l.chunks) && c<<listShift < l.n; c++ {
		clear(l.chunks[c][max(n-c<<listShift, 0):])
	}
	l.n = n
}

// capacity returns the slots the list holds without making a chunk.
func (l *entryList[T]) capacity() int { return len(l.chunks) * listChunk }

// shrink gives back the chunks past the first keep slots' worth (at least
// one chunk is kept); the list must be empty.
func (l *entryList[T]) shrink(keep int) {
	k := max(1, (keep+listChunk-1)>>listShift)
	if k < len(l.chunks) {
		clear(l.chunks[k:])
		l.chunks = l.chunks[:k]
	}
}
