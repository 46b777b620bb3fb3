package webhook_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/internal/parsefuzz"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/ikhokha"
	"github.com/mizani/reconcile/sources/kopokopo"
	"github.com/mizani/reconcile/sources/kora"
	"github.com/mizani/reconcile/sources/pixel"
	"github.com/mizani/reconcile/sources/providers"
)

// fuzzSigner signs a body as one provider does, for the verifier its
// registration builds from env.
type fuzzSigner struct {
	env map[string]string
	// sign returns the request as the provider would send body to path,
	// false when the provider could not have signed body.
	sign func(path string, body []byte) (sources.Request, bool)
	// header is the signature header, "" when the signature is in the body.
	header string
	same   parsefuzz.Same
	// seeds is the folder of the provider's vendor examples.
	seeds string
}

// fuzzSigners holds a signer for every registered provider: a provider added
// to sources/providers without one fails FuzzVerifyParse at once.
var fuzzSigners = map[reconcile.Provider]fuzzSigner{
	kopokopo.Name: {
		env: map[string]string{kopokopo.EnvAPIKey: "fuzz-k2-api-key"},
		sign: func(path string, body []byte) (sources.Request, bool) {
			h := http.Header{}
			h.Set(kopokopo.SignatureHeader, kopokopo.ComputeSignature("fuzz-k2-api-key", body))
			return sources.Request{Method: http.MethodPost, Path: path, Header: h, Body: body}, true
		},
		header: kopokopo.SignatureHeader, same: parsefuzz.Identical, seeds: "../kopokopo/testdata/vendor",
	},
	pixel.Name: {
		env: map[string]string{pixel.EnvSecretKey: "fuzz-pixel-secret", pixel.EnvCurrency: "XOF"},
		sign: func(path string, body []byte) (sources.Request, bool) {
			if bytes.Contains(body, []byte(`"signature"`)) {
				return sources.Request{}, false
			}
			if _, err := pixel.Canonicalize(body); err != nil {
				return sources.Request{}, false
			}
			signed, err := pixel.Signed("fuzz-pixel-secret", body)
			if err != nil {
				return sources.Request{}, false
			}
			return sources.Request{Method: http.MethodPost, Path: path, Header: http.Header{}, Body: signed}, true
		},
		same: parsefuzz.SameJSON(func(b []byte) ([]byte, error) {
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(b, &fields); err != nil {
				return nil, err
			}
			delete(fields, pixel.SignatureField)
			return json.Marshal(fields)
		}),
		seeds: "../pixel/testdata/vendor",
	},
	ikhokha.Name: {
		env: map[string]string{ikhokha.EnvAppID: "fuzz-app", ikhokha.EnvAppSecret: "fuzz-ik-secret"},
		sign: func(path string, body []byte) (sources.Request, bool) {
			h := http.Header{}
			h.Set(ikhokha.HeaderAppID, "fuzz-app")
			h.Set(ikhokha.HeaderSign, ikhokha.Sign("fuzz-ik-secret", path, body))
			return sources.Request{Method: http.MethodPost, Path: path, Header: h, Body: body}, true
		},
		header: ikhokha.HeaderSign, same: parsefuzz.Identical, seeds: "../ikhokha/testdata/vendor",
	},
	kora.Name: {
		env: map[string]string{kora.EnvSecretKey: "sk_test_fuzz_kora"},
		sign: func(path string, body []byte) (sources.Request, bool) {
			data, err := kora.DataMember(body)
			if err != nil {
				return sources.Request{}, false
			}
			var c bytes.Buffer
			if json.Compact(&c, data) != nil {
				return sources.Request{}, false
			}
			h := http.Header{}
			h.Set(kora.SignatureHeader, kora.Sign("sk_test_fuzz_kora", c.Bytes()))
			return sources.Request{Method: http.MethodPost, Path: path, Header: h, Body: body}, true
		},
		header: kora.SignatureHeader, same: parsefuzz.SameJSON(func(b []byte) ([]byte, error) { return kora.DataMember(b) }),
		seeds: "../kora/testdata",
	},
}

// FuzzVerifyParse runs what serve does with a delivery, short of storing
// it, for every registered provider: the provider's verifier and parser as
// its registration builds them from the environment. Any body, signed as
// the provider signs, is accepted, and refused once a byte of what was
// signed changes; what the parser makes of it keeps the parser contract
// (parsefuzz.CheckParse), so serve answers 400, never 500, for a bad
// payload. Seeded with every provider's vendor examples and demo payloads.
func FuzzVerifyParse(f *testing.F) {
	type served struct {
		name     reconcile.Provider
		signer   fuzzSigner
		verifier sources.Verifier
		parser   sources.Parser
		secrets  []string
	}
	var all []served
	for _, p := range providers.All {
		s, ok := fuzzSigners[p.Name]
		if !ok {
			f.Fatalf("provider %s is registered but FuzzVerifyParse has no signer for it", p.Name)
		}
		cfg := p.ConfigFrom(func(k string) (string, bool) { v, ok := s.env[k]; return v, ok })
		v, err := p.Verifier(cfg)
		if err != nil {
			f.Fatalf("%s: verifier: %v", p.Name, err)
		}
		parser, err := p.Parser(cfg)
		if err != nil {
			f.Fatalf("%s: parser: %v", p.Name, err)
		}
		var secrets []string
		for _, e := range p.Env {
			if e.Secret {
				secrets = append(secrets, s.env[e.Name])
			}
		}
		all = append(all, served{p.Name, s, v, parser, secrets})
		for _, b := range parsefuzz.Seeds(f, p.Name, s.seeds) {
			f.Add(b, uint(len(b)/2), byte(1))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, pos uint, xor byte) {
		for _, s := range all {
			req, ok := s.signer.sign("/webhooks/"+string(s.name), body)
			if !ok {
				continue
			}
			parsefuzz.CheckSigned(t, s.verifier, req, s.signer.header, s.secrets, s.signer.same, pos, xor)
			payload, recs, err := s.parser.Parse(req.Body, reconcile.SourceWebhook)
			parsefuzz.CheckParse(t, s.name, req.Body, reconcile.SourceWebhook, payload, recs, err)
		}
	})
}
