package timer

// entryList is the queue's list of entries wanted ahead of their tree
// position, indexed from 0. It is stored in fixed chunks rather than one
// slice: a queue filled before its loop runs (a server's start-up, a
// million timers added at once) keeps every new entry here, and a slice
// grown by append copies itself as it goes, leaving its old arrays as
// garbage that the process's RSS carries until the collector returns it,
// about 20 bytes per entry on top of the 8 the pointers need. Chunks never
// move, so an index stays valid and growth leaves no garbage.
type entryList[T any] struct {
	chunks []*[listChunk]*Entry[T] // all in use but the last are full
	n      int                     // entries held, holes included
}

// A chunk is 512 bytes: Go gives a larger object that holds pointers an
// 8-byte header, which would push 4 KiB of them into the 4,864-byte size
// class; 512 bytes fill their class exactly.
const (
	listShift = 6
	listChunk = 1 << listShift
)

// len returns the number of slots in use, holes included.
func (l *entryList[T]) len() int { return l.n }

// at returns the entry in slot i, nil for a hole; i < len().
func (l *entryList[T]) at(i int) *Entry[T] { return l.chunks[i>>listShift][i&(listChunk-1)] }

// set puts e in slot i; i < len().
func (l *entryList[T]) set(i int, e *Entry[T]) { l.chunks[i>>listShift][i&(listChunk-1)] = e }

// push appends e and returns its slot.
func (l *entryList[T]) push(e *Entry[T]) int {
	c := l.n >> listShift
	if c == len(l.chunks) {
		l.chunks = append(l.chunks, new([listChunk]*Entry[T]))
	}
	l.chunks[c][l.n&(listChunk-1)] = e
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
