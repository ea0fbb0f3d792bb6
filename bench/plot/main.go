package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("plot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "raw result lines (`file`; - for standard input)")
	md := fs.String("md", "", "write the Markdown tables to `file` (- for standard output)")
	pngOut := fs.String("png", "", "write the chart to `file`")
	title := fs.String("title", "levent echo benchmark", "chart title")
	var t targets
	fs.StringVar(&t.subject, "subject", "levent-bev", "the server whose targets are checked")
	rivals := fs.String("rivals", "gnet,nbio,gonet,libevent", "comma-separated servers the subject must beat in msgs/s")
	fs.StringVar(&t.base, "base", "libevent", "server for the first ratio column")
	fs.StringVar(&t.ceiling, "ceiling", "epoll", "server for the second ratio column and the CPU target")
	fs.Float64Var(&t.cpuRatio, "cpu-ratio", 1.10, "the subject's CPU per message at most this times the ceiling's")
	fs.Float64Var(&t.idleBytes, "idle-bytes", 512, "the subject's memory per idle connection at most this")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *in == "" || (*md == "" && *pngOut == "") {
		fmt.Fprintln(stderr, "plot: need -in, and -md or -png")
		return 2
	}
	if *rivals != "" {
		t.rivals = strings.Split(*rivals, ",")
	}
	if err := render(*in, *md, *pngOut, *title, t); err != nil {
		fmt.Fprintln(stderr, "plot:", err)
		return 1
	}
	return 0
}

func render(in, md, pngOut, title string, t targets) error {
	var raw []byte
	var err error
	if in == "-" {
		raw, err = io.ReadAll(os.Stdin)
	} else {
		raw, err = os.ReadFile(in)
	}
	if err != nil {
		return err
	}
	r, err := parse(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if len(r.scenarios) == 0 {
		return fmt.Errorf("%s: no results", in)
	}
	outputs := []struct {
		path  string
		write func(io.Writer) error
	}{
		{md, func(w io.Writer) error { return writeReport(w, r, t) }},
		{pngOut, func(w io.Writer) error { return writeChart(w, r, title) }},
	}
	for _, o := range outputs {
		if o.path == "" {
			continue
		}
		var b bytes.Buffer
		if err := o.write(&b); err != nil {
			return err
		}
		if err := writeOut(o.path, b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

func writeOut(path string, data []byte) error {
	if path == "-" {
		_, err := os.Stdout.Write(data)
		return err
	}
	return os.WriteFile(path, data, 0o644)
}
