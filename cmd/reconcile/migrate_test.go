package main

import (
	"strings"
	"testing"
)

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	c := newStoreCLI(t) // migrated already
	steps := []struct {
		args     []string
		code     int
		want     string
		inStderr bool
	}{
		{[]string{"migrate"}, exitOK, "schema is up to date", false},
		{[]string{"migrate", "status"}, exitOK, "00001  applied  00001_initial.sql", false},
		{[]string{"migrate", "status"}, exitOK, "00002  applied  00002_stream_order.sql", false},
		{[]string{"migrate", "down"}, exitOK, "rolled back migration 00002", false},
		{[]string{"migrate", "status"}, exitOK, "00002  pending  00002_stream_order.sql", false},
		{[]string{"migrate", "down"}, exitOK, "rolled back migration 00001", false},
		{[]string{"migrate", "status"}, exitOK, "00001  pending  00001_initial.sql", false},
		{[]string{"migrate", "up"}, exitOK, "applied migration 00001\napplied migration 00002", false},
		{[]string{"migrate", "sideways"}, exitBadInput, `invalid argument "sideways"`, true},
	}
	for _, s := range steps {
		code, out, errs := c.run(s.args...)
		got := out
		if s.inStderr {
			got = errs
		}
		if code != s.code || !strings.Contains(got, s.want) {
			t.Fatalf("%v: exit %d\nstdout %s\nstderr %s\nwant exit %d and %q", s.args, code, out, errs, s.code, s.want)
		}
	}
	// Any command migrates an empty database itself, and says so.
	for range 2 {
		if code, _, _ := c.run("migrate", "down"); code != exitOK {
			t.Fatal("down")
		}
	}
	if code, out, errs := c.run("migrate", "down"); code != exitOK || !strings.Contains(out, "nothing to roll back") {
		t.Fatalf("down on an empty schema: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs := c.run("bank", "import", "--file", c.write("b.csv", "date,amount,currency,reference,description\n2026-03-02,1,KES,R,\n"))
	if code != exitOK || !strings.Contains(errs, "migrated the store") || !strings.Contains(out, "imported 1 new") {
		t.Fatalf("import on an empty schema: exit %d\n%s%s", code, out, errs)
	}
}
