package kopokopo

import "encoding/json"

// The wire shapes of the payloads Kopo Kopo sends (vendor document 004). Only
// the fields Mizani maps are declared; the raw payload keeps the rest.
// Amounts stay json.RawMessage so they are read exactly, whether a string
// ("500.0"), a number (780) or null.

// envelope is the outermost object: a webhook event ({topic, id, event}) or an
// API result ({data: {id, type, attributes}}).
type envelope struct {
	Topic     string          `json:"topic"`
	ID        string          `json:"id"`
	CreatedAt json.RawMessage `json:"created_at"` // when Kopo Kopo raised the event
	Event     *webhookEvent   `json:"event"`
	Data      json.RawMessage `json:"data"`
}

type webhookEvent struct {
	Type     string          `json:"type"`
	Resource json.RawMessage `json:"resource"`
}

// result is the {data: {id, type, attributes}} shape of every API result.
type result struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Attributes json.RawMessage `json:"attributes"`
}

// transaction is a Buygoods, B2B (external till to till) or M2M resource.
// Which sender field is set depends on the kind.
type transaction struct {
	ID                string          `json:"id"`
	Reference         string          `json:"reference"`
	Status            string          `json:"status"`
	OriginationTime   string          `json:"origination_time"`
	Amount            json.RawMessage `json:"amount"`
	Currency          string          `json:"currency"`
	TillNumber        string          `json:"till_number"`
	System            string          `json:"system"`
	SenderPhoneNumber string          `json:"sender_phone_number"` // buygoods
	SendingTill       string          `json:"sending_till"`        // b2b
	SendingMerchant   string          `json:"sending_merchant"`    // m2m
}

// settlementTransfer is the resource of a settlement_transfer_completed webhook.
type settlementTransfer struct {
	ID              string          `json:"id"`
	Amount          json.RawMessage `json:"amount"`
	Status          string          `json:"status"`
	Currency        string          `json:"currency"`
	OriginationTime string          `json:"origination_time"`
	Destination     struct {
		Type     string `json:"type"`
		Resource struct {
			Reference string `json:"reference"`
		} `json:"resource"`
	} `json:"destination"`
	Disbursements []disbursement `json:"disbursements"`
}

// disbursement is one movement of money inside a transfer batch.
type disbursement struct {
	Amount               json.RawMessage `json:"amount"`
	Status               string          `json:"status"`
	OriginationTime      string          `json:"origination_time"`
	DestinationType      string          `json:"destination_type"`
	DestinationReference string          `json:"destination_reference"`
	TransactionReference string          `json:"transaction_reference"` // M-PESA code; null for EFT
}

type transferBatch struct {
	Status        string         `json:"status"`
	Disbursements []disbursement `json:"disbursements"`
}

// amountObject is the {currency, value} amount of results and requests.
type amountObject struct {
	Currency string          `json:"currency"`
	Value    json.RawMessage `json:"value"`
}

// metadata is the merchant's own key-value pairs echoed back in results.
// reference is what the merchant sent; it may be a JSON string or number.
type metadata struct {
	Reference json.RawMessage `json:"reference"`
}

// incomingPaymentAttrs are the attributes of an incoming payment (STK push)
// result or status; event.resource is null until the payment succeeds.
type incomingPaymentAttrs struct {
	InitiationTime string `json:"initiation_time"`
	Status         string `json:"status"`
	Event          struct {
		Resource *transaction `json:"resource"`
	} `json:"event"`
	Metadata metadata `json:"metadata"`
}

// transferAttrs are the attributes of a settlement transfer result and of a
// payment (PAY) result. The flat reference, origination_time and destination
// fields are listed in the document's Payment Result table though its
// examples carry them inside transfer_batches; both are read.
type transferAttrs struct {
	Status          string          `json:"status"`
	CreatedAt       string          `json:"created_at"`
	Amount          amountObject    `json:"amount"`
	TransferBatches []transferBatch `json:"transfer_batches"`
	Metadata        metadata        `json:"metadata"`
	Reference       string          `json:"reference"`
	OriginationTime string          `json:"origination_time"`
	Destination     string          `json:"destination"`
}

// pollingAttrs are the attributes of a polling result.
type pollingAttrs struct {
	Status       string `json:"status"`
	Transactions []struct {
		Type     string          `json:"type"`
		Resource json.RawMessage `json:"resource"`
	} `json:"transactions"`
}
