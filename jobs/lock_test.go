package jobs

import (
	"testing"
	"time"

	"github.com/mizani/reconcile"
)

func TestRunLockKey(t *testing.T) {
	w := reconcile.Window{From: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)}
	key := func(ps ...reconcile.Provider) string {
		c := RunConfig{Window: w, Providers: ps}
		return c.lockKey()
	}
	all := key()
	tests := []struct {
		name      string
		providers []reconcile.Provider
		sameAsAll bool
	}{
		{"every provider named", reconcile.Providers, true},
		{"every provider, reordered and repeated", []reconcile.Provider{reconcile.Kora, reconcile.KopoKopo, reconcile.Pixel, reconcile.IKhokha, reconcile.Kora}, true},
		{"one provider", []reconcile.Provider{reconcile.KopoKopo}, false},
		{"all but one", reconcile.Providers[1:], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := key(tt.providers...); (got == all) != tt.sameAsAll {
				t.Errorf("lock key %q; the key of a run of every provider is %q", got, all)
			}
		})
	}
	if key(reconcile.Pixel, reconcile.KopoKopo) != key(reconcile.KopoKopo, reconcile.Pixel, reconcile.KopoKopo) {
		t.Error("the same providers in another order take another lock")
	}
}
