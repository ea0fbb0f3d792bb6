package event

import "github.com/levent-go/levent/internal/paged"

// slotTable holds the fdSlot of every descriptor number the base has
// watched, in pages allocated as numbers come into use (see package
// paged): a server ramping up to 10,000 connections never copies a slot
// and ends with about the slots it needs, where a flat array indexed by
// descriptor (libevent's evmap_io) would leave some 40-60 bytes per
// connection of peak RSS in outgrown copies and slack.
type slotTable = paged.Table[fdSlot]
