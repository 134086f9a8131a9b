//go:build !linux

package heap

// ReserveHugePages does nothing outside Linux and returns 0.
func ReserveHugePages(size int) int { return 0 }
