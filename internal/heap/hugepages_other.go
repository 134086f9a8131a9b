//go:build !linux

package heap

// ReserveHugePages does nothing outside Linux and returns 0.
func ReserveHugePages(size int64) int64 { return 0 }
