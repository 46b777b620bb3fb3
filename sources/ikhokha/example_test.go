package ikhokha_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/ikhokha"
)

// TestPublishedExampleClient runs a Node client written as iKhokha's own
// published example (testdata/ikpay_example.js) against the simulator under
// a sandbox prefix: it creates a link, reads its status and reads history,
// signing the path+body as the example does (and, with --csharp, as the C#
// and Dart examples do). It fails when node is not installed.
func TestPublishedExampleClient(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is required for this test (iKhokha's example client is Node): %v", err)
	}
	env := startSim(t, sources.SimOptions{Seed: 4, CallbackDelay: time.Hour})
	for _, tt := range []struct{ name, flag, ext string }{
		{"Node example signing", "", "NODE-1"},
		{"C# and Dart example signing", "--csharp", "CSHARP-1"},
	} {
		args := []string{"testdata/ikpay_example.js"}
		if tt.flag != "" {
			args = append(args, tt.flag)
		}
		args = append(args, tt.ext)
		cmd := exec.Command(node, args...)
		for k, v := range env.sim.ClientEnv(env.url) {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: node: %v\n%s", tt.name, err, stderr.String())
		}
		calls := map[string]json.RawMessage{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct {
				Call     string          `json:"call"`
				Response json.RawMessage `json:"response"`
			}
			if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
				t.Fatalf("%s: output line %q: %v", tt.name, sc.Text(), err)
			}
			calls[line.Call] = line.Response
		}
		var created ikhokha.CreatedLink
		if err := json.Unmarshal(calls["createPaylink"], &created); err != nil || created.PaylinkID == "" || created.ExternalTransactionID != tt.ext {
			t.Fatalf("%s: createPaylink answered %s (%v)", tt.name, calls["createPaylink"], err)
		}
		_, recs, err := ikhokha.Parser{}.Parse(calls["getStatusById"], reconcile.SourceStatus)
		if err != nil || len(recs) != 1 || recs[0].ProviderRef != created.PaylinkID || recs[0].Amount != zar(200) || recs[0].Status != reconcile.StatusPending {
			t.Errorf("%s: getStatusById answered %s: %+v %v", tt.name, calls["getStatusById"], recs, err)
		}
		_, recs, err = ikhokha.Parser{}.Parse(calls["getPaymentHistory"], reconcile.SourcePoll)
		found := false
		for _, r := range recs {
			found = found || r.ProviderRef == created.PaylinkID
		}
		if err != nil || !found {
			t.Errorf("%s: history does not list the new link %s (%v): %s", tt.name, created.PaylinkID, err, strings.TrimSpace(string(calls["getPaymentHistory"]))[:min(300, len(calls["getPaymentHistory"]))])
		}
	}
}

// TestSignMatchesNode: Sign computes what iKhokha's Node example computes,
// byte for byte, for a body with every character the escaping touches.
func TestSignMatchesNode(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is required for this test: %v", err)
	}
	const script = `const crypto = require("crypto");
const [path, body, key] = process.argv.slice(1);
const payload = (path + body).replace(/[\\"']/g, "\\$&").replace(/\u0000/g, "\\0");
process.stdout.write(crypto.createHmac("sha256", key.trim()).update(payload, "utf8").digest("hex"));`
	tests := []struct{ path, body, key string }{
		{"/public-api/v1/api/payment", `{"amount":200,"description":"O'Brien \"quoted\" \\ back — rand"}`, "  key-with-spaces "},
		{"/ikhokha/getStatus/PL123", "", "k"},
		{"/ikhokha/payments/history", "", "another key"},
	}
	for _, tt := range tests {
		out, err := exec.Command(node, "-e", script, tt.path, tt.body, tt.key).Output()
		if err != nil {
			t.Fatalf("node: %v", err)
		}
		if got := ikhokha.Sign(tt.key, tt.path, []byte(tt.body)); got != string(out) {
			t.Errorf("Sign(%q, %q) = %s, Node example computes %s", tt.path, tt.body, got, out)
		}
	}
}
