package pixel_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/mizani/reconcile"
	"github.com/mizani/reconcile/sources"
	"github.com/mizani/reconcile/sources/pixel"
	"github.com/mizani/reconcile/sources/sourcetest"
)

// TestConformance runs the conformance suite against Pixel's registration
// and simulator. No PIXEL_CURRENCY is set: a callback's amount is read in
// its ledger entry's currency, and with none (as here) in its channel's
// (2162, M-Pesa Kenya: KES); status answers carry no amount at all.
func TestConformance(t *testing.T) {
	t.Parallel()
	sourcetest.Run(t, sourcetest.Harness{
		Provider:   pixel.Provider,
		KeyEnv:     pixel.EnvSecretKey,
		Currencies: []reconcile.Currency{"XOF", "KES"},
		Kinds:      []reconcile.Kind{reconcile.KindPayment, reconcile.KindPayout},
		Encode:     encode,
		Expected: func(t *testing.T, env *sourcetest.Env, w reconcile.Window, src reconcile.Source) []sourcetest.Expected {
			var out []sourcetest.Expected
			for _, tx := range env.Sim.(*pixel.Simulator).Transactions() {
				if !w.Contains(tx.At) {
					continue
				}
				status, _ := pixel.NormalizeStatus(tx.Status)
				// A status answer reports no amount.
				out = append(out, sourcetest.Expected{Kind: tx.Kind(), TxID: tx.TransactionID, MerchantRef: tx.OrderID, Status: status})
			}
			return out
		},
		Refs: func(t *testing.T, env *sourcetest.Env, w reconcile.Window) []sources.StatusRef {
			var out []sources.StatusRef
			for _, tx := range env.Sim.(*pixel.Simulator).Transactions() {
				if w.Contains(tx.At) {
					out = append(out, sources.StatusRef{MerchantRef: tx.OrderID, Direction: tx.Kind().Direction(),
						Currency: tx.Currency, At: tx.At})
				}
			}
			return out
		},
		Webhooks: []sourcetest.Webhook{
			{
				Name:     "c2b callback, intended form",
				Request:  callback(17, "C2B-1", "1100", intended),
				Want:     []sourcetest.Expected{{Kind: reconcile.KindPayment, TxID: "T-C2B-1", MerchantRef: "C2B-1", Amount: kes(110000), AmountKnown: true, Status: reconcile.StatusSucceeded}},
				Unsigned: unsigned,
			},
			{
				Name:     "b2c callback, intended form",
				Request:  callback(16, "B2C-1", "500.00", intended),
				Want:     []sourcetest.Expected{{Kind: reconcile.KindPayout, TxID: "T-B2C-1", MerchantRef: "B2C-1", Amount: kes(50000), AmountKnown: true, Status: reconcile.StatusSucceeded}},
				Unsigned: unsigned,
			},
			{
				// Signed as the vendor's PHP sample literally signs: the
				// nested result contributes nothing, so its content is not
				// covered.
				Name:     "c2b callback, vendor sample's literal form",
				Request:  callback(17, "C2B-2", "200", literal),
				Want:     []sourcetest.Expected{{Kind: reconcile.KindPayment, TxID: "T-C2B-2", MerchantRef: "C2B-2", Amount: kes(20000), AmountKnown: true, Status: reconcile.StatusSucceeded}},
				Signed:   outsideNested,
				Unsigned: unsigned,
			},
		},
		ZoneLess: func(t *testing.T, wall time.Time) ([]byte, reconcile.Source) {
			return []byte(`{"order_id":"Z1","transaction_id":"TZ1","transaction_ref":"","status":2,"result":{"code":0,"message":"OK"},` +
				`"service_id":1,"service_date_time":"` + wall.Format("2006-01-02 15:04:05.000000") + `","confirm_type":0}`), reconcile.SourceStatus
		},
		Malformed: []sourcetest.Malformed{
			{Name: "status request, not an answer", Body: `{"merchant_id":"m","order_id":"O1","signature":"s"}`, Want: "result"},
			{Name: "no order_id", Body: `{"transaction_id":"T1","status":2,"result":{"code":0},"service_date_time":"2026-03-02 10:00:00"}`, Want: "order_id"},
			{Name: "operation type 18", Body: `{"operation_type":18,"order_id":"O1","status":2,"amount":1}`, Want: "operation_type"},
			{Name: "negative amount", Body: `{"operation_type":17,"order_id":"O1","status":2,"amount":"-1"}`, Want: "amount"},
			{Name: "status not a number", Body: `{"order_id":"O1","status":"ok","result":{"code":0},"service_date_time":"2026-03-02 10:00:00"}`, Want: "status"},
		},
	})
}

