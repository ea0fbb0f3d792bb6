package main

import (
	"math"
	"strconv"
	"strings"
)

// command is one entry of the command table. arity follows Redis: n means
// exactly n arguments with the name, -n at least n.
type command struct {
	name  string // lower case, as Redis names it in errors
	arity int
	run   func(c *conn, args [][]byte)
}

// commandTable lists the commands the server knows.
var commandTable = []*command{
	{"ping", -1, cmdPing},
	{"echo", 2, cmdEcho},
	{"quit", -1, cmdQuit},
	{"set", -3, cmdSet},
	{"get", 2, cmdGet},
	{"del", -2, cmdDel},
	{"exists", -2, cmdExists},
	{"incr", 2, cmdIncr},
	{"decr", 2, cmdDecr},
	{"incrby", 3, cmdIncrBy},
	{"decrby", 3, cmdDecrBy},
	{"mget", -2, cmdMget},
	{"mset", -3, cmdMset},
	{"expire", -3, cmdExpire},
	{"ttl", 2, cmdTTL},
	{"pttl", 2, cmdPTTL},
	{"dbsize", 1, cmdDBSize},
	{"flushall", -1, cmdFlushAll},
	{"command", -1, cmdCommand},
	{"config", -2, cmdConfig},
}

// commands indexes commandTable by the first letter of the name: at most
// three names share one, so finding a command costs a few comparisons
// rather than lowering the name and hashing it. It is filled by init,
// because COMMAND, in the table, counts the commands.
var commands [26][]*command

// commandCount is what COMMAND COUNT answers.
var commandCount int

func init() {
	commandCount = len(commandTable)
	for _, c := range commandTable {
		commands[c.name[0]-'a'] = append(commands[c.name[0]-'a'], c)
	}
}

// lookupCommand finds the command named name, in any case.
func lookupCommand(name []byte) *command {
	if len(name) == 0 {
		return nil
	}
	first := name[0] | 0x20 // lower case, for letters
	if first < 'a' || first > 'z' {
		return nil
	}
	for _, c := range commands[first-'a'] {
		if equalFold(name, c.name) {
			return c
		}
	}
	return nil
}

// exec runs one request.
func (c *conn) exec(args [][]byte) {
	cmd := lookupCommand(args[0])
	switch {
	case cmd == nil:
		c.r.fail(unknownCommand(args))
	case cmd.arity > 0 && len(args) != cmd.arity || cmd.arity < 0 && len(args) < -cmd.arity:
		c.r.fail("ERR wrong number of arguments for '" + cmd.name + "' command")
	default:
		cmd.run(c, args)
	}
}

// unknownCommand is Redis's error for a command it does not know, quoting
// the first arguments (up to about 128 bytes).
func unknownCommand(args [][]byte) string {
	var b strings.Builder
	b.WriteString("ERR unknown command '")
	b.Write(args[0][:min(len(args[0]), 128)])
	b.WriteString("', with args beginning with: ")
	n := 0
	for _, a := range args[1:] {
		if n >= 128 {
			break
		}
		a = a[:min(len(a), 128-n)]
		b.WriteByte('\'')
		b.Write(a)
		b.WriteString("' ")
		n += len(a) + 3
	}
	return b.String()
}

// Errors with Redis's wording.
const (
	errSyntax    = "ERR syntax error"
	errNotInt    = "ERR value is not an integer or out of range"
	errOverflow  = "ERR increment or decrement would overflow"
	errExpireSet = "ERR invalid expire time in 'set' command"
	errExpireExp = "ERR invalid expire time in 'expire' command"
)

func cmdPing(c *conn, args [][]byte) {
	switch len(args) {
	case 1:
		c.r.raw(replyPong)
	case 2:
		c.r.bulk(args[1])
	default:
		c.r.fail("ERR wrong number of arguments for 'ping' command")
	}
}

func cmdEcho(c *conn, args [][]byte) { c.r.bulk(args[1]) }

func cmdQuit(c *conn, _ [][]byte) {
	c.r.raw(replyOK)
	c.closeAfterReply()
}

func cmdGet(c *conn, args [][]byte) {
	if e := c.db.lookup(args[1]); e != nil {
		c.r.bulk(e.val)
	} else {
		c.r.raw(replyNil)
	}
}

