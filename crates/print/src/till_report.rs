//! The till's X and Z reports as a PDF: sales per method, refunds, tax per rate, discounts,
//! expected and counted cash.
