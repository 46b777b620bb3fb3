package reports

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
)

// writeCanonical writes the workbook to w byte for byte the same for the
// same content. excelize writes the zip's parts in the iteration order of a
// map, and the default content types in [Content_Types].xml likewise, so two
// writes of the same workbook differ in their bytes though not in any part.
// The workbook is written to a temporary file, and its parts copied to w
// sorted by name — compressed bytes as they are, without recompressing —
// with the content types sorted.
func (x *XLSX) writeCanonical(w io.Writer) error {
	tmp, err := os.CreateTemp(x.tmpDir, ".report-*.xlsx")
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	if err := x.f.Write(tmp); err != nil {
		return err
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	return canonicalZip(tmp, size, w)
}

// canonicalZip copies the zip archive in r to w with its entries sorted by
// name and [Content_Types].xml canonical.
func canonicalZip(r io.ReaderAt, size int64, w io.Writer) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return err
	}
	files := slices.Clone(zr.File)
	slices.SortFunc(files, func(a, b *zip.File) int { return strings.Compare(a.Name, b.Name) })
	zw := zip.NewWriter(w)
	for _, f := range files {
		if f.Name == "[Content_Types].xml" {
			if err := copyContentTypes(zw, f); err != nil {
				return err
			}
			continue
		}
		raw, err := f.OpenRaw()
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		h := f.FileHeader
		dst, err := zw.CreateRaw(&h)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
		if _, err := io.Copy(dst, raw); err != nil {
			return fmt.Errorf("%s: %w", f.Name, err)
		}
	}
	return zw.Close()
}

// contentType is one <Default …/> or <Override …/> element.
var contentType = regexp.MustCompile(`<(Default|Override)\s[^>]*?(/>|></(Default|Override)>)`)

// copyContentTypes writes f, [Content_Types].xml, with its Default and
// Override elements sorted.
func copyContentTypes(zw *zip.Writer, f *zip.File) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return err
	}
	locs := contentType.FindAllIndex(data, -1)
	if len(locs) > 0 {
		start, end := locs[0][0], locs[len(locs)-1][1]
		var defaults, overrides []string
		contiguous := true
		for i, l := range locs {
			if i > 0 && l[0] != locs[i-1][1] {
				contiguous = false
			}
			e := string(data[l[0]:l[1]])
			if strings.HasPrefix(e, "<Default") {
				defaults = append(defaults, e)
			} else {
				overrides = append(overrides, e)
			}
		}
		if contiguous {
			slices.Sort(defaults)
			slices.Sort(overrides)
			var b bytes.Buffer
			b.Write(data[:start])
			b.WriteString(strings.Join(defaults, ""))
			b.WriteString(strings.Join(overrides, ""))
			b.Write(data[end:])
			data = b.Bytes()
		}
	}
	h := f.FileHeader
	h.CompressedSize64, h.UncompressedSize64, h.CRC32 = 0, 0, 0
	dst, err := zw.CreateHeader(&h)
	if err != nil {
		return err
	}
	_, err = dst.Write(data)
	return err
}