// cmdSet is SET key value [NX|XX] [EX seconds|PX milliseconds|KEEPTTL].
// As in Redis, the options are checked first and the expire time after.
func cmdSet(c *conn, args [][]byte) {
	var nx, xx, keepTTL bool
	var expire []byte // the EX or PX argument
	unit := int64(0)  // nanoseconds per unit of expire
	for i := 3; i < len(args); i++ {
		opt := args[i]
		switch {
		case equalFold(opt, "nx") && !xx:
			nx = true
		case equalFold(opt, "xx") && !nx:
			xx = true
		case equalFold(opt, "keepttl") && expire == nil:
			keepTTL = true
		case equalFold(opt, "ex") && expire == nil && !keepTTL && i+1 < len(args):
			i++
			expire, unit = args[i], 1e9
		case equalFold(opt, "px") && expire == nil && !keepTTL && i+1 < len(args):
			i++
			expire, unit = args[i], 1e6
		default:
			c.r.fail(errSyntax)
			return
		}
	}
	var when int64
	if expire != nil {
		v, ok := parseInt(expire)
		if !ok {
			c.r.fail(errNotInt)
			return
		}
		if v <= 0 || v > math.MaxInt64/unit {
			c.r.fail(errExpireSet)
			return
		}
		if when, ok = addDeadline(c.db.now(), v*unit); !ok {
			c.r.fail(errExpireSet)
			return
		}
	}
	e := c.db.lookup(args[1])
	if nx && e != nil || xx && e == nil {
		c.r.raw(replyNil)
		return
	}
	if e != nil && keepTTL {
		e.setValue(args[2])
	} else {
		e = c.db.set(args[1], args[2])
	}
	if expire != nil {
		c.db.expireAt(e, when)
	}
	c.r.raw(replyOK)
}

// addDeadline returns now+d, or false if that overflows.
func addDeadline(now, d int64) (int64, bool) {
	if d > math.MaxInt64-now {
		return 0, false
	}
	return now + d, true
}

func cmdDel(c *conn, args [][]byte) {
	n := int64(0)
	for _, k := range args[1:] {
		if c.db.del(k) {
			n++
		}
	}
	c.r.int(n)
}

func cmdExists(c *conn, args [][]byte) {
	n := int64(0)
	for _, k := range args[1:] {
		if c.db.lookup(k) != nil {
			n++
		}
	}
	c.r.int(n)
}

func cmdIncr(c *conn, args [][]byte) { incrBy(c, args[1], 1) }
func cmdDecr(c *conn, args [][]byte) { incrBy(c, args[1], -1) }

func cmdIncrBy(c *conn, args [][]byte) {
	if d, ok := parseInt(args[2]); ok {
		incrBy(c, args[1], d)
	} else {
		c.r.fail(errNotInt)
	}
}

func cmdDecrBy(c *conn, args [][]byte) {
	d, ok := parseInt(args[2])
	if !ok || d == math.MinInt64 {
		c.r.fail(errNotInt) // Redis refuses to negate the smallest int64 too
		return
	}
	incrBy(c, args[1], -d)
}

// incrBy adds d to the integer at key (0 if missing), keeping its
// deadline, as Redis does. The new value is written over the old one's
// storage.
func incrBy(c *conn, key []byte, d int64) {
	e := c.db.lookup(key)
	var v int64
	if e != nil {
		var ok bool
		if v, ok = parseInt(e.val); !ok {
			c.r.fail(errNotInt)
			return
		}
	}
	if d > 0 && v > math.MaxInt64-d || d < 0 && v < math.MinInt64-d {
		c.r.fail(errOverflow)
		return
	}
	v += d
	var digits [20]byte
	s := strconv.AppendInt(digits[:0], v, 10)
	if e == nil {
		c.db.set(key, s)
	} else {
		e.setValue(s)
	}
	c.r.int(v)
}

func cmdMget(c *conn, args [][]byte) {
	c.r.arrayLen(len(args) - 1)
	for _, k := range args[1:] {
		if e := c.db.lookup(k); e != nil {
			c.r.bulk(e.val)
		} else {
			c.r.raw(replyNil)
		}
	}
}

func cmdMset(c *conn, args [][]byte) {
	if len(args)%2 == 0 {
		c.r.fail("ERR wrong number of arguments for 'mset' command")
		return
	}
	for i := 1; i < len(args); i += 2 {
		c.db.set(args[i], args[i+1])
	}
	c.r.raw(replyOK)
}

