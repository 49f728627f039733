//! A sale's receipt: what it shows (shop, lines, discounts, tax per rate, payment, a QR),
//! built from the order and its payment, as PDF or ESC/POS.
