-- Who realised the case (that person may not hand its letter over), and who may collect
-- it: the requester (the director, by name), the user, or the proxy named with F-01.
ALTER TABLE deliveries
    ADD COLUMN realised_by text,
    ADD COLUMN director_name text,
    ADD COLUMN proxy_name text,
    ADD COLUMN proxy_f01_reference text;
