-- Who pruned a segment (the signed-in auditor or administrator); earlier prunes name no one.
ALTER TABLE audit_pruned_segments ADD COLUMN pruned_by text;
