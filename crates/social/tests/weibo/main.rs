//! Integration tests of `shopcast_social::weibo` against `stub`, a local Weibo that follows
//! the documented wire format (no Weibo server exists in any registry).

mod publish;
mod sign_in;
mod stub;
