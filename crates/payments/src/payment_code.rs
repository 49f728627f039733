//! Whose payment code (付款码) the cashier scanned: Alipay's start 25–30, WeChat Pay's 10–15
//! and are 18 digits; anything else gets a plain sentence.
