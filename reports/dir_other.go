//go:build !unix

package reports

import "os"

// lockDir is flock(2) where there is none: a work directory is never known
// to be a dead run's, so RemoveLeftovers leaves them all.
func lockDir(f *os.File, wait bool) (bool, error) { return wait, nil }
