//! Stripe webhooks (`POST /hooks/stripe`): `Stripe-Signature` checked with the endpoint
//! secret from the keychain, then the event goes to the ledger like a polled one.
