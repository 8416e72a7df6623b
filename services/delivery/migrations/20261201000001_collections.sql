-- In-person collection: who took the printed letter of a case, as the operator at the desk
-- recorded it. Only the kind of identity document and its last four characters are kept,
-- never the whole number. One row per case: a letter is handed over once.
CREATE TABLE collections (
    case_number       text PRIMARY KEY REFERENCES deliveries (case_number),
    collected_by      text NOT NULL CHECK (collected_by IN ('requester', 'user', 'proxy')),
    person_name       text NOT NULL CHECK (length(btrim(person_name)) > 0),
    -- The written authorisation (form F-01) a proxy brought; only a proxy has one.
    f01_reference     text,
    id_document_type  text NOT NULL CHECK (id_document_type IN ('dowod_osobisty', 'paszport', 'other')),
    id_document_last4 text NOT NULL CHECK (id_document_last4 ~ '^[A-Z0-9]{4}$'),
    -- The operator (or administrator) who handed it over, from the signed token.
    operator_login    text NOT NULL,
    collected_at      timestamptz NOT NULL,
    CONSTRAINT collections_f01_exactly_for_a_proxy
        CHECK ((collected_by = 'proxy') = (f01_reference IS NOT NULL))
);

-- The desk's list and the expiry worker look only at letters still waiting.
CREATE INDEX deliveries_awaiting_collection ON deliveries (expires_at)
    WHERE status = 'awaiting_collection';
