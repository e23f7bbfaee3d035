//! did:plc operations and audit logs.
