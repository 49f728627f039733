//! The till room: tax rates and how a sale is priced (taxes, discounts), receipts and the
//! printers they go to, and the till's days (float, counted cash, X and Z reports).

pub mod day;
pub mod printer;
pub mod receipt;
pub mod tax;
pub mod taxes;
