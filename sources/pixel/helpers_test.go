package pixel

import (
	"os"
	"path/filepath"
)

// readVendor reads a vendor example (testdata/vendor, copied from the
// vendor documents' JSON examples).
func readVendor(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", "vendor", name))
}
