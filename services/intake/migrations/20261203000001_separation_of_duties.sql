-- Who registered an operator's request (that person may not realise it), and the
-- requester's agreement to collection in person, recorded by someone other than the
-- realiser, with the proxy he authorised with F-01, if any.
ALTER TABLE cases
    ADD COLUMN registered_by text,
    ADD COLUMN delivery_agreed_by text,
    ADD COLUMN delivery_agreed_at timestamptz,
    ADD COLUMN delivery_agreement text,
    ADD COLUMN proxy_name text,
    ADD COLUMN proxy_f01_reference text;
