-- A row that carries a sealed secret is deleted, not kept, once published.
ALTER TABLE kit_outbox ADD COLUMN transient boolean NOT NULL DEFAULT false;
