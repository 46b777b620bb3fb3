package reports

import (
	"bytes"
	"encoding/csv"
	"testing"
)

// TestAppendCSVField holds the row formatter to encoding/csv's output for
// fields that need quoting and fields that do not.
func TestAppendCSVField(t *testing.T) {
	t.Parallel()
	fields := []string{
		"", "plain", "1,500.00", `say "hi"`, `"`, `""`, "a\nb", "a\r\nb", "\r", `\.`, `\..`,
		" leading space", "\tleading tab", "\u00a0no-break space", "trailing space ", "ünïcödé, with comma",
		"'=SUM(A1)", "+254*****9999", "end\"", "\u2028line separator",
	}
	for _, f := range fields {
		var want bytes.Buffer
		w := csv.NewWriter(&want)
		if err := w.Write([]string{f, "x"}); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		got := append(appendCSVField(nil, f), ",x\n"...)
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("field %q: got %q, encoding/csv writes %q", f, got, want.Bytes())
		}
	}
}
