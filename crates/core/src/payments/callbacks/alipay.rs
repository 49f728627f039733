//! Alipay asynchronous notifications (`POST /hooks/alipay`): RSA2-verified, matched to the
//! order (app_id, out_trade_no, amount), recorded; the reply `success` only after the commit.
