// Package bufferevent is levent's buffered I/O on a socket: libevent's
// bufferevent and evbuffer, with its in-memory pairs and filters.
//
// A BufferEvent owns two Buffers. Whenever its socket is readable and
// reading is enabled, it reads into Input and runs the read callback;
// whatever the program puts in Output (with Write, or directly) is written
// to the socket as soon as the socket takes it, and the write callback runs
// once Output has drained. Conditions that are not data (end of stream, an
// error, a timeout, a finished connect) go to the event callback as a What.
//
// The calls map onto libevent's:
//
//	bufferevent_socket_new               New
//	bufferevent_socket_connect           (*BufferEvent).Connect
//	bufferevent_socket_connect_hostname  (*BufferEvent).ConnectHostname
//	bufferevent_openssl_socket_new       NewTLS
//	bufferevent_openssl_filter_new       NewTLSFilter
//	bufferevent_pair_new                 NewPair (NewSocketPair: through the kernel)
//	bufferevent_pair_get_partner         (*BufferEvent).Partner
//	bufferevent_filter_new               NewFilter, with FilterFunc and
//	                                     FilterOK / FilterNeedMore / FilterError
//	bufferevent_get_underlying           (*BufferEvent).Underlying
//	bufferevent_setcb                    (*BufferEvent).SetCallbacks
//	bufferevent_enable / _disable        Enable / Disable
//	bufferevent_get_enabled              Enabled
//	bufferevent_read / _write            Read / Write
//	bufferevent_get_input / _output      Input / Output
//	bufferevent_setwatermark             SetWatermark
//	bufferevent_set_timeouts             SetTimeouts
//	bufferevent_flush                    FlushWith (Flush: Write, FlushNormal)
//	BEV_NORMAL / BEV_FLUSH / BEV_FINISHED  FlushNormal / FlushFlush / FlushFinished
//	bufferevent_getfd                    Fd
//	bufferevent_getwatermark             GetWatermark
//	bufferevent_trigger / _trigger_event Trigger / TriggerEvent
//	bufferevent_set_max_single_read/_write  SetMaxSingleRead / SetMaxSingleWrite
//	bufferevent_priority_set             SetPriority
//	ev_token_bucket_cfg_new              NewTokenBucketConfig
//	bufferevent_set_rate_limit           SetRateLimit (nil removes it)
//	bufferevent_get_token_bucket_cfg     RateLimit
//	bufferevent_get_read_limit / _write  GetReadLimit / GetWriteLimit
//	bufferevent_decrement_read_limit/_write  DecrementReadLimit /
//	                                     DecrementWriteLimit
//	bufferevent_get_max_to_read / _write MaxToRead / MaxToWrite
//	bufferevent_rate_limit_group_new     NewRateLimitGroup
//	bufferevent_add_to_rate_limit_group  AddToRateLimitGroup
//	bufferevent_remove_from_rate_limit_group  RemoveFromRateLimitGroup
//	bufferevent_rate_limit_group_*       (*RateLimitGroup).SetConfig,
//	                                     SetMinShare, GetReadLimit,
//	                                     DecrementRead, TotalRead,
//	                                     ResetTotals, Free...
//	bufferevent_socket_get_dns_error     DNSErr (Err gives the errno of
//	                                     any other Error)
//	bufferevent_free                     Free
//	BEV_OPT_*                            CloseOnFree, ThreadSafe,
//	                                     DeferCallbacks, UnlockCallbacks
//	BEV_EVENT_*                          Reading, Writing, EOF, Error,
//	                                     Timeout, Connected (same values)
//	struct evbuffer                      Buffer
//	evbuffer_add_reference               (*Buffer).AddReference (release func)
//	evbuffer_add_file, evbuffer_file_segment_new + _add_file_segment
//	                                     (*Buffer).AddFile (*os.File, offset,
//	                                     length, release func); sendfile(2)
//	                                     on a socket's Output
//	evbuffer_add_cb / evbuffer_remove_cb (*Buffer).AddCallback, (*BufferCB).Remove
//	evbuffer_cb_set_flags / _clear_flags (*BufferCB).Enable / Disable
//	  (EVBUFFER_CB_ENABLED)
//	struct evbuffer_cb_info              BufferCBInfo
//	evbuffer_freeze / evbuffer_unfreeze  (*Buffer).Freeze / Unfreeze, ErrFrozen
//
// Closures replace void *arg, and errors are Go errors: Err returns the
// unix.Errno behind an Error event (ECONNRESET, ECONNREFUSED...).
//
// # Behaviour, as in libevent
//
// A new BufferEvent has writing enabled and reading disabled; call
// Enable(event.Read). The read callback runs after each read that leaves
// Input holding at least the read low watermark (default 0: any data).
// When Input holds the read high watermark, reading from the socket stops
// until the program drains Input below it, so a consumer slower than its
// peer makes the peer wait (TCP back-pressure) rather than memory grow.
// The write callback runs when Output drains to the write low watermark
// (default 0: empty). End of stream reports Reading|EOF and a socket
// error Reading|Error or Writing|Error; either turns that direction off. A
// read timeout (the socket stays unreadable that long while reading is
// enabled) or a write timeout (pending output makes no progress that long)
// reports Reading|Timeout or Writing|Timeout and turns that direction off;
// Enable turns it back on. Connect reports Connected or Error, also when
// the connection is refused at once: Connect itself then returns nil.
//
// A message costs one read and one write system call (readv and writev
// when the ring has wrapped): the read event reads once per readiness
// (level-triggered, so data that did not fit comes in the next iteration),
// and what the read callback writes is flushed in one call right after it
// returns. An echo that moves Input to Output with
// AddBuffer copies nothing. In steady state nothing on this path
// allocates. After two seconds without data on a connection without a
// read timeout, the buffers give their storage back, so an idle connection
// costs well under a kilobyte; one that has carried no byte yet (accepted,
// its first request still to come) has no buffers at all, and costs its
// 224-byte BufferEvent.
//
// On a base that receives in the kernel (event.Base.Receives: io_uring
// on Linux 6.3 or later) a socket BufferEvent's read event is a
// Read|Recv event and it reads with Base.Recv instead of readv: the
// kernel has already received the data into buffers shared by every
// connection, so a message costs no read system call at all. Nothing
// changes for the user: the same callbacks, watermarks, rate limits and
// timeouts, the same Reading|EOF and Reading|Error. A connection that
// stops reading (Disable, a high watermark, a rate limit) keeps what the
// kernel took for it, at most about 64 KiB, and the socket's own buffer
// then fills as it would under readv; an idle one costs no more memory
// than on epoll's readiness path. TLS BufferEvents read their records
// with readv on every base.
//
// On a base that sends in the kernel (event.Base.Sends: io_uring with
// IORING_OP_SEND) a socket BufferEvent writes Output as io_uring sends
// (event.Base.Send) instead of writev: the flush queues one send of
// Output's bytes, which reaches the kernel with the loop's next
// io_uring_enter, and its completion drains Output and goes on as a writev
// of that count would: the rest sent again, the write callback, the
// watermarks, the write timeout, Writing|Error with Err (EPIPE,
// ECONNRESET). The bytes of a send in flight stay where they are in
// Output's storage until it completes, whatever user code does to Output
// meanwhile, and a Free lets it finish. Flush still writes with writev, as
// it promises; so do an Output holding more than 8 KiB (a send larger than
// the socket's room would complete short or wait in the kernel, where
// writev writes what fits at once), an Output holding references or file
// ranges (writev and sendfile(2)), TLS BufferEvents and a TLS filter's
// underlying.
//
// # Goroutines
//
// Callbacks run on the goroutine running the Base's loop, one at a time,
// with no lock held: they may call any method, Free included, and Free is
// safe inside every callback. Write, WriteString, Read, Enable, Disable,
// Enabled, SetWatermark, SetTimeouts, SetCallbacks, Connect,
// ConnectHostname, Fd, Err and Free are safe from any goroutine; Write
// never blocks (it appends to Output and hands the flush to the loop with
// Submit), and bytes written by one goroutine keep their order. Input,
// Output and Flush belong to the loop's goroutine, and so do Trigger and
// TriggerEvent unless they defer the callbacks: use them in callbacks,
// or in a function handed to (*event.Base).Submit, and do not mix direct
// use of Output with Write from other goroutines, nor direct use of Input
// with Read from other goroutines. Each method's comment says which of
// the two it is. Enable, Disable, SetWatermark and SetTimeouts never look
// at Input and Output, which a callback may be changing at that moment:
// what depends on what they hold (stopping or resuming reading at a new
// read high watermark, the flush Enable(event.Write) asks for, a pair's
// or a filter's write timer) is decided on the loop, in the iteration
// after the call.
//
// # Locks
//
// A BufferEvent has one mutex, held by its methods and by its handlers of
// the loop's events. While holding it they may take the Base's lock (to
// add, remove or activate the BufferEvent's events, or to Submit work),
// never the other way round: the order is bev.mu → base.mu, and the Base
// runs no handler with its own lock held. Each handler takes bev.mu once,
// applies one transition, releases it, and only then runs the callbacks
// the transition called for, so no lock is held while user code runs.
// A TLS BufferEvent adds one lock, its ciphertext buffers', shared with
// its handshake goroutine and taken after bev.mu, never before; a TLS
// filter takes it after its underlying's lock too, holding only one of
// the two BufferEvents' locks at a time, as every filter does.
//
// An in-memory pair adds one lock for the two ends, taken before either
// end's: pair → end(s) → base. Whatever touches both ends (moving data,
// Free, FlushWith, Partner) takes the pair's lock first; an end's own
// methods take only its own. A goroutine holding an end's lock never
// waits for the pair's lock, and waits for the other end's only while
// holding the pair's, which one goroutine at a time can: there is no
// cycle. A filter never holds its own lock and its underlying's together:
// it calls into the underlying with none held, and the underlying runs
// the filter's handlers as callbacks, with none held.
//
// # In-memory pairs
//
// NewPair returns two BufferEvents joined in memory: what one writes lands
// in the other's Input, with no descriptor (Fd is -1) and no system call;
// Input and Output swap their storage rather than copy. Data moves while
// the writer's writing and the reader's reading are enabled, stops while
// the reader's Input holds its read high watermark, and moves in the loop
// iteration after the Write that made it movable, so callbacks never run
// inside Write and two ends answering each other cannot recurse. Timeouts
// are libevent's generic ones. Freeing one end gives the other what it can
// take, then Reading|EOF, as a closed socket would; Partner returns nil
// from then on. FlushWith with FlushFlush moves everything whatever the
// watermarks, and FlushFinished also tells the partner the stream ended.
// A round trip costs about a fifth of one through NewSocketPair
// (BenchmarkPairEcho), which remains for code that needs a descriptor.
//
// # Filters
//
// NewFilter puts a BufferEvent over another: the input FilterFunc turns
// what the underlying reads into the filter's Input, the output FilterFunc
// turns what is written to the filter into the underlying's Output. The
// filter takes over the underlying's callbacks, and every condition the
// underlying reports (EOF, Error, Timeout, Connected) reaches the filter's
// event callback. The input filter is given as limit the room below the
// filter's read high watermark, the output filter the room below the
// underlying's write high watermark, and FlushWith hands them FlushFlush
// or FlushFinished (a compressor's flush and end). A FilterFunc runs on
// the loop's goroutine with no lock held, like a callback: it may call any
// method, and a flush it asks for runs after it returns, never nested.
//
// # TLS
//
// NewTLS (bufferevent_openssl_socket_new) makes a BufferEvent that speaks
// TLS on its socket with crypto/tls: the callbacks see plaintext in Input
// and Output, and watermarks, timeouts, Connect and Free work as on a
// plain socket. Connected is reported when the handshake is done, a failed
// handshake as Reading|Writing|Error with Err wrapping crypto/tls's error,
// the peer's close_notify as Reading|EOF and a close without it as
// Reading|Error (ErrTLSDirtyShutdown) unless SetAllowDirtyShutdown; Free
// sends close_notify. crypto/tls's handshake cannot be driven by
// readiness, so it runs on a goroutine that the loop feeds with
// ciphertext; afterwards the loop decrypts and encrypts itself, and an
// open TLS connection holds no goroutine.
//
// NewTLSFilter (bufferevent_openssl_filter_new) is the same TLS over
// another BufferEvent instead of a socket: the ciphertext goes through
// the underlying's Input and Output, so TLS runs over an in-memory pair,
// a rate-limited or filtered BufferEvent, or a connection that began in
// plaintext (STARTTLS: what the underlying already holds in Input is the
// start of the TLS stream). It is a filter: it takes over the underlying's
// callbacks, its watermarks and timeouts are on the plaintext, and with
// CloseOnFree its Free frees the underlying, after handing it the
// close_notify. Reading stops at the filter's read high watermark exactly,
// and the underlying stops reading meanwhile.
//
// # Rate limits
//
// SetRateLimit gives a BufferEvent token buckets, one per direction, from
// a TokenBucketConfig: every tick adds the rate's worth of bytes, up to
// the burst, and each read or write from the socket takes at most what is
// left (and at most the SetMaxSingleRead or SetMaxSingleWrite cap). A
// bucket may go below zero by what one read or write overshot. While a
// bucket is empty its direction is held: the read or write event leaves
// the loop (libevent's BEV_SUSPEND_BW) and a timer on the loop resumes it
// once a tick refilled the bucket; no goroutine is involved, and a held
// connection costs the loop nothing until then. Read timeouts do not run
// while reading is held, as in libevent.
//
// A RateLimitGroup is one pair of buckets that its members share: each
// read or write of a member takes at most its share, the group's bucket
// divided by the number of members but at least the minimum share
// (SetMinShare, 64 bytes by default). When the group's bucket is empty
// every member is held, and the group's periodic timer resumes them, in
// an order starting at a random member, once it holds the minimum share
// again. A member stops at its next read or write with nothing moved
// (libevent stops the members it could lock at once, the others so);
// removing the limit, leaving the group, or freeing it resumes at once.
//
// Limits count the bytes that cross the socket. On a TLS BufferEvent that
// is ciphertext, the handshake and record overhead included, as
// libevent's OpenSSL BufferEvent counts the bytes of its socket BIO.
//
// # Differences from libevent
//
// Buffer is a growable ring, not a chain of chunks (see Buffer); what
// AddReference and AddFile add follows the ring's data in order, and
// Peek, Search and ReadLine over it copy it into the ring. Buffer
// callbacks are immediate, except that changes a BufferEvent makes to its
// own buffers are reported after its step, with no lock held (libevent
// runs them at once with the BufferEvent's recursive lock held); there is
// no EVBUFFER_CB_NODEFER nor evbuffer_defer_callbacks. A TLS BufferEvent
// on a socket (NewTLS) freezes its buffers as a socket one does, where
// libevent's OpenSSL one does not; a TLS filter's, like any filter's, are
// not frozen. Read returns only a count. TLS is crypto/tls, not OpenSSL;
// Free sends close_notify, where libevent leaves SSL_shutdown to the
// program, and a TLS filter's end of the underlying's stream is told from
// close_notify by crypto/tls, where libevent reports every EOF of the
// underlying as an error unless dirty shutdowns are allowed. A RateLimitGroup's
// Free takes its members out instead of requiring it to be empty; a zero
// minimum share counts as one byte. New and SetFd make a blocking
// descriptor non-blocking (libevent leaves that to the caller, and a
// blocking socket would stall its loop).
//
// Pairs and filters move data from the loop, in the iteration after the
// call that made it movable, where libevent moves it inside that call;
// that is why a pair does not force DeferCallbacks as libevent's does.
// Freeing a pair end reports Reading|EOF to the other, where libevent
// reports nothing. A FilterFunc returning FilterError is reported as
// Reading|Error or Writing|Error (Err is ErrFilter), where libevent drops
// the result; filter functions run with no lock held, where libevent
// holds the filter's. A pair's or filter's write timeout runs only while
// Output holds data, where libevent's generic one also fires on an idle
// one; FlushFlush moves all of a pair's Output, where libevent moves only
// up to the reader's high watermark when the reader is below it.
package bufferevent
