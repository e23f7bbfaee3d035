//! atdata-crypto (work in progress)