func kes(minor int64) reconcile.Money { return reconcile.Money{Minor: minor, Currency: "KES"} }

// encode writes fixtures in the simulator's fixture format (pixel.Tx).
func encode(t *testing.T, fixtures []sourcetest.Fixture) []byte {
	var b bytes.Buffer
	for i, f := range fixtures {
		op := "c2b"
		if f.Kind == reconcile.KindPayout {
			op = "b2c"
		}
		tx := pixel.Tx{OrderID: f.ID, Operation: op, TransactionID: "T-" + f.ID, TransactionRef: fmt.Sprintf("MP.F%04d", i),
			Status: pixel.StatusSuccess, Amount: major(f.Amount), Currency: f.Amount.Currency, CustomerID: "254700000001",
			ProviderID: 2162, MerchantID: f.Account, At: f.At}
		line, err := json.Marshal(tx)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(append(line, '\n'))
	}
	return b.Bytes()
}

// major writes m in major units with the currency's digits.
func major(m reconcile.Money) string {
	exp, _ := m.Currency.Exponent()
	s := strconv.FormatInt(m.Minor, 10)
	if exp == 0 {
		return s
	}
	for len(s) <= int(exp) {
		s = "0" + s
	}
	return s[:len(s)-int(exp)] + "." + s[len(s)-int(exp):]
}

type form int

const (
	intended form = iota
	literal
)

// callback returns a Pixel callback of operation op, signed with key in
// the given form, as a delivery to path.
func callback(op int, order, amount string, f form) func(key, path string) sources.Request {
	return func(key, path string) sources.Request {
		body := []byte(`{"merchant_id":"` + pixel.SandboxMerchantID + `","operation_type":` + strconv.Itoa(op) +
			`,"customer_id":"254700000001","amount":"` + amount + `","order_id":"` + order + `","transaction_id":"T-` + order +
			`","transaction_ref":"QR555RQ","status":2,"provider_id":2162,"destination_id":"","result":{"code":0,"message":"OK"},` +
			`"service_id":1,"service_version":"1.01/1.27","service_date_time":"2026-03-02 10:08:32.832969"}`)
		c, err := pixel.Canonicalize(body)
		if err != nil {
			panic(err)
		}
		s := c.Intended
		if f == literal {
			s = c.Literal
		}
		sig := pixel.Sign(key, s)
		signed := append(body[:len(body)-1:len(body)-1], []byte(`,"signature":"`+sig+`"}`)...)
		return sources.Request{Method: "POST", Path: path, Header: map[string][]string{"Content-Type": {"application/json"}}, Body: signed}
	}
}

// unsigned removes the signature field.
func unsigned(r sources.Request) sources.Request {
	i := bytes.Index(r.Body, []byte(`,"signature":"`))
	body := append(bytes.Clone(r.Body[:i]), '}')
	r.Body = body
	return r
}

// outsideNested is every byte of a literal-form callback but its nested
// objects, keys included, which that form does not cover.
func outsideNested(body []byte) [][2]int {
	var spans [][2]int
	start, depth, key := 0, 0, 0
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			if !inString && depth == 1 {
				key = i
			}
			inString = !inString
		case inString:
		case c == '{':
			depth++
			if depth == 2 {
				spans = append(spans, [2]int{start, key})
			}
		case c == '}':
			if depth == 2 {
				start = i + 1
			}
			depth--
		}
	}
	return append(spans, [2]int{start, len(body)})
}
