//! How a sale is priced: each line's discount, net, tax and gross in minor units, rounded
//! per line, for prices with or without tax.
