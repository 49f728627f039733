//! Receipts: a sale laid out for a 58 mm or 80 mm roll or A4 as PDF, and as an ESC/POS
//! byte stream for thermal printers (GB18030 text, raster logo, QR, cut, drawer kick).
