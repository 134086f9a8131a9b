package store

import (
	"errors"
	"os"
	"syscall"
)

// datasync makes f's data durable with fdatasync, which skips the inode's
// timestamps: a write-ahead log that is overwritten in place, as SQLite
// reuses its log after each checkpoint, then syncs without a journal
// commit of the file system.
func datasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
