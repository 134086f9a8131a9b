package metadata

import (
	"fmt"
	"io/fs"
	"syscall"
)

// readFileFast reads a file the directory listing showed as regular with
// plain system calls, for a small file just three: open, one read into
// scratch, close. It skips the stat by path and the runtime poller
// registration os.Open does, which cost more than the read for small
// metadata files. A read of a regular file returns fewer bytes than asked
// only at its end, so a first read that does not fill scratch has read the
// whole file. Otherwise, and when the read gives nothing or fails, fstat on
// the open descriptor does the checks of readFile: the file must be regular
// and at most maxSize bytes, and the rest of the read is bounded in case it
// grows. O_NONBLOCK keeps the open from waiting should the entry have been
// replaced by a FIFO since the listing; its read then gives nothing and
// fstat rejects it. ok is false when the caller should read the file the
// portable way. The data returned never shares memory with scratch.
func readFileFast(path string, regular bool, maxSize int64, scratch []byte) (data []byte, ok bool, err error) {
	if !regular || len(scratch) == 0 {
		return nil, false, nil
	}
	var fd int
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, true, readErr(err)
	}
	defer syscall.Close(fd)
	n, err := readFD(fd, scratch)
	if err == nil && n > 0 && n < len(scratch) {
		if int64(n) > maxSize {
			return nil, true, tooLarge(int64(n), maxSize)
		}
		return append([]byte(nil), scratch[:n]...), true, nil
	}
	// A large file, an empty one, or a read that failed: check the open
	// file before going on.
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, true, readErr(err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, true, fmt.Errorf("not a regular file (%s)", fileType(st.Mode))
	}
	if err != nil {
		return nil, true, readErr(err)
	}
	if st.Size > maxSize {
		return nil, true, tooLarge(st.Size, maxSize)
	}
	buf := make([]byte, n, max(min(st.Size, maxSize)+1, int64(n)+1))
	copy(buf, scratch[:n])
	for n > 0 {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > maxSize {
				return nil, true, fmt.Errorf("%w: file is over the %s limit", ErrTooLarge, formatSize(maxSize))
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err = readFD(fd, buf[len(buf):cap(buf)])
		if err != nil {
			return nil, true, readErr(err)
		}
		buf = buf[:len(buf)+n]
	}
	if int64(len(buf)) > maxSize {
		return nil, true, fmt.Errorf("%w: file is over the %s limit", ErrTooLarge, formatSize(maxSize))
	}
	return buf, true, nil
}

// readFD is one read(2) into p, retried when interrupted.
func readFD(fd int, p []byte) (int, error) {
	for {
		n, err := syscall.Read(fd, p)
		if err != syscall.EINTR {
			return max(n, 0), err
		}
	}
}

// fileType names the type bits of a stat mode as fs.FileMode prints them.
func fileType(mode uint32) fs.FileMode {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFDIR:
		return fs.ModeDir
	case syscall.S_IFLNK:
		return fs.ModeSymlink
	case syscall.S_IFIFO:
		return fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		return fs.ModeSocket
	case syscall.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		return fs.ModeDevice
	}
	return fs.ModeIrregular
}
