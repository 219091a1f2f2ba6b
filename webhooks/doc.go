// Package webhooks sends the inbox's signed webhooks: the signature of the Standard Webhooks
// specification, an HTTP client that refuses private addresses at connect time, and the
// dispatcher that turns outbox rows (store.Delivery) into WebhookDelivery workflows. The
// events themselves are recorded by the store, in the transaction of the change that
// causes them; the retries are Temporal's.
package webhooks