// cmdExpire is EXPIRE key seconds [NX|XX|GT|LT], Redis 7's.
func cmdExpire(c *conn, args [][]byte) {
	var nx, xx, gt, lt bool
	for _, opt := range args[3:] {
		switch {
		case equalFold(opt, "nx"):
			nx = true
		case equalFold(opt, "xx"):
			xx = true
		case equalFold(opt, "gt"):
			gt = true
		case equalFold(opt, "lt"):
			lt = true
		default:
			c.r.fail("ERR Unsupported option " + string(opt))
			return
		}
	}
	switch {
	case nx && (xx || gt || lt):
		c.r.fail("ERR NX and XX, GT or LT options at the same time are not compatible")
		return
	case gt && lt:
		c.r.fail("ERR GT and LT options at the same time are not compatible")
		return
	}
	secs, ok := parseInt(args[2])
	if !ok {
		c.r.fail(errNotInt)
		return
	}
	now := c.db.now()
	if secs > math.MaxInt64/int64(1e9) || secs < math.MinInt64/int64(1e9) {
		c.r.fail(errExpireExp)
		return
	}
	when, ok := addDeadline(now, secs*1e9)
	if !ok {
		c.r.fail(errExpireExp)
		return
	}
	e := c.db.lookup(args[1])
	if e == nil {
		c.r.raw(replyZero)
		return
	}
	cur, has := e.deadline()
	// A key without a deadline counts as one in the infinite future.
	if nx && has || xx && !has || gt && (!has || when <= cur) || lt && has && when >= cur {
		c.r.raw(replyZero)
		return
	}
	if when <= now {
		c.db.remove(e) // a deadline in the past deletes the key
	} else {
		c.db.expireAt(e, when)
	}
	c.r.raw(replyOne)
}

func cmdTTL(c *conn, args [][]byte)  { ttl(c, args[1], 1e9) }
func cmdPTTL(c *conn, args [][]byte) { ttl(c, args[1], 1e6) }

// ttl replies the time left to key in units of unit nanoseconds, rounded
// as Redis rounds (it counts in milliseconds): -2 for a missing key, -1
// for a key without a deadline.
func ttl(c *conn, key []byte, unit int64) {
	e := c.db.lookup(key)
	if e == nil {
		c.r.int(-2)
		return
	}
	when, ok := e.deadline()
	if !ok {
		c.r.int(-1)
		return
	}
	ms := max(when-c.db.now(), 0) / 1e6
	if unit == 1e6 {
		c.r.int(ms)
	} else {
		c.r.int((ms + 500) / 1000)
	}
}

func cmdDBSize(c *conn, _ [][]byte) { c.r.int(int64(len(c.db.keys))) }

// cmdFlushAll is FLUSHALL [ASYNC|SYNC]; both flush at once.
func cmdFlushAll(c *conn, args [][]byte) {
	if len(args) > 2 || len(args) == 2 && !equalFold(args[1], "async") && !equalFold(args[1], "sync") {
		c.r.fail(errSyntax)
		return
	}
	c.db.flush()
	c.r.raw(replyOK)
}

// cmdCommand answers what redis-cli asks when it starts: COMMAND COUNT
// gets the number of commands, COMMAND DOCS (and the list forms) an empty
// array, which redis-cli takes as "no help available".
func cmdCommand(c *conn, args [][]byte) {
	switch {
	case len(args) == 1:
		c.r.raw(replyNone)
	case equalFold(args[1], "count"):
		c.r.int(int64(commandCount))
	case equalFold(args[1], "docs"), equalFold(args[1], "info"), equalFold(args[1], "list"):
		c.r.raw(replyNone)
	default:
		c.r.fail("ERR unknown subcommand '" + string(args[1]) + "'. Try COMMAND HELP.")
	}
}

// configParams are the parameters CONFIG GET reports: redis-benchmark
// asks for these two when it starts, to print them.
var configParams = [][2]string{{"save", ""}, {"appendonly", "no"}}

// cmdConfig is CONFIG GET parameter, for the parameters above only.
func cmdConfig(c *conn, args [][]byte) {
	if !equalFold(args[1], "get") {
		c.r.fail("ERR unknown subcommand '" + string(args[1]) + "'. Try CONFIG HELP.")
		return
	}
	if len(args) != 3 {
		c.r.fail("ERR wrong number of arguments for 'config|get' command")
		return
	}
	for _, p := range configParams {
		if equalFold(args[2], p[0]) {
			c.r.arrayLen(2)
			c.r.bulk([]byte(p[0]))
			c.r.bulk([]byte(p[1]))
			return
		}
	}
	c.r.raw(replyNone)
}

// equalFold reports whether b is s in any case; s is lower case ASCII.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
