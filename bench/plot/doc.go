// Command plot turns the raw result lines of levent's echo benchmark
// (bench/echo.sh) into the tables of BENCHMARKS.md and the bar chart
// bench/echo.png.
//
//	plot -in raw.txt [-md tables.md] [-png echo.png]
//
// Each input line holds space-separated key=value tokens: scenario=,
// server= and rep= written by echo.sh, then echoload's result line (see
// bench/cmd/echoload). Lines starting with '#' and tokens without '=' are
// skipped. Scenarios and servers keep the order of their first
// appearance.
//
// For each scenario and server the tables give medians over the
// repetitions (element floor((n-1)/2) of the sorted values, as
// bench/SPEC.md takes percentiles), the min–max of msgs/s, the ratios of
// medians to the -base server (libevent) and to the -ceiling server (raw
// epoll), and the server's CPU time per message. A last section checks the
// -subject server (levent-bev) against its targets: more msgs/s than each
// of -rivals in every scenario, server CPU per message within -cpu-ratio of
// the ceiling's, and at most -idle-bytes of memory per idle connection.
//
// The chart is drawn with the standard library alone (image/png and a
// built-in 5x7 pixel font): one panel per scenario, a bar per server at its
// median msgs/s, a line from min to max.
package main
