//go:build unix

package reports

import (
	"errors"
	"os"
	"syscall"
)

// lockDir takes an exclusive flock(2) on the open directory f: waiting for
// it when wait is set, else reporting false at once if another process (or
// another open of it) holds it. The lock goes when f is closed or its
// process ends.
func lockDir(f *os.File, wait bool) (bool, error) {
	how := syscall.LOCK_EX
	if !wait {
		how |= syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case !wait && errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		default:
			return false, err
		}
	}
}
