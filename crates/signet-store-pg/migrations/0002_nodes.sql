-- Several daemons on one database (issue 16): every lease names the node that holds it, so a
-- node starting up frees only the leases of nodes that are gone (no connection to the server
-- under their `application_name`, `signet/<node>`), never a live peer's.
ALTER TABLE memory_jobs ADD COLUMN leased_by text;
ALTER TABLE summary_jobs ADD COLUMN leased_by text;
