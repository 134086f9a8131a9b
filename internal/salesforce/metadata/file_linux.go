package metadata

import (
	"fmt"
	"io/fs"
	"syscall"
)

// readFileFast reads a file the directory listing showed as regular with
// plain system calls: open, fstat, read, close. It skips the stat by path
// and the runtime poller registration os.Open does, which cost more than the
// read for small metadata files. The checks are those of readFile, done on
// the open descriptor: the file must be regular and at most maxSize bytes,
// and the read is bounded in case it grows. O_NONBLOCK keeps the open from
// waiting should the entry have been replaced by a FIFO since the listing;
// fstat then rejects it. ok is false when the caller should read the file
// the portable way.
func readFileFast(path string, regular bool, maxSize int64) (data []byte, ok bool, err error) {
	if !regular {
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
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, true, readErr(err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, true, fmt.Errorf("not a regular file (%s)", fileType(st.Mode))
	}
	if st.Size > maxSize {
		return nil, true, tooLarge(st.Size, maxSize)
	}
	buf := make([]byte, 0, min(st.Size, maxSize)+1)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > maxSize {
				return nil, true, fmt.Errorf("%w: file is over the %s limit", ErrTooLarge, formatSize(maxSize))
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, true, readErr(err)
		}
		if n == 0 {
			break
		}
		buf = buf[:len(buf)+n]
	}
	if int64(len(buf)) > maxSize {
		return nil, true, fmt.Errorf("%w: file is over the %s limit", ErrTooLarge, formatSize(maxSize))
	}
	return buf, true, nil
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
