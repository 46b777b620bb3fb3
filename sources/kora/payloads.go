package kora

import "encoding/json"

// The wire shapes of what Kora sends. Only the fields Mizani maps are
// declared; the raw payload keeps the rest. Amounts stay json.RawMessage so
// they are read exactly whether Kora writes a number (10, in charge
// responses and webhooks) or a string ("5000.00", in the pay-ins history).
// The voucher object of a charge response carries the voucher's PIN: it is
// deliberately not declared, so it never reaches a Record, a log or an error.

// envelope is the outermost object of every Kora payload: an API response
// ({status, message, data}), a pay-ins page ({has_more, data}) or a webhook
// ({event, data}).
type envelope struct {
	Event   string          `json:"event"`
	Status  json.RawMessage `json:"status"`
	Message string          `json:"message"`
	HasMore json.RawMessage `json:"has_more"`
	Pointer json.RawMessage `json:"pointer"`
	Data    json.RawMessage `json:"data"`
}

// listing is the data of a pay-ins response when it is wrapped in the usual
// {status, message, data} response: {has_more, pointer, data: [...]}.
type listing struct {
	HasMore json.RawMessage `json:"has_more"`
	Pointer json.RawMessage `json:"pointer"`
	Data    json.RawMessage `json:"data"`
}

// charge is one transaction: the data of a voucher charge response (document
// 001), of a charge verification (GET /charges/{reference}), a row of the
// pay-ins history, or the data of a webhook.
type charge struct {
	Reference            string          `json:"reference"`
	PaymentReference     string          `json:"payment_reference"`
	TransactionReference string          `json:"transaction_reference"`
	Status               string          `json:"status"`
	Currency             string          `json:"currency"`
	Amount               json.RawMessage `json:"amount"`
	AmountPaid           json.RawMessage `json:"amount_paid"`
	AmountExpected       json.RawMessage `json:"amount_expected"`
	Fee                  json.RawMessage `json:"fee"`
	VAT                  json.RawMessage `json:"vat"`
	MerchantBearsCost    json.RawMessage `json:"merchant_bears_cost"`
	PaymentMethod        string          `json:"payment_method"`
	TransactionDate      string          `json:"transaction_date"`
	DateCompleted        string          `json:"date_completed"`
	DateCreated          string          `json:"date_created"`
	CreatedAt            string          `json:"created_at"`
	Pointer              json.RawMessage `json:"pointer"`
	// Voucher is only looked at for being there (the payment method of a
	// voucher charge response); its fields, the PIN among them, are not read.
	Voucher  json.RawMessage `json:"voucher"`
	Customer struct {
		Email       string `json:"email"`
		PhoneNumber string `json:"phone_number"`
		Phone       string `json:"phone"`
	} `json:"customer"`
}
