package main

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	schema "github.com/mizani/reconcile/sql"
)

// TestMigrateCommand walks the embedded migrations down one by one and up
// again, as an operator would, then shows that any command migrates an empty
// schema itself.
func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	c := newStoreCLI(t) // migrated already
	files, err := fs.Glob(schema.Migrations, "migrations/*.sql")
	if err != nil || len(files) < 2 {
		t.Fatalf("embedded migrations: %v %v", files, err)
	}
	slices.Sort(files)
	type step struct {
		args     []string
		code     int
		want     string
		inStderr bool
	}
	steps := []step{{[]string{"migrate"}, exitOK, "schema is up to date", false}}
	version := func(f string) string { return strings.TrimPrefix(f, "migrations/")[:5] }
	for _, f := range files {
		steps = append(steps, step{[]string{"migrate", "status"}, exitOK,
			fmt.Sprintf("%s  applied  %s", version(f), strings.TrimPrefix(f, "migrations/")), false})
	}
	for i := len(files) - 1; i >= 0; i-- {
		steps = append(steps,
			step{[]string{"migrate", "down"}, exitOK, "rolled back migration " + version(files[i]), false},
			step{[]string{"migrate", "status"}, exitOK, fmt.Sprintf("%s  pending  %s", version(files[i]), strings.TrimPrefix(files[i], "migrations/")), false})
	}
	var applied []string
	for _, f := range files {
		applied = append(applied, "applied migration "+version(f))
	}
	steps = append(steps,
		step{[]string{"migrate", "up"}, exitOK, strings.Join(applied, "\n"), false},
		step{[]string{"migrate", "sideways"}, exitBadInput, `invalid argument "sideways"`, true})
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
	for range files {
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
