//! The shop's named tax rates (the tax_rates table): add, list, the default, and the rate
//! a product is sold at.
