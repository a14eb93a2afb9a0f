"""Who may do what: accounts, run access, the audit log, run imports and the server-wide queue."""
