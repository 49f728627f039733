//! EAN-13 (and UPC-A as EAN-13 with a leading zero) barcodes: check digits and the bar
//! pattern, drawn as vector bars on labels.
