package main

import (
	"errors"
	"io/fs"
	"mime"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// Static files.
//
// A path under /static/ is decoded (%XX escapes), refused with 403 if a
// segment is "..", cleaned, and opened under the root so that it cannot
// lead outside it, not even through a symbolic link: on Linux in one
// system call, openat2 with RESOLVE_BENEATH relative to a descriptor of
// the root (the kernel refuses any escape with EXDEV); elsewhere, or on a
// kernel without openat2, by resolving the links with
// filepath.EvalSymlinks and checking that the result is under the root.
// Files are opened non-blocking, so that a FIFO put under the root cannot
// stall the loop; anything but a regular file is 403.

// static answers GET and HEAD for a file under the root: its headers now,
// its contents through sendFile.
func (c *conn) static(rel []byte) {
	if !c.getOrHead() {
		return
	}
	name, status := cleanStatic(rel)
	if status != 0 {
		c.status(status, "")
		return
	}
	f, status := c.srv.openStatic(name)
	if status != 0 {
		c.status(status, "")
		return
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
		f.Close()
		c.status(fileError(err), "")
		return
	case !fi.Mode().IsRegular():
		f.Close()
		c.status(statusForbidden, "") // directories are not listed
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	c.w.buf = appendHead(c.w.buf, statusOK, ctype, fi.Size(), c.connHeader(), c.srv.date[:], "")
	if c.req.method == mHEAD || fi.Size() == 0 {
		f.Close()
		return
	}
	c.file, c.fileLeft = f, fi.Size()
}

// cleanStatic turns the part of a path after /static/ into a clean
// relative name ("." for the root itself), or an error status.
func cleanStatic(rel []byte) (string, int) {
	dec, err := url.PathUnescape(string(rel))
	if err != nil || strings.IndexByte(dec, 0) >= 0 {
		return "", statusBadRequest
	}
	for _, seg := range strings.Split(dec, "/") {
		if seg == ".." {
			return "", statusForbidden
		}
	}
	clean := path.Clean("/" + dec)
	if clean == "/" {
		return ".", 0
	}
	return clean[1:], 0
}

// openStatic opens name, a clean relative name, under the root.
func (s *server) openStatic(name string) (*os.File, int) {
	if s.rootFd >= 0 {
		f, supported, err := openBeneath(s.rootFd, name)
		if supported {
			if err != nil {
				return nil, fileError(err)
			}
			return f, 0
		}
	}
	full, err := filepath.EvalSymlinks(filepath.Join(s.root, name))
	if err != nil {
		return nil, fileError(err)
	}
	if full != s.root && !strings.HasPrefix(full, s.root+string(filepath.Separator)) {
		return nil, statusForbidden
	}
	f, err := os.OpenFile(full, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fileError(err)
	}
	return f, 0
}

// fileError maps an error opening a file to a status.
func fileError(err error) int {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return statusNotFound
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EXDEV), errors.Is(err, syscall.ELOOP):
		return statusForbidden // EXDEV: openat2 refused to leave the root
	}
	return statusServerError
}
