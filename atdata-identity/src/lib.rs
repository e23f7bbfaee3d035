//! AT Protocol identity: handles and DIDs resolved, verified both ways, and cached.
//!
//! (Work in progress: see issue 11.)

pub mod plc;
